-- +goose Up
-- audit_events_stats answers the activity chart (events per hour, type and
-- outcome over a time range) from the index alone, without reading the
-- rows. Its first column serves every query by time too (the retention
-- clean-up, the audit filters), so it replaces audit_events_occurred_at.
CREATE INDEX IF NOT EXISTS audit_events_stats ON audit_events (occurred_at, type, outcome);
DROP INDEX IF EXISTS audit_events_occurred_at;

-- +goose Down
CREATE INDEX IF NOT EXISTS audit_events_occurred_at ON audit_events (occurred_at);
DROP INDEX IF EXISTS audit_events_stats;
