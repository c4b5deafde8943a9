-- Where a model version's artifact is kept (its blob key) and the digest of
-- the labels it was trained on: the train job retrains only when the labels
-- changed since. Versions registered before kept the key in their metrics.
ALTER TABLE model_versions ADD COLUMN artifact_key TEXT NOT NULL DEFAULT '';
ALTER TABLE model_versions ADD COLUMN label_digest TEXT NOT NULL DEFAULT '';
UPDATE model_versions SET artifact_key = coalesce(json_extract(metrics, '$.artifact'), '')
    WHERE json_type(metrics, '$.artifact') = 'text';
CREATE INDEX model_versions_label_digest ON model_versions (kind, name, label_digest);
