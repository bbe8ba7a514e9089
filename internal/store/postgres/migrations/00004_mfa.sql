-- +goose Up
-- sessions.amr: how the session's user proved who they are, as RFC 8176
-- method names ({pwd}, {pwd,otp,mfa}); a step-up adds to it. A session
-- from before this migration says nothing ({}), which counts as the
-- lowest assurance.
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS amr text[] NOT NULL DEFAULT '{}';

-- totp_factors: authenticator apps. The secret is sealed with the master
-- key (AES-GCM). expires_at bounds an unconfirmed enrollment and is NULL
-- once confirmed; last_step is the last accepted RFC 6238 time step.
CREATE TABLE IF NOT EXISTS totp_factors (
    id            text COLLATE "C" PRIMARY KEY,
    user_id       text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          text NOT NULL DEFAULT '',
    sealed_secret bytea NOT NULL,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz,
    confirmed_at  timestamptz,
    last_step     bigint NOT NULL DEFAULT 0,
    last_used_at  timestamptz
);
CREATE INDEX IF NOT EXISTS totp_factors_user_id ON totp_factors (user_id, created_at);
CREATE INDEX IF NOT EXISTS totp_factors_expires_at ON totp_factors (expires_at) WHERE expires_at IS NOT NULL;

-- recovery_codes: keyed hashes (HMAC under a key derived from the master
-- key) of a user's current set; used_at marks a spent one.
CREATE TABLE IF NOT EXISTS recovery_codes (
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash       bytea NOT NULL,
    created_at timestamptz NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (user_id, hash)
);

-- mfa_challenges: sign-ins that proved their first factor and wait for
-- the second; only the SHA-256 of the mfa_token is kept.
CREATE TABLE IF NOT EXISTS mfa_challenges (
    id          text COLLATE "C" PRIMARY KEY,
    hash        bytea NOT NULL UNIQUE,
    user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    amr         text[] NOT NULL DEFAULT '{}',
    audit_type  text NOT NULL DEFAULT '',
    attempts    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    consumed_at timestamptz
);
CREATE INDEX IF NOT EXISTS mfa_challenges_user_id ON mfa_challenges (user_id);
CREATE INDEX IF NOT EXISTS mfa_challenges_expires_at ON mfa_challenges (expires_at);

-- +goose Down
DROP TABLE IF EXISTS mfa_challenges;
DROP TABLE IF EXISTS recovery_codes;
DROP TABLE IF EXISTS totp_factors;
ALTER TABLE sessions DROP COLUMN IF EXISTS amr;
