package postgres

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

func (q *queries) CreateRefreshToken(ctx context.Context, t *latchkey.RefreshToken) error {
	return q.deferredExec(ctx, "create refresh token", nil, `INSERT INTO refresh_tokens (`+sqlstore.RefreshCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.Hash, t.SessionID, t.UserID, t.CreatedAt, t.ExpiresAt, t.UsedAt, nullBytes(t.SealedSuccessor))
}

func (q *queries) RefreshTokenByHash(ctx context.Context, hash []byte) (*latchkey.RefreshToken, error) {
	var t latchkey.RefreshToken
	err := q.q.QueryRow(ctx, `SELECT `+sqlstore.RefreshCols+` FROM refresh_tokens WHERE hash = $1`, hash).
		Scan(&t.Hash, &t.SessionID, &t.UserID, &t.CreatedAt, &t.ExpiresAt, &t.UsedAt, &t.SealedSuccessor)
	if err != nil {
		return nil, rowErr("refresh token by hash", "Refresh token", err)
	}
	utc(&t.CreatedAt, &t.ExpiresAt)
	utcp(&t.UsedAt)
	return &t, nil
}

// MarkRefreshTokenUsed is atomic: a concurrent UPDATE waits for the row
// lock and then re-checks "used_at IS NULL" against the committed row, so
// only the first caller changes it.
func (q *queries) MarkRefreshTokenUsed(ctx context.Context, hash []byte, at time.Time, sealedSuccessor []byte) (bool, error) {
	tag, err := q.q.Exec(ctx, `UPDATE refresh_tokens SET used_at = $1, sealed_successor = $2 WHERE hash = $3 AND used_at IS NULL`,
		at, nullBytes(sealedSuccessor), hash)
	if err != nil {
		return false, mapErr("mark refresh token used", err)
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}
	// Used already, or unknown: only the second is an error.
	var one int
	if err := q.q.QueryRow(ctx, `SELECT 1 FROM refresh_tokens WHERE hash = $1`, hash).Scan(&one); err != nil {
		return false, rowErr("mark refresh token used", "Refresh token", err)
	}
	return false, nil
}

func (q *queries) CreateOneTimeCode(ctx context.Context, c *latchkey.OneTimeCode) error {
	_, err := q.q.Exec(ctx, `INSERT INTO one_time_codes (`+sqlstore.CodeCols+`) VALUES ($1, $2, $3, $4, $5)`,
		c.Hash, c.UserID, c.Provider, c.CreatedAt, c.ExpiresAt)
	return mapErr("create one-time code", err)
}

// ConsumeOneTimeCode deletes and returns the code in one statement, so a
// code can be consumed once however many callers race for it.
func (q *queries) ConsumeOneTimeCode(ctx context.Context, hash []byte, now time.Time) (*latchkey.OneTimeCode, error) {
	var c latchkey.OneTimeCode
	err := q.q.QueryRow(ctx, `DELETE FROM one_time_codes WHERE hash = $1 AND expires_at > $2 RETURNING `+sqlstore.CodeCols, hash, now).
		Scan(&c.Hash, &c.UserID, &c.Provider, &c.CreatedAt, &c.ExpiresAt)
	if err != nil {
		return nil, rowErr("consume one-time code", "Code", err)
	}
	utc(&c.CreatedAt, &c.ExpiresAt)
	return &c, nil
}
