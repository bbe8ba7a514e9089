package postgres

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/latchkey/latchkey"
)

const auditCols = `id, occurred_at, type, user_id, session_id, api_key_id, ip, user_agent, outcome, reason`

func (q *queries) AppendAudit(ctx context.Context, e *latchkey.AuditEvent) error {
	if e.ID == "" {
		e.ID = latchkey.NewID(e.Time)
	}
	return q.deferredExec(ctx, "append audit", nil, `INSERT INTO audit_events (`+auditCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		e.ID, e.Time, e.Type, e.UserID, e.SessionID, e.APIKeyID, e.IP, e.UserAgent, e.Outcome, e.Reason)
}

// ListAudit builds its WHERE clause from the filters that are set, so that
// each combination gets a plan that uses its index.
func (q *queries) ListAudit(ctx context.Context, f latchkey.AuditFilter) ([]latchkey.AuditEvent, string, error) {
	limit := pageLimit(f.Limit)
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.UserID != "" {
		where = append(where, `user_id = `+arg(f.UserID))
	}
	if f.Type != "" {
		where = append(where, `type = `+arg(f.Type))
	}
	if !f.Since.IsZero() {
		where = append(where, `occurred_at >= `+arg(f.Since))
	}
	if f.Cursor != "" {
		where = append(where, `id < `+arg(f.Cursor))
	}
	return listPage(ctx, q.q, "audit", `SELECT `+auditCols+` FROM audit_events`, where, args, limit,
		func(r pgx.Row) (latchkey.AuditEvent, error) {
			var e latchkey.AuditEvent
			err := r.Scan(&e.ID, &e.Time, &e.Type, &e.UserID, &e.SessionID, &e.APIKeyID, &e.IP, &e.UserAgent, &e.Outcome, &e.Reason)
			e.Time = e.Time.UTC()
			return e, err
		},
		func(e *latchkey.AuditEvent) string { return e.ID })
}
