package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/latchkey/latchkey"
)

const sessionCols = `id, user_id, created_at, last_used_at, expires_at, revoked_at, auth_time, ip, user_agent, cookie_hash`

func scanSession(row pgx.Row) (*latchkey.Session, error) {
	var x latchkey.Session
	if err := row.Scan(&x.ID, &x.UserID, &x.CreatedAt, &x.LastUsedAt, &x.ExpiresAt, &x.RevokedAt, &x.AuthTime, &x.IP, &x.UserAgent, &x.CookieHash); err != nil {
		return nil, err
	}
	utc(&x.CreatedAt, &x.LastUsedAt, &x.ExpiresAt, &x.AuthTime)
	utcp(&x.RevokedAt)
	return &x, nil
}

func (q *queries) CreateSession(ctx context.Context, s *latchkey.Session) error {
	if s.ID == "" {
		s.ID = latchkey.NewID(s.CreatedAt)
	}
	if s.AuthTime.IsZero() {
		s.AuthTime = s.CreatedAt
	}
	return q.deferredExec(ctx, "create session", nil, `INSERT INTO sessions (`+sessionCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		s.ID, s.UserID, s.CreatedAt, s.LastUsedAt, s.ExpiresAt, s.RevokedAt, s.AuthTime, s.IP, s.UserAgent, nullBytes(s.CookieHash))
}

func (q *queries) SessionByID(ctx context.Context, id string) (*latchkey.Session, error) {
	s, err := scanSession(q.q.QueryRow(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = $1`, id))
	if err != nil {
		return nil, rowErr("session by id", "Session", err)
	}
	return s, nil
}

func (q *queries) SessionByCookieHash(ctx context.Context, hash []byte) (*latchkey.Session, error) {
	if len(hash) == 0 {
		return nil, notFound("Session")
	}
	s, err := scanSession(q.q.QueryRow(ctx, `SELECT `+sessionCols+` FROM sessions WHERE cookie_hash = $1`, hash))
	if err != nil {
		return nil, rowErr("session by cookie", "Session", err)
	}
	return s, nil
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

// SetSessionAuthTime is sent at once, not held back like TouchSession: a
// caller needs its not-found answer (a revoked session) before going on.
func (q *queries) SetSessionAuthTime(ctx context.Context, id string, at time.Time) error {
	tag, err := q.q.Exec(ctx, `UPDATE sessions SET auth_time = $1 WHERE id = $2 AND revoked_at IS NULL`, at, id)
	return affected("set session auth time", "Session", tag, err)
}

func (q *queries) ListSessions(ctx context.Context, userID string, now time.Time) ([]latchkey.Session, error) {
	rows, err := q.q.Query(ctx, `SELECT `+sessionCols+` FROM sessions
		WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
		ORDER BY created_at DESC, id DESC`, userID, now)
	if err != nil {
		return nil, mapErr("list sessions", err)
	}
	defer rows.Close()
	var out []latchkey.Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, mapErr("list sessions", err)
		}
		out = append(out, *s)
	}
	return out, mapErr("list sessions", rows.Err())
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
	rows, err := q.q.Query(ctx, query, args...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, mapErr(op, err)
	}
	return ids, nil
}
