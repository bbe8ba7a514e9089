package sqlite

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
)

const auditCols = `id, occurred_at, type, user_id, session_id, api_key_id, ip, user_agent, outcome, reason`

func (q *queries) AppendAudit(ctx context.Context, e *latchkey.AuditEvent) error {
	if e.ID == "" {
		e.ID = latchkey.NewID(e.Time)
	}
	_, err := q.w.exec(ctx, `INSERT INTO audit_events (`+auditCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, micro(e.Time), e.Type, e.UserID, e.SessionID, e.APIKeyID, e.IP, e.UserAgent, e.Outcome, e.Reason)
	return mapErr("append audit", err)
}

// ListAudit builds its WHERE clause from the filters that are set, so that
// each combination can use its index (and is a statement of its own in the
// cache).
func (q *queries) ListAudit(ctx context.Context, f latchkey.AuditFilter) ([]latchkey.AuditEvent, string, error) {
	limit := pageLimit(f.Limit)
	var where []string
	var args []any
	if f.UserID != "" {
		where, args = append(where, `user_id = ?`), append(args, f.UserID)
	}
	if f.Type != "" {
		where, args = append(where, `type = ?`), append(args, f.Type)
	}
	if !f.Since.IsZero() {
		where, args = append(where, `occurred_at >= ?`), append(args, micro(f.Since))
	}
	if f.Cursor != "" {
		where, args = append(where, `id < ?`), append(args, f.Cursor)
	}
	return listPage(ctx, q.r, "audit", `SELECT `+auditCols+` FROM audit_events`, where, args, limit,
		func(r scanner) (latchkey.AuditEvent, error) {
			var e latchkey.AuditEvent
			var t int64
			err := r.Scan(&e.ID, &t, &e.Type, &e.UserID, &e.SessionID, &e.APIKeyID, &e.IP, &e.UserAgent, &e.Outcome, &e.Reason)
			e.Time = fromMicro(t)
			return e, err
		},
		func(e *latchkey.AuditEvent) string { return e.ID })
}

// DeleteExpired runs in one write transaction. Refresh tokens of doomed
// sessions are deleted explicitly (rather than by the cascade) so that they
// are counted.
func (d *DB) DeleteExpired(ctx context.Context, before, auditBefore time.Time) (int64, error) {
	b, ab := micro(before), micro(auditBefore)
	stmts := []struct {
		query string
		args  []any
	}{
		{`DELETE FROM refresh_tokens WHERE expires_at < ? OR session_id IN
			(SELECT id FROM sessions WHERE expires_at < ? OR revoked_at < ?)`, []any{b, b, b}},
		{`DELETE FROM sessions WHERE expires_at < ? OR revoked_at < ?`, []any{b, b}},
		{`DELETE FROM one_time_codes WHERE expires_at < ?`, []any{b}},
		{`DELETE FROM audit_events WHERE occurred_at < ?`, []any{ab}},
	}
	var total int64
	err := d.InTx(ctx, func(tx latchkey.Tx) error {
		w := tx.(*queries).w
		for _, s := range stmts {
			res, err := w.exec(ctx, s.query, s.args...)
			if err != nil {
				return mapErr("delete expired", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return mapErr("delete expired", err)
			}
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}
