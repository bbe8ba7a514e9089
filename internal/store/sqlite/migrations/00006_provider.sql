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

-- +goose Down
DROP TABLE IF EXISTS oauth_clients;
