package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

// CreateSession is held back inside a transaction, to ride with the next
// statement (see txConn).
func (q *queries) CreateSession(ctx context.Context, s *latchkey.Session) error {
	if err := errs.NewSession(s); err != nil {
		return err
	}
	return q.deferredExec(ctx, "create session", nil, `INSERT INTO sessions (`+sqlstore.SessionCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		s.ID, s.UserID, s.CreatedAt, s.LastUsedAt, s.ExpiresAt, s.RevokedAt, s.AuthTime, s.IP, s.UserAgent, nullBytes(s.CookieHash), list(s.AMR))
}

func (q *queries) SessionByID(ctx context.Context, id string) (*latchkey.Session, error) {
	return sqlstore.One(errs, "session by id", "Session", q.q.QueryRow(ctx, `SELECT `+sqlstore.SessionCols+` FROM sessions WHERE id = $1`, id), scanSession)
}

func (q *queries) SessionByCookieHash(ctx context.Context, hash []byte) (*latchkey.Session, error) {
	if len(hash) == 0 {
		return nil, sqlstore.NotFound("Session")
	}
	return sqlstore.One(errs, "session by cookie", "Session", q.q.QueryRow(ctx, `SELECT `+sqlstore.SessionCols+` FROM sessions WHERE cookie_hash = $1`, hash), scanSession)
}

func (q *queries) TouchSession(ctx context.Context, id string, at time.Time) error {
	return q.deferredExec(ctx, "touch session", func(tag pgconn.CommandTag) error {
		return affected("touch session", "Session", tag, nil)
	}, `UPDATE sessions SET last_used_at = $1 WHERE id = $2`, at, id)
}

func (q *queries) SetSessionCookieHash(ctx context.Context, id string, hash []byte) error {
	tag, err := q.q.Exec(ctx, `UPDATE sessions SET cookie_hash = $1 WHERE id = $2`, nullBytes(hash), id)
	return affected("set session cookie", "Session", tag, err)
}

// SetSessionAuth is sent at once, not held back like TouchSession: a
// caller needs its not-found answer (a revoked session) before going on.
func (q *queries) SetSessionAuth(ctx context.Context, id string, at time.Time, amr []string) error {
	tag, err := q.q.Exec(ctx, `UPDATE sessions SET auth_time = $1, amr = $2 WHERE id = $3 AND revoked_at IS NULL`, at, list(amr), id)
	return affected("set session auth", "Session", tag, err)
}

func (q *queries) ListSessions(ctx context.Context, userID string, now time.Time) ([]latchkey.Session, error) {
	return sqlstore.List(ctx, errs, q.q.Query, "list sessions", `SELECT `+sqlstore.SessionCols+` FROM sessions
		WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
		ORDER BY created_at DESC, id DESC`, []any{userID, now}, scanSession)
}

func (q *queries) RevokeSession(ctx context.Context, id string, at time.Time) error {
	tag, err := q.q.Exec(ctx, `UPDATE sessions SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2`, at, id)
	return affected("revoke session", "Session", tag, err)
}

func (q *queries) RevokeUserSessions(ctx context.Context, userID, exceptID string, at time.Time) ([]string, error) {
	return q.returningIDs(ctx, "revoke sessions", `UPDATE sessions SET revoked_at = $1
		WHERE user_id = $2 AND id <> $3 AND revoked_at IS NULL AND expires_at > $1 RETURNING id`,
		at, userID, exceptID)
}

func (q *queries) returningIDs(ctx context.Context, op, query string, args ...any) ([]string, error) {
	return sqlstore.List(ctx, errs, q.q.Query, op, query, args, sqlstore.ScanString)
}
