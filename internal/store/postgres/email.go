package postgres

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

// CreateEmailToken replaces the user's unconsumed token of the purpose, if
// there is one, with t in one statement: the partial unique index on
// (user_id, purpose) of unconsumed tokens is the upsert's target. A
// concurrent creation waits for the other's commit and then replaces its
// token, so a user never holds two.
func (q *queries) CreateEmailToken(ctx context.Context, t *latchkey.EmailToken) error {
	return q.insert(ctx, "create email token", t.ID, `INSERT INTO email_tokens (`+sqlstore.EmailTokenCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (user_id, purpose) WHERE consumed_at IS NULL DO UPDATE SET
			id = excluded.id, email = excluded.email, link_hash = excluded.link_hash, code_hash = excluded.code_hash,
			attempts = excluded.attempts, created_at = excluded.created_at, expires_at = excluded.expires_at,
			consumed_at = excluded.consumed_at`,
		t.ID, t.UserID, t.Purpose, t.Email, t.LinkHash, nullBytes(t.CodeHash), t.Attempts, t.CreatedAt, t.ExpiresAt, t.ConsumedAt)
}

// ConsumeEmailTokenByLink is one conditional UPDATE: a concurrent one
// waits for the row lock and re-checks consumed_at against the committed
// row, so only the first caller consumes the token.
func (q *queries) ConsumeEmailTokenByLink(ctx context.Context, purpose string, linkHash []byte, now time.Time) (*latchkey.EmailToken, error) {
	if len(linkHash) == 0 {
		return nil, sqlstore.NotFound("Token")
	}
	return sqlstore.One(errs, "consume email token", "Token", q.q.QueryRow(ctx, `UPDATE email_tokens SET consumed_at = $1
		WHERE purpose = $2 AND link_hash = $3 AND consumed_at IS NULL AND expires_at > $1
		RETURNING `+sqlstore.EmailTokenCols, now, purpose, linkHash), scanEmailToken)
}

// ConsumeEmailTokenByCode checks the code and charges the attempt in one
// UPDATE: each row is locked, and its conditions (not consumed, attempts
// left) re-checked against the committed row, before the SET expressions
// read it; so a guess is tested only against a token that still had
// attempts left, and one right code wins.
func (q *queries) ConsumeEmailTokenByCode(ctx context.Context, purpose, email string, codeHash []byte, now time.Time, maxAttempts int) (*latchkey.EmailToken, error) {
	if len(codeHash) == 0 {
		return nil, sqlstore.NotFound("Token")
	}
	ts, err := sqlstore.List(ctx, errs, q.q.Query, "consume email token by code", `UPDATE email_tokens SET
			consumed_at = CASE WHEN code_hash = $1 THEN $2::timestamptz END,
			attempts = attempts + CASE WHEN code_hash = $1 THEN 0 ELSE 1 END
		WHERE purpose = $3 AND email = $4 AND consumed_at IS NULL AND expires_at > $2 AND attempts < $5
		RETURNING `+sqlstore.EmailTokenCols,
		[]any{codeHash, now, purpose, email, maxAttempts}, scanEmailToken)
	if err != nil {
		return nil, err
	}
	return sqlstore.Consumed(ts)
}

func (q *queries) VoidEmailTokens(ctx context.Context, userID string, purposes ...string) (int, error) {
	query, args := `DELETE FROM email_tokens WHERE user_id = $1 AND consumed_at IS NULL`, []any{userID}
	if len(purposes) > 0 {
		query, args = query+` AND purpose = ANY($2)`, append(args, purposes)
	}
	tag, err := q.q.Exec(ctx, query, args...)
	if err != nil {
		return 0, mapErr("void email tokens", err)
	}
	return int(tag.RowsAffected()), nil
}
