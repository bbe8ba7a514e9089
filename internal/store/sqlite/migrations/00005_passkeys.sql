-- +goose Up
-- passkeys: users' WebAuthn credentials. A credential ID belongs to one
-- account only (the unique index), whoever registers it second. The
-- backup flags are NULL for a credential registered before they were
-- recorded: the next sign-in records them rather than refusing.
CREATE TABLE IF NOT EXISTS passkeys (
    id               TEXT PRIMARY KEY,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id    BLOB NOT NULL,
    public_key       BLOB NOT NULL,
    aaguid           BLOB NOT NULL,
    sign_count       INTEGER NOT NULL DEFAULT 0,
    transports       TEXT NOT NULL DEFAULT '[]',
    backup_eligible  INTEGER,
    backed_up        INTEGER,
    attestation_type TEXT NOT NULL DEFAULT '',
    name             TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    last_used_at     INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS passkeys_credential_id ON passkeys (credential_id);
CREATE INDEX IF NOT EXISTS passkeys_user ON passkeys (user_id, created_at);

-- passkey_challenges: the challenges of WebAuthn ceremonies in flight,
-- by their SHA-256. Kept on the server (not sealed into the browser's
-- hands) because a challenge must be spent once: the finish deletes the
-- row, and a replay finds none. A registration's is bound to the user
-- and session that began it.
CREATE TABLE IF NOT EXISTS passkey_challenges (
    hash       BLOB PRIMARY KEY,
    purpose    TEXT NOT NULL,
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    session_id TEXT NOT NULL DEFAULT '',
    name       TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS passkey_challenges_expires_at ON passkey_challenges (expires_at);

-- +goose Down
DROP TABLE IF EXISTS passkey_challenges;
DROP TABLE IF EXISTS passkeys;
