package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/latchkey/latchkey"
)

const sessionCols = `id, user_id, created_at, last_used_at, expires_at, revoked_at, auth_time, ip, user_agent, cookie_hash`

func scanSession(s scanner) (*latchkey.Session, error) {
	var x latchkey.Session
	var created, lastUsed, expires, authTime int64
	var revoked sql.NullInt64
	if err := s.Scan(&x.ID, &x.UserID, &created, &lastUsed, &expires, &revoked, &authTime, &x.IP, &x.UserAgent, &x.CookieHash); err != nil {
		return nil, err
	}
	x.CreatedAt, x.LastUsedAt, x.ExpiresAt = fromMicro(created), fromMicro(lastUsed), fromMicro(expires)
	x.AuthTime = fromMicro(authTime)
	x.RevokedAt = fromNullMicro(revoked)
	return &x, nil
}

func (q *queries) CreateSession(ctx context.Context, s *latchkey.Session) error {
	if s.ID == "" {
		s.ID = latchkey.NewID(s.CreatedAt)
	}
	if s.AuthTime.IsZero() {
		s.AuthTime = s.CreatedAt
	}
	_, err := q.w.exec(ctx, `INSERT INTO sessions (`+sessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.UserID, micro(s.CreatedAt), micro(s.LastUsedAt), micro(s.ExpiresAt), nullMicro(s.RevokedAt),
		micro(s.AuthTime), s.IP, s.UserAgent, nullBytes(s.CookieHash))
	return mapErr("create session", err)
}

func (q *queries) SessionByID(ctx context.Context, id string) (*latchkey.Session, error) {
	s, err := scanSession(q.r.queryRow(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = ?`, id))
	if err != nil {
		return nil, rowErr("session by id", "Session", err)
	}
	return s, nil
}

func (q *queries) SessionByCookieHash(ctx context.Context, hash []byte) (*latchkey.Session, error) {
	if len(hash) == 0 {
		return nil, notFound("Session")
	}
	s, err := scanSession(q.r.queryRow(ctx, `SELECT `+sessionCols+` FROM sessions WHERE cookie_hash = ?`, hash))
	if err != nil {
		return nil, rowErr("session by cookie", "Session", err)
	}
	return s, nil
}

func (q *queries) TouchSession(ctx context.Context, id string, at time.Time) error {
	res, err := q.w.exec(ctx, `UPDATE sessions SET last_used_at = ? WHERE id = ?`, micro(at), id)
	return affected("touch session", "Session", res, err)
}

func (q *queries) SetSessionCookieHash(ctx context.Context, id string, hash []byte) error {
	res, err := q.w.exec(ctx, `UPDATE sessions SET cookie_hash = ? WHERE id = ?`, nullBytes(hash), id)
	return affected("set session cookie", "Session", res, err)
}

func (q *queries) SetSessionAuthTime(ctx context.Context, id string, at time.Time) error {
	res, err := q.w.exec(ctx, `UPDATE sessions SET auth_time = ? WHERE id = ? AND revoked_at IS NULL`, micro(at), id)
	return affected("set session auth time", "Session", res, err)
}

func (q *queries) ListSessions(ctx context.Context, userID string, now time.Time) ([]latchkey.Session, error) {
	rows, err := q.r.query(ctx, `SELECT `+sessionCols+` FROM sessions
		WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?
		ORDER BY created_at DESC, id DESC`, userID, micro(now))
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
	rows, err := q.w.query(ctx, query, args...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, mapErr(op, err)
		}
		ids = append(ids, id)
	}
	return ids, mapErr(op, rows.Err())
}
