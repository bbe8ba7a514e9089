-- +goose Up
-- sessions.amr: how the session's user proved who they are, as RFC 8176
-- method names in a JSON array (["pwd"], ["pwd","otp","mfa"]); a step-up
-- adds to it. A session from before this migration says nothing ([]),
-- which counts as the lowest assurance.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '[]';

-- totp_factors: authenticator apps. The secret is sealed with the master
-- key (AES-GCM). expires_at bounds an unconfirmed enrollment and is NULL
-- once confirmed; last_step is the last accepted RFC 6238 time step.
CREATE TABLE IF NOT EXISTS totp_factors (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL DEFAULT '',
    sealed_secret BLOB NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    confirmed_at  INTEGER,
    last_step     INTEGER NOT NULL DEFAULT 0,
    last_used_at  INTEGER
);
CREATE INDEX IF NOT EXISTS totp_factors_user_id ON totp_factors (user_id, created_at);
CREATE INDEX IF NOT EXISTS totp_factors_expires_at ON totp_factors (expires_at) WHERE expires_at IS NOT NULL;

-- recovery_codes: keyed hashes (HMAC under a key derived from the master
-- key) of a user's current set; used_at marks a spent one.
CREATE TABLE IF NOT EXISTS recovery_codes (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash       BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER,
    PRIMARY KEY (user_id, hash)
) WITHOUT ROWID;

-- mfa_challenges: sign-ins that proved their first factor and wait for
-- the second; only the SHA-256 of the mfa_token is kept.
CREATE TABLE IF NOT EXISTS mfa_challenges (
    id          TEXT PRIMARY KEY,
    hash        BLOB NOT NULL UNIQUE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    amr         TEXT NOT NULL DEFAULT '[]',
    audit_type  TEXT NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    consumed_at INTEGER
);
CREATE INDEX IF NOT EXISTS mfa_challenges_user_id ON mfa_challenges (user_id);
CREATE INDEX IF NOT EXISTS mfa_challenges_expires_at ON mfa_challenges (expires_at);

-- +goose Down
DROP TABLE IF EXISTS mfa_challenges;
DROP TABLE IF EXISTS recovery_codes;
DROP TABLE IF EXISTS totp_factors;
ALTER TABLE sessions DROP COLUMN amr;
