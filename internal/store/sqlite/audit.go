package sqlite

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

func (q *queries) AppendAudit(ctx context.Context, e *latchkey.AuditEvent) error {
	return q.insert(ctx, "append audit", e.ID, `INSERT INTO audit_events (`+sqlstore.AuditCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, micro(e.Time), e.Type, e.UserID, e.SessionID, e.APIKeyID, e.IP, e.UserAgent, e.Outcome, e.Reason)
}

// ListAudit's conditions are those of the filters that are set, so that
// each combination can use its index (and is a statement of its own in the
// cache).
func (q *queries) ListAudit(ctx context.Context, f latchkey.AuditFilter) ([]latchkey.AuditEvent, string, error) {
	l := sqlstore.AuditListing(sqlstore.Question, f, encoder{})
	return sqlstore.ListPage(ctx, errs, q.r.query, "audit", l, `SELECT `+sqlstore.AuditCols+` FROM audit_events`, scanAudit,
		func(e *latchkey.AuditEvent) string { return e.ID })
}

// CountAuditByHour groups on the hour number (microseconds since the
// epoch, divided as integers).
func (q *queries) CountAuditByHour(ctx context.Context, since, until time.Time, types []string) ([]latchkey.AuditCount, error) {
	query, args := sqlstore.AuditCountQuery(sqlstore.Question, `occurred_at / 3600000000`, since, until, types, encoder{})
	counts, err := sqlstore.List(ctx, errs, q.r.query, "count audit", query, args, scanAuditCount)
	sqlstore.SortAuditCounts(counts)
	return counts, err
}

func scanAuditCount(s sqlstore.Scanner) (*latchkey.AuditCount, error) {
	var c latchkey.AuditCount
	var hour int64
	if err := s.Scan(&hour, &c.Type, &c.Outcome, &c.Count); err != nil {
		return nil, err
	}
	c.Hour = time.Unix(hour*3600, 0).UTC()
	return &c, nil
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
		{`DELETE FROM email_tokens WHERE expires_at < ? OR consumed_at < ?`, []any{b, b}},
		{`DELETE FROM passkey_challenges WHERE expires_at < ?`, []any{b}},
		{`DELETE FROM mfa_challenges WHERE expires_at < ? OR consumed_at < ?`, []any{b, b}},
		{`DELETE FROM totp_factors WHERE expires_at < ?`, []any{b}}, // lapsed enrollments (confirmed: NULL)
		{`DELETE FROM oauth_auth_requests WHERE expires_at < ?`, []any{b}},
		{`DELETE FROM oauth_refresh_tokens WHERE expires_at < ?`, []any{b}},
		{`DELETE FROM oauth_assertion_ids WHERE expires_at < ?`, []any{b}},
		{`DELETE FROM oauth_device_codes WHERE expires_at < ?`, []any{b}},
		{`DELETE FROM oauth_grants WHERE expires_at < ? OR revoked_at < ?`, []any{b, b}},
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

func (d *DB) DeleteOldMail(ctx context.Context, before time.Time) (int64, error) {
	b := micro(before)
	res, err := d.writer.exec(ctx, `DELETE FROM outbox WHERE sent_at < ? OR failed_at < ?`, b, b)
	if err != nil {
		return 0, mapErr("delete old mail", err)
	}
	n, err := res.RowsAffected()
	return n, mapErr("delete old mail", err)
}
