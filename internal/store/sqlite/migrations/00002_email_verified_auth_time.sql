-- +goose Up
-- users.email_verified_at: when the address was last proven (NULL: never).
-- sessions.auth_time: when the user last proved who they are in the
-- session; a session started before this migration last did so at its
-- sign-in. (SQLite adds a NOT NULL column only with a default; every
-- session written since carries its own value.)
ALTER TABLE users ADD COLUMN email_verified_at INTEGER;
ALTER TABLE sessions ADD COLUMN auth_time INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET auth_time = created_at;

-- +goose Down
ALTER TABLE sessions DROP COLUMN auth_time;
ALTER TABLE users DROP COLUMN email_verified_at;
