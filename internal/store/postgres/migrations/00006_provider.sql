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

-- oauth_auth_requests: authorization requests on their way through
-- sign-in and consent, then their code (only its SHA-256), kept after the
-- exchange so that a second exchange is recognised. params holds the
-- request's parameters as JSON.
CREATE TABLE IF NOT EXISTS oauth_auth_requests (
    id              text COLLATE "C" PRIMARY KEY,
    client_id       text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    params          text NOT NULL,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    user_id         text REFERENCES users (id) ON DELETE CASCADE,
    session_id      text NOT NULL DEFAULT '',
    auth_time       timestamptz,
    amr             text[] NOT NULL DEFAULT '{}',
    acr             text NOT NULL DEFAULT '',
    done_at         timestamptz,
    code_hash       bytea,
    code_expires_at timestamptz,
    code_used_at    timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS oauth_auth_requests_code ON oauth_auth_requests (code_hash) WHERE code_hash IS NOT NULL;
CREATE INDEX IF NOT EXISTS oauth_auth_requests_expires_at ON oauth_auth_requests (expires_at);

-- oauth_consents: a user's standing agreement to a third-party client.
CREATE TABLE IF NOT EXISTS oauth_consents (
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    scopes     text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
CREATE INDEX IF NOT EXISTS oauth_consents_client ON oauth_consents (client_id);

-- oauth_grants: what one authorization produced for a client; its tokens
-- point at it, so revoking it ends them all.
CREATE TABLE IF NOT EXISTS oauth_grants (
    id         text COLLATE "C" PRIMARY KEY,
    client_id  text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id text NOT NULL DEFAULT '',
    scopes     text[] NOT NULL DEFAULT '{}',
    audience   text[] NOT NULL DEFAULT '{}',
    auth_time  timestamptz NOT NULL,
    amr        text[] NOT NULL DEFAULT '{}',
    acr        text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX IF NOT EXISTS oauth_grants_user_client ON oauth_grants (user_id, client_id);
CREATE INDEX IF NOT EXISTS oauth_grants_client ON oauth_grants (client_id);
CREATE INDEX IF NOT EXISTS oauth_grants_expires_at ON oauth_grants (expires_at);

-- oauth_refresh_tokens: the provider's refresh tokens (SHA-256 only), in
-- families: a grant's tokens go with it.
CREATE TABLE IF NOT EXISTS oauth_refresh_tokens (
    hash             bytea PRIMARY KEY,
    grant_id         text NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    used_at          timestamptz,
    sealed_successor bytea
);
CREATE INDEX IF NOT EXISTS oauth_refresh_tokens_grant ON oauth_refresh_tokens (grant_id);
CREATE INDEX IF NOT EXISTS oauth_refresh_tokens_expires_at ON oauth_refresh_tokens (expires_at);

-- oauth_assertion_ids: the jti of every client assertion accepted, until
-- it expires, so that none is accepted twice (private_key_jwt).
CREATE TABLE IF NOT EXISTS oauth_assertion_ids (
    client_id  text NOT NULL,
    jti        text NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX IF NOT EXISTS oauth_assertion_ids_expires_at ON oauth_assertion_ids (expires_at);

-- oauth_device_codes: device authorizations (RFC 8628); the device code
-- and the user code are stored only as SHA-256 hashes.
CREATE TABLE IF NOT EXISTS oauth_device_codes (
    id               text COLLATE "C" PRIMARY KEY,
    client_id        text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    device_code_hash bytea NOT NULL UNIQUE,
    user_code_hash   bytea NOT NULL UNIQUE,
    scopes           text[] NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    last_polled_at   timestamptz,
    user_id          text REFERENCES users (id) ON DELETE CASCADE,
    session_id       text NOT NULL DEFAULT '',
    auth_time        timestamptz,
    amr              text[] NOT NULL DEFAULT '{}',
    acr              text NOT NULL DEFAULT '',
    approved_at      timestamptz,
    denied_at        timestamptz,
    consumed_at      timestamptz
);
CREATE INDEX IF NOT EXISTS oauth_device_codes_expires_at ON oauth_device_codes (expires_at);

-- oauth_resources: the resource servers (APIs) clients ask tokens for
-- (RFC 8707); a client lists those it may ask for (resources); an API key
-- may be bound to some (audiences) and is refused by every other service.
CREATE TABLE IF NOT EXISTS oauth_resources (
    id         text COLLATE "C" PRIMARY KEY,
    name       text NOT NULL,
    created_at timestamptz NOT NULL
);
ALTER TABLE oauth_clients ADD COLUMN IF NOT EXISTS resources text[] NOT NULL DEFAULT '{}';
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS audiences text[] NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE api_keys DROP COLUMN IF EXISTS audiences;
DROP TABLE IF EXISTS oauth_resources;
DROP TABLE IF EXISTS oauth_device_codes;
DROP TABLE IF EXISTS oauth_assertion_ids;
DROP TABLE IF EXISTS oauth_refresh_tokens;
DROP TABLE IF EXISTS oauth_grants;
DROP TABLE IF EXISTS oauth_consents;
DROP TABLE IF EXISTS oauth_auth_requests;
DROP TABLE IF EXISTS oauth_clients;
