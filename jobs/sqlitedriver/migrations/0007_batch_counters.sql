-- Batch counters and the firing index (issue #21). A batch keeps its
-- member counts (total, succeeded, dead) as counters, moved by the
-- transactions that add and record members, so that recording a flush of
-- outcomes no longer counts every member of a large batch. batches_firing
-- holds only the batches with a callback left firing, for the leader's
-- sweep, rather than every batch retained after it finished.
ALTER TABLE batches ADD COLUMN total     INTEGER NOT NULL DEFAULT 0;
ALTER TABLE batches ADD COLUMN succeeded INTEGER NOT NULL DEFAULT 0;
ALTER TABLE batches ADD COLUMN dead      INTEGER NOT NULL DEFAULT 0;

UPDATE batches SET
	total     = (SELECT count(*) FROM batch_members m WHERE m.batch_id = batches.id),
	succeeded = (SELECT count(*) FROM batch_members m WHERE m.batch_id = batches.id AND m.outcome = 's'),
	dead      = (SELECT count(*) FROM batch_members m WHERE m.batch_id = batches.id AND m.outcome = 'x');

CREATE INDEX batches_firing ON batches (firing_at)
	WHERE complete = 'firing' OR success = 'firing';
