package postgres

import (
	"context"
	"strconv"
	"strings"

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
	query := `SELECT ` + auditCols + ` FROM audit_events`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY id DESC LIMIT ` + arg(limit+1)
	rows, err := q.q.Query(ctx, query, args...)
	if err != nil {
		return nil, "", mapErr("list audit", err)
	}
	defer rows.Close()
	var out []latchkey.AuditEvent
	for rows.Next() {
		var e latchkey.AuditEvent
		if err := rows.Scan(&e.ID, &e.Time, &e.Type, &e.UserID, &e.SessionID, &e.APIKeyID, &e.IP, &e.UserAgent, &e.Outcome, &e.Reason); err != nil {
			return nil, "", mapErr("list audit", err)
		}
		e.Time = e.Time.UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", mapErr("list audit", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}
