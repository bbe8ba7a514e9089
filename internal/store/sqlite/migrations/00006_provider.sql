-- +goose Up
-- oauth_clients: the applications that sign users in through latchkey as
-- an OAuth 2.1 / OpenID Connect provider. Secrets are stored only as
-- SHA-256 hashes; during a rotation the previous hash stays valid until
-- previous_secret_expires_at. Lists are JSON arrays.
CREATE TABLE IF NOT EXISTS oauth_clients (
    id                         TEXT PRIMARY KEY,
    name                       TEXT NOT NULL,
    type                       TEXT NOT NULL,
    auth_method                TEXT NOT NULL,
    secret_hash                BLOB,
    previous_secret_hash       BLOB,
    previous_secret_expires_at INTEGER,
    jwks                       TEXT NOT NULL DEFAULT '',
    redirect_uris              TEXT NOT NULL DEFAULT '[]',
    post_logout_redirect_uris  TEXT NOT NULL DEFAULT '[]',
    grant_types                TEXT NOT NULL DEFAULT '[]',
    scopes                     TEXT NOT NULL DEFAULT '[]',
    first_party                INTEGER NOT NULL DEFAULT 0,
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL
);

-- oauth_auth_requests: authorization requests on their way through
-- sign-in and consent, then their code (only its SHA-256), kept after the
-- exchange so that a second exchange is recognised. params holds the
-- request's parameters as JSON.
CREATE TABLE IF NOT EXISTS oauth_auth_requests (
    id              TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    params          TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    user_id         TEXT REFERENCES users (id) ON DELETE CASCADE,
    session_id      TEXT NOT NULL DEFAULT '',
    auth_time       INTEGER,
    amr             TEXT NOT NULL DEFAULT '[]',
    acr             TEXT NOT NULL DEFAULT '',
    done_at         INTEGER,
    code_hash       BLOB,
    code_expires_at INTEGER,
    code_used_at    INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS oauth_auth_requests_code ON oauth_auth_requests (code_hash) WHERE code_hash IS NOT NULL;
CREATE INDEX IF NOT EXISTS oauth_auth_requests_expires_at ON oauth_auth_requests (expires_at);

-- oauth_consents: a user's standing agreement to a third-party client.
CREATE TABLE IF NOT EXISTS oauth_consents (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
CREATE INDEX IF NOT EXISTS oauth_consents_client ON oauth_consents (client_id);

-- oauth_grants: what one authorization produced for a client; its tokens
-- point at it, so revoking it ends them all.
CREATE TABLE IF NOT EXISTS oauth_grants (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id TEXT NOT NULL DEFAULT '',
    scopes     TEXT NOT NULL DEFAULT '[]',
    audience   TEXT NOT NULL DEFAULT '[]',
    auth_time  INTEGER NOT NULL,
    amr        TEXT NOT NULL DEFAULT '[]',
    acr        TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX IF NOT EXISTS oauth_grants_user_client ON oauth_grants (user_id, client_id);
CREATE INDEX IF NOT EXISTS oauth_grants_client ON oauth_grants (client_id);
CREATE INDEX IF NOT EXISTS oauth_grants_expires_at ON oauth_grants (expires_at);

-- oauth_refresh_tokens: the provider's refresh tokens (SHA-256 only), in
-- families: a grant's tokens go with it.
CREATE TABLE IF NOT EXISTS oauth_refresh_tokens (
    hash             BLOB PRIMARY KEY,
    grant_id         TEXT NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    used_at          INTEGER,
    sealed_successor BLOB
);
CREATE INDEX IF NOT EXISTS oauth_refresh_tokens_grant ON oauth_refresh_tokens (grant_id);
CREATE INDEX IF NOT EXISTS oauth_refresh_tokens_expires_at ON oauth_refresh_tokens (expires_at);

-- oauth_assertion_ids: the jti of every client assertion accepted, until
-- it expires, so that none is accepted twice (private_key_jwt).
CREATE TABLE IF NOT EXISTS oauth_assertion_ids (
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX IF NOT EXISTS oauth_assertion_ids_expires_at ON oauth_assertion_ids (expires_at);

-- oauth_device_codes: device authorizations (RFC 8628); the device code
-- and the user code are stored only as SHA-256 hashes.
CREATE TABLE IF NOT EXISTS oauth_device_codes (
    id               TEXT PRIMARY KEY,
    client_id        TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    device_code_hash BLOB NOT NULL UNIQUE,
    user_code_hash   BLOB NOT NULL UNIQUE,
    scopes           TEXT NOT NULL DEFAULT '[]',
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    last_polled_at   INTEGER,
    user_id          TEXT REFERENCES users (id) ON DELETE CASCADE,
    session_id       TEXT NOT NULL DEFAULT '',
    auth_time        INTEGER,
    amr              TEXT NOT NULL DEFAULT '[]',
    acr              TEXT NOT NULL DEFAULT '',
    approved_at      INTEGER,
    denied_at        INTEGER,
    consumed_at      INTEGER
);
CREATE INDEX IF NOT EXISTS oauth_device_codes_expires_at ON oauth_device_codes (expires_at);

-- oauth_resources: the resource servers (APIs) clients ask tokens for
-- (RFC 8707); a client lists those it may ask for (resources); an API key
-- may be bound to some (audiences) and is refused by every other service.
CREATE TABLE IF NOT EXISTS oauth_resources (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
ALTER TABLE oauth_clients ADD COLUMN resources TEXT NOT NULL DEFAULT '[]';
ALTER TABLE api_keys ADD COLUMN audiences TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE api_keys DROP COLUMN audiences;
DROP TABLE IF EXISTS oauth_resources;
DROP TABLE IF EXISTS oauth_device_codes;
DROP TABLE IF EXISTS oauth_assertion_ids;
DROP TABLE IF EXISTS oauth_refresh_tokens;
DROP TABLE IF EXISTS oauth_grants;
DROP TABLE IF EXISTS oauth_consents;
DROP TABLE IF EXISTS oauth_auth_requests;
DROP TABLE IF EXISTS oauth_clients;
