-- +goose Up
-- sessions.amr: how the session's user proved who they are, as RFC 8176
-- method names ({pwd}, {pwd,otp,mfa}); a step-up adds to it. A session
-- from before this migration says nothing ({}), which counts as the
-- lowest assurance.
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS amr text[] NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE sessions DROP COLUMN IF EXISTS amr;
