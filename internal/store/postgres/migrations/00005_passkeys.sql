-- +goose Up
-- passkeys: users' WebAuthn credentials. A credential ID belongs to one
-- account only (the unique index), whoever registers it second. The
-- backup flags are NULL for a credential registered before they were
-- recorded: the next sign-in records them rather than refusing.
CREATE TABLE IF NOT EXISTS passkeys (
    id               text COLLATE "C" PRIMARY KEY,
    user_id          text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id    bytea NOT NULL,
    public_key       bytea NOT NULL,
    aaguid           bytea NOT NULL,
    sign_count       bigint NOT NULL DEFAULT 0,
    transports       text[] NOT NULL DEFAULT '{}',
    backup_eligible  boolean,
    backed_up        boolean,
    attestation_type text NOT NULL DEFAULT '',
    name             text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL,
    last_used_at     timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS passkeys_credential_id ON passkeys (credential_id);
CREATE INDEX IF NOT EXISTS passkeys_user ON passkeys (user_id, created_at);

-- passkey_challenges: the challenges of WebAuthn ceremonies in flight,
-- by their SHA-256. Kept on the server (not sealed into the browser's
-- hands) because a challenge must be spent once: the finish deletes the
-- row, and a replay finds none. A registration's is bound to the user
-- and session that began it.
CREATE TABLE IF NOT EXISTS passkey_challenges (
    hash       bytea PRIMARY KEY,
    purpose    text NOT NULL,
    user_id    text REFERENCES users (id) ON DELETE CASCADE,
    session_id text NOT NULL DEFAULT '',
    name       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS passkey_challenges_expires_at ON passkey_challenges (expires_at);

-- +goose Down
DROP TABLE IF EXISTS passkey_challenges;
DROP TABLE IF EXISTS passkeys;
