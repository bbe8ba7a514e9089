package postgres

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

func (q *queries) AppendAudit(ctx context.Context, e *latchkey.AuditEvent) error {
	if err := errs.NeedID("append audit", e.ID); err != nil {
		return err
	}
	return q.deferredExec(ctx, "append audit", nil, `INSERT INTO audit_events (`+sqlstore.AuditCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		e.ID, e.Time, e.Type, e.UserID, e.SessionID, e.APIKeyID, e.IP, e.UserAgent, e.Outcome, e.Reason)
}

// ListAudit's conditions are those of the filters that are set, so that
// each combination gets a plan that uses its index.
func (q *queries) ListAudit(ctx context.Context, f latchkey.AuditFilter) ([]latchkey.AuditEvent, string, error) {
	l := sqlstore.AuditListing(sqlstore.Dollar, f, encoder{})
	return sqlstore.ListPage(ctx, errs, q.q.Query, "audit", l, `SELECT `+sqlstore.AuditCols+` FROM audit_events`, scanAudit,
		func(e *latchkey.AuditEvent) string { return e.ID })
}

// CountAuditByHour groups on the UTC hour: date_trunc of a timestamptz
// without a zone would cut at the session's time zone, whose hours need
// not start where UTC's do.
func (q *queries) CountAuditByHour(ctx context.Context, since, until time.Time, types []string) ([]latchkey.AuditCount, error) {
	query, args := sqlstore.AuditCountQuery(sqlstore.Dollar, `date_trunc('hour', occurred_at, 'UTC')`, since, until, types, encoder{})
	counts, err := sqlstore.List(ctx, errs, q.q.Query, "count audit", query, args, scanAuditCount)
	sqlstore.SortAuditCounts(counts)
	return counts, err
}

func scanAuditCount(s sqlstore.Scanner) (*latchkey.AuditCount, error) {
	var c latchkey.AuditCount
	if err := s.Scan(&c.Hour, &c.Type, &c.Outcome, &c.Count); err != nil {
		return nil, err
	}
	c.Hour = c.Hour.UTC()
	return &c, nil
}
