package sqlite

import (
	"context"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

// CreateEmailToken replaces the user's unconsumed token of the purpose, if
// there is one, with t in one statement: the partial unique index on
// (user_id, purpose) of unconsumed tokens is the upsert's target.
func (q *queries) CreateEmailToken(ctx context.Context, t *latchkey.EmailToken) error {
	return q.insert(ctx, "create email token", t.ID, `INSERT INTO email_tokens (`+sqlstore.EmailTokenCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (user_id, purpose) WHERE consumed_at IS NULL DO UPDATE SET
			id = excluded.id, email = excluded.email, link_hash = excluded.link_hash, code_hash = excluded.code_hash,
			attempts = excluded.attempts, created_at = excluded.created_at, expires_at = excluded.expires_at,
			consumed_at = excluded.consumed_at`,
		t.ID, t.UserID, t.Purpose, t.Email, t.LinkHash, nullBytes(t.CodeHash), t.Attempts,
		micro(t.CreatedAt), micro(t.ExpiresAt), nullMicro(t.ConsumedAt))
}

// ConsumeEmailTokenByLink is one conditional UPDATE: SQLite runs one write
// at a time, so only the first of concurrent calls finds the token live.
func (q *queries) ConsumeEmailTokenByLink(ctx context.Context, purpose string, linkHash []byte, now time.Time) (*latchkey.EmailToken, error) {
	if len(linkHash) == 0 {
		return nil, sqlstore.NotFound("Token")
	}
	return sqlstore.One(errs, "consume email token", "Token", q.w.queryRow(ctx, `UPDATE email_tokens SET consumed_at = ?
		WHERE purpose = ? AND link_hash = ? AND consumed_at IS NULL AND expires_at > ?
		RETURNING `+sqlstore.EmailTokenCols, micro(now), purpose, linkHash, micro(now)), scanEmailToken)
}

// ConsumeEmailTokenByCode checks the code and charges the attempt in one
// UPDATE (whose SET expressions all read the row as it was), so a guess
// is tested only against a token that still had attempts left.
func (q *queries) ConsumeEmailTokenByCode(ctx context.Context, purpose, email string, codeHash []byte, now time.Time, maxAttempts int) (*latchkey.EmailToken, error) {
	if len(codeHash) == 0 {
		return nil, sqlstore.NotFound("Token")
	}
	ts, err := sqlstore.List(ctx, errs, q.w.query, "consume email token by code", `UPDATE email_tokens SET
			consumed_at = CASE WHEN code_hash = ? THEN ? END,
			attempts = attempts + CASE WHEN code_hash = ? THEN 0 ELSE 1 END
		WHERE purpose = ? AND email = ? AND consumed_at IS NULL AND expires_at > ? AND attempts < ?
		RETURNING `+sqlstore.EmailTokenCols,
		[]any{codeHash, micro(now), codeHash, purpose, email, micro(now), maxAttempts}, scanEmailToken)
	if err != nil {
		return nil, err
	}
	return sqlstore.Consumed(ts)
}

func (q *queries) VoidEmailTokens(ctx context.Context, userID string, purposes ...string) (int, error) {
	a := &sqlstore.Args{Mark: sqlstore.Question}
	query := `DELETE FROM email_tokens WHERE user_id = ` + a.Add(userID) + ` AND consumed_at IS NULL`
	if len(purposes) > 0 {
		marks := make([]string, len(purposes))
		for i, p := range purposes {
			marks[i] = a.Add(p)
		}
		query += ` AND purpose IN (` + strings.Join(marks, ", ") + `)`
	}
	res, err := q.w.exec(ctx, query, a.List...)
	if err != nil {
		return 0, mapErr("void email tokens", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, mapErr("void email tokens", err)
	}
	return int(n), nil
}
