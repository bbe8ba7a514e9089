-- +goose Up
-- Times are INTEGER microseconds since the Unix epoch, UTC.
-- Roles and scopes are JSON arrays of strings.
CREATE TABLE IF NOT EXISTS users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',
    roles         TEXT NOT NULL DEFAULT '[]',
    disabled      INTEGER NOT NULL DEFAULT 0,
    password_hash TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '',
    cookie_hash  BLOB UNIQUE
);
CREATE INDEX IF NOT EXISTS sessions_user_id ON sessions (user_id, created_at);
CREATE INDEX IF NOT EXISTS sessions_expires_at ON sessions (expires_at);
CREATE INDEX IF NOT EXISTS sessions_revoked_at ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS refresh_tokens (
    hash             BLOB PRIMARY KEY,
    session_id       TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    used_at          INTEGER,
    sealed_successor BLOB
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS refresh_tokens_session_id ON refresh_tokens (session_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_user_id ON refresh_tokens (user_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_expires_at ON refresh_tokens (expires_at);

CREATE TABLE IF NOT EXISTS api_keys (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL DEFAULT '',
    prefix       TEXT NOT NULL DEFAULT '',
    hash         BLOB NOT NULL UNIQUE,
    scopes       TEXT NOT NULL DEFAULT '[]',
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX IF NOT EXISTS api_keys_user_id ON api_keys (user_id, created_at);

CREATE TABLE IF NOT EXISTS identities (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider   TEXT NOT NULL,
    subject    TEXT NOT NULL,
    email      TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    UNIQUE (provider, subject)
);
CREATE INDEX IF NOT EXISTS identities_user_id ON identities (user_id);

CREATE TABLE IF NOT EXISTS one_time_codes (
    hash       BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider   TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS one_time_codes_user_id ON one_time_codes (user_id);
CREATE INDEX IF NOT EXISTS one_time_codes_expires_at ON one_time_codes (expires_at);

CREATE TABLE IF NOT EXISTS signing_keys (
    id             TEXT PRIMARY KEY,
    algorithm      TEXT NOT NULL,
    state          TEXT NOT NULL,
    public_key     BLOB NOT NULL,
    sealed_private BLOB NOT NULL,
    created_at     INTEGER NOT NULL,
    activated_at   INTEGER,
    retired_at     INTEGER
);

-- Audit events keep user, session and key IDs as plain text, without
-- foreign keys: the log outlives what it describes.
CREATE TABLE IF NOT EXISTS audit_events (
    id         TEXT PRIMARY KEY,
    occurred_at INTEGER NOT NULL,
    type       TEXT NOT NULL,
    user_id    TEXT NOT NULL DEFAULT '',
    session_id TEXT NOT NULL DEFAULT '',
    api_key_id TEXT NOT NULL DEFAULT '',
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    outcome    TEXT NOT NULL DEFAULT '',
    reason     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_events_user_id ON audit_events (user_id, id);
CREATE INDEX IF NOT EXISTS audit_events_type ON audit_events (type, id);
CREATE INDEX IF NOT EXISTS audit_events_occurred_at ON audit_events (occurred_at);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE signing_keys;
DROP TABLE one_time_codes;
DROP TABLE identities;
DROP TABLE api_keys;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE users;
