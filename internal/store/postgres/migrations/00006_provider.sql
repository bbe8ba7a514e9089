-- +goose Up
-- oauth_clients: the applications that sign users in through latchkey as
-- an OAuth 2.1 / OpenID Connect provider. Secrets are stored only as
-- SHA-256 hashes; during a rotation the previous hash stays valid until
-- previous_secret_expires_at.
CREATE TABLE IF NOT EXISTS oauth_clients (
    id                         text COLLATE "C" PRIMARY KEY,
    name                       text NOT NULL,
    type                       text NOT NULL,
    auth_method                text NOT NULL,
    secret_hash                bytea,
    previous_secret_hash       bytea,
    previous_secret_expires_at timestamptz,
    jwks                       text NOT NULL DEFAULT '',
    redirect_uris              text[] NOT NULL DEFAULT '{}',
    post_logout_redirect_uris  text[] NOT NULL DEFAULT '{}',
    grant_types                text[] NOT NULL DEFAULT '{}',
    scopes                     text[] NOT NULL DEFAULT '{}',
    first_party                boolean NOT NULL DEFAULT false,
    created_at                 timestamptz NOT NULL,
    updated_at                 timestamptz NOT NULL
);

-- +goose Down
DROP TABLE IF EXISTS oauth_clients;
