-- +goose Up
-- users.email_verified_at: when the address was last proven (NULL: never).
-- sessions.auth_time: when the user last proved who they are in the
-- session; a session started before this migration last did so at its
-- sign-in.
ALTER TABLE users ADD COLUMN IF NOT EXISTS email_verified_at timestamptz;
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS auth_time timestamptz;
UPDATE sessions SET auth_time = created_at WHERE auth_time IS NULL;
ALTER TABLE sessions ALTER COLUMN auth_time SET NOT NULL;

-- +goose Down
ALTER TABLE sessions DROP COLUMN IF EXISTS auth_time;
ALTER TABLE users DROP COLUMN IF EXISTS email_verified_at;
