-- +goose Up
-- audit_events_stats answers the activity chart (events per hour, type and
-- outcome over a time range) with an index-only scan. Its first column
-- serves every query by time too (the retention clean-up, the audit
-- filters), so it replaces audit_events_occurred_at.
--
-- Building it holds back writes to audit_events, and so sign-ins, for as
-- long as it takes. On a large audit log, build it beforehand without that
-- lock; this migration then finds it and skips the build:
--   CREATE INDEX CONCURRENTLY IF NOT EXISTS audit_events_stats ON audit_events (occurred_at, type, outcome);
CREATE INDEX IF NOT EXISTS audit_events_stats ON audit_events (occurred_at, type, outcome);
DROP INDEX IF EXISTS audit_events_occurred_at;

-- +goose Down
CREATE INDEX IF NOT EXISTS audit_events_occurred_at ON audit_events (occurred_at);
DROP INDEX IF EXISTS audit_events_stats;
