-- +goose Up
-- email_tokens: the keyed hashes of the link token and code that a mail
-- carries. A user has at most one unconsumed token per purpose (a new one
-- replaces it); the link hash finds a token, and (purpose, email) the
-- tokens that a code may be meant for.
CREATE TABLE IF NOT EXISTS email_tokens (
    id          text COLLATE "C" PRIMARY KEY,
    user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose     text NOT NULL,
    email       text NOT NULL,
    link_hash   bytea NOT NULL,
    code_hash   bytea,
    attempts    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    consumed_at timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS email_tokens_link ON email_tokens (purpose, link_hash);
CREATE UNIQUE INDEX IF NOT EXISTS email_tokens_unconsumed ON email_tokens (user_id, purpose) WHERE consumed_at IS NULL;
CREATE INDEX IF NOT EXISTS email_tokens_email ON email_tokens (purpose, email) WHERE consumed_at IS NULL;
CREATE INDEX IF NOT EXISTS email_tokens_expires_at ON email_tokens (expires_at);
CREATE INDEX IF NOT EXISTS email_tokens_consumed_at ON email_tokens (consumed_at) WHERE consumed_at IS NOT NULL;

-- outbox: mails waiting to be sent, and for a while those that were sent
-- or given up. No foreign keys: a mail outlives its user (a deleted
-- account still gets its notice).
CREATE TABLE IF NOT EXISTS outbox (
    id              text COLLATE "C" PRIMARY KEY,
    kind            text NOT NULL,
    recipient       text NOT NULL,
    subject         text NOT NULL DEFAULT '',
    text_body       text NOT NULL DEFAULT '',
    html_body       text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    lease_until     timestamptz,
    sent_at         timestamptz,
    failed_at       timestamptz,
    last_error      text NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS outbox_queued ON outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX IF NOT EXISTS outbox_sent_at ON outbox (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS outbox_failed_at ON outbox (failed_at) WHERE failed_at IS NOT NULL;

-- +goose Down
DROP TABLE IF EXISTS outbox;
DROP TABLE IF EXISTS email_tokens;
