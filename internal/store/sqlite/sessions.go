package sqlite

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

func (q *queries) CreateSession(ctx context.Context, s *latchkey.Session) error {
	if err := errs.NewSession(s); err != nil {
		return err
	}
	_, err := q.w.exec(ctx, `INSERT INTO sessions (`+sqlstore.SessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.UserID, micro(s.CreatedAt), micro(s.LastUsedAt), micro(s.ExpiresAt), nullMicro(s.RevokedAt),
		micro(s.AuthTime), s.IP, s.UserAgent, nullBytes(s.CookieHash), encodeList(s.AMR))
	return mapErr("create session", err)
}

func (q *queries) SessionByID(ctx context.Context, id string) (*latchkey.Session, error) {
	return sqlstore.One(errs, "session by id", "Session", q.r.queryRow(ctx, `SELECT `+sqlstore.SessionCols+` FROM sessions WHERE id = ?`, id), scanSession)
}

func (q *queries) SessionByCookieHash(ctx context.Context, hash []byte) (*latchkey.Session, error) {
	if len(hash) == 0 {
		return nil, sqlstore.NotFound("Session")
	}
	return sqlstore.One(errs, "session by cookie", "Session", q.r.queryRow(ctx, `SELECT `+sqlstore.SessionCols+` FROM sessions WHERE cookie_hash = ?`, hash), scanSession)
}

func (q *queries) TouchSession(ctx context.Context, id string, at time.Time) error {
	res, err := q.w.exec(ctx, `UPDATE sessions SET last_used_at = ? WHERE id = ?`, micro(at), id)
	return affected("touch session", "Session", res, err)
}

func (q *queries) SetSessionCookieHash(ctx context.Context, id string, hash []byte) error {
	res, err := q.w.exec(ctx, `UPDATE sessions SET cookie_hash = ? WHERE id = ?`, nullBytes(hash), id)
	return affected("set session cookie", "Session", res, err)
}

func (q *queries) SetSessionAuth(ctx context.Context, id string, at time.Time, amr []string) error {
	res, err := q.w.exec(ctx, `UPDATE sessions SET auth_time = ?, amr = ? WHERE id = ? AND revoked_at IS NULL`, micro(at), encodeList(amr), id)
	return affected("set session auth", "Session", res, err)
}

func (q *queries) ListSessions(ctx context.Context, userID string, now time.Time) ([]latchkey.Session, error) {
	return sqlstore.List(ctx, errs, q.r.query, "list sessions", `SELECT `+sqlstore.SessionCols+` FROM sessions
		WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?
		ORDER BY created_at DESC, id DESC`, []any{userID, micro(now)}, scanSession)
}

func (q *queries) RevokeSession(ctx context.Context, id string, at time.Time) error {
	res, err := q.w.exec(ctx, `UPDATE sessions SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, micro(at), id)
	return affected("revoke session", "Session", res, err)
}

func (q *queries) RevokeUserSessions(ctx context.Context, userID, exceptID string, at time.Time) ([]string, error) {
	return q.returningIDs(ctx, "revoke sessions", `UPDATE sessions SET revoked_at = ?
		WHERE user_id = ? AND id <> ? AND revoked_at IS NULL AND expires_at > ? RETURNING id`,
		micro(at), userID, exceptID, micro(at))
}

// returningIDs runs a write with RETURNING id on the writer and collects
// the IDs.
func (q *queries) returningIDs(ctx context.Context, op, query string, args ...any) ([]string, error) {
	return sqlstore.List(ctx, errs, q.w.query, op, query, args, sqlstore.ScanString)
}
