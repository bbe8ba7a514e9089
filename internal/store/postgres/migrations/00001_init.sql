-- +goose Up
-- Times are timestamptz (microseconds, UTC).
-- Roles and scopes are text[].
CREATE TABLE IF NOT EXISTS users (
    id            text COLLATE "C" PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    name          text NOT NULL DEFAULT '',
    roles         text[] NOT NULL DEFAULT '{}',
    disabled      boolean NOT NULL DEFAULT false,
    password_hash text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS sessions (
    id           text COLLATE "C" PRIMARY KEY,
    user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    ip           text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT '',
    cookie_hash  bytea UNIQUE
);
CREATE INDEX IF NOT EXISTS sessions_user_id ON sessions (user_id, created_at);
CREATE INDEX IF NOT EXISTS sessions_expires_at ON sessions (expires_at);
CREATE INDEX IF NOT EXISTS sessions_revoked_at ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS refresh_tokens (
    hash             bytea PRIMARY KEY,
    session_id       text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id          text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    used_at          timestamptz,
    sealed_successor bytea
);
CREATE INDEX IF NOT EXISTS refresh_tokens_session_id ON refresh_tokens (session_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_user_id ON refresh_tokens (user_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_expires_at ON refresh_tokens (expires_at);

CREATE TABLE IF NOT EXISTS api_keys (
    id           text COLLATE "C" PRIMARY KEY,
    user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL DEFAULT '',
    prefix       text NOT NULL DEFAULT '',
    hash         bytea NOT NULL UNIQUE,
    scopes       text[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX IF NOT EXISTS api_keys_user_id ON api_keys (user_id, created_at);

CREATE TABLE IF NOT EXISTS identities (
    id         text COLLATE "C" PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider   text NOT NULL,
    subject    text NOT NULL,
    email      text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    UNIQUE (provider, subject)
);
CREATE INDEX IF NOT EXISTS identities_user_id ON identities (user_id);

CREATE TABLE IF NOT EXISTS one_time_codes (
    hash       bytea PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider   text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS one_time_codes_user_id ON one_time_codes (user_id);
CREATE INDEX IF NOT EXISTS one_time_codes_expires_at ON one_time_codes (expires_at);

CREATE TABLE IF NOT EXISTS signing_keys (
    id             text COLLATE "C" PRIMARY KEY,
    algorithm      text NOT NULL,
    state          text NOT NULL,
    public_key     bytea NOT NULL,
    sealed_private bytea NOT NULL,
    created_at     timestamptz NOT NULL,
    activated_at   timestamptz,
    retired_at     timestamptz
);

-- Audit events keep user, session and key IDs as plain text, without
-- foreign keys: the log outlives what it describes.
CREATE TABLE IF NOT EXISTS audit_events (
    id         text COLLATE "C" PRIMARY KEY,
    occurred_at timestamptz NOT NULL,
    type       text NOT NULL,
    user_id    text NOT NULL DEFAULT '',
    session_id text NOT NULL DEFAULT '',
    api_key_id text NOT NULL DEFAULT '',
    ip         text NOT NULL DEFAULT '',
    user_agent text NOT NULL DEFAULT '',
    outcome    text NOT NULL DEFAULT '',
    reason     text NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_events_user_id ON audit_events (user_id, id);
CREATE INDEX IF NOT EXISTS audit_events_type ON audit_events (type, id);
CREATE INDEX IF NOT EXISTS audit_events_occurred_at ON audit_events (occurred_at);

-- +goose Down
DROP TABLE IF EXISTS audit_events;
DROP TABLE IF EXISTS signing_keys;
DROP TABLE IF EXISTS one_time_codes;
DROP TABLE IF EXISTS identities;
DROP TABLE IF EXISTS api_keys;
DROP TABLE IF EXISTS refresh_tokens;
DROP TABLE IF EXISTS sessions;
DROP TABLE IF EXISTS users;
