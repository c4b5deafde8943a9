-- How many times a job's lease ran out while it ran (jobtype.Job.Rescues):
-- the server sends a job rescued too often to the dead set rather than run
-- it again on one worker after another.
ALTER TABLE jobs ADD COLUMN rescues INTEGER NOT NULL DEFAULT 0;
