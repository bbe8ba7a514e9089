package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

func (q *queries) CreateRefreshToken(ctx context.Context, t *latchkey.RefreshToken) error {
	_, err := q.w.exec(ctx, `INSERT INTO refresh_tokens (`+sqlstore.RefreshCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.Hash, t.SessionID, t.UserID, micro(t.CreatedAt), micro(t.ExpiresAt), nullMicro(t.UsedAt), nullBytes(t.SealedSuccessor))
	return mapErr("create refresh token", err)
}

func (q *queries) RefreshTokenByHash(ctx context.Context, hash []byte) (*latchkey.RefreshToken, error) {
	var t latchkey.RefreshToken
	var created, expires int64
	var used sql.NullInt64
	err := q.r.queryRow(ctx, `SELECT `+sqlstore.RefreshCols+` FROM refresh_tokens WHERE hash = ?`, hash).
		Scan(&t.Hash, &t.SessionID, &t.UserID, &created, &expires, &used, &t.SealedSuccessor)
	if err != nil {
		return nil, rowErr("refresh token by hash", "Refresh token", err)
	}
	t.CreatedAt, t.ExpiresAt, t.UsedAt = fromMicro(created), fromMicro(expires), fromNullMicro(used)
	return &t, nil
}

// MarkRefreshTokenUsed is atomic because the UPDATE's condition is checked
// under the database's write lock: of any number of concurrent calls, only
// the first finds used_at NULL.
func (q *queries) MarkRefreshTokenUsed(ctx context.Context, hash []byte, at time.Time, sealedSuccessor []byte) (bool, error) {
	res, err := q.w.exec(ctx, `UPDATE refresh_tokens SET used_at = ?, sealed_successor = ? WHERE hash = ? AND used_at IS NULL`,
		micro(at), nullBytes(sealedSuccessor), hash)
	if err != nil {
		return false, mapErr("mark refresh token used", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, mapErr("mark refresh token used", err)
	}
	if n == 1 {
		return true, nil
	}
	// Used already, or unknown: only the second is an error.
	var one int
	if err := q.w.queryRow(ctx, `SELECT 1 FROM refresh_tokens WHERE hash = ?`, hash).Scan(&one); err != nil {
		return false, rowErr("mark refresh token used", "Refresh token", err)
	}
	return false, nil
}

func (q *queries) CreateOneTimeCode(ctx context.Context, c *latchkey.OneTimeCode) error {
	_, err := q.w.exec(ctx, `INSERT INTO one_time_codes (`+sqlstore.CodeCols+`) VALUES (?, ?, ?, ?, ?)`,
		c.Hash, c.UserID, c.Provider, micro(c.CreatedAt), micro(c.ExpiresAt))
	return mapErr("create one-time code", err)
}

// ConsumeOneTimeCode deletes and returns the code in one statement, so a
// code can be consumed once however many callers race for it.
func (q *queries) ConsumeOneTimeCode(ctx context.Context, hash []byte, now time.Time) (*latchkey.OneTimeCode, error) {
	var c latchkey.OneTimeCode
	var created, expires int64
	rows, err := q.w.query(ctx, `DELETE FROM one_time_codes WHERE hash = ? AND expires_at > ? RETURNING `+sqlstore.CodeCols, hash, micro(now))
	if err != nil {
		return nil, mapErr("consume one-time code", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, mapErr("consume one-time code", err)
		}
		return nil, sqlstore.NotFound("Code")
	}
	if err := rows.Scan(&c.Hash, &c.UserID, &c.Provider, &created, &expires); err != nil {
		return nil, mapErr("consume one-time code", err)
	}
	// SQLite makes every change of a RETURNING statement at its first
	// step, so the row is gone already.
	c.CreatedAt, c.ExpiresAt = fromMicro(created), fromMicro(expires)
	return &c, nil
}
