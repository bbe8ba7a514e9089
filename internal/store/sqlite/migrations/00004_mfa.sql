-- +goose Up
-- sessions.amr: how the session's user proved who they are, as RFC 8176
-- method names in a JSON array (["pwd"], ["pwd","otp","mfa"]); a step-up
-- adds to it. A session from before this migration says nothing ([]),
-- which counts as the lowest assurance.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE sessions DROP COLUMN amr;
