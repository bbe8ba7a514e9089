package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

func (q *queries) EnqueueMail(ctx context.Context, m *latchkey.OutboxMail) error {
	return q.insert(ctx, "enqueue mail", m.ID, `INSERT INTO outbox (`+sqlstore.OutboxCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.Kind, m.To, m.Subject, m.Text, m.HTML, micro(m.CreatedAt), m.Attempts, micro(m.NextAttemptAt),
		nullMicro(m.LeaseUntil), nullMicro(m.SentAt), nullMicro(m.FailedAt), sqlstore.Reason(m.LastError))
}

func (q *queries) MailByID(ctx context.Context, id string) (*latchkey.OutboxMail, error) {
	return sqlstore.One(errs, "mail by id", "Mail", q.r.queryRow(ctx, `SELECT `+sqlstore.OutboxCols+` FROM outbox WHERE id = ?`, id), scanMail)
}

// ClaimMail needs no row locks: SQLite runs one write at a time, so the
// UPDATE's choice and its lease are one step.
func (q *queries) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]latchkey.OutboxMail, error) {
	if limit <= 0 {
		return nil, nil
	}
	ms, err := sqlstore.List(ctx, errs, q.w.query, "claim mail", `UPDATE outbox SET lease_until = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM outbox
			WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
			ORDER BY id LIMIT ?)
		RETURNING `+sqlstore.OutboxCols, []any{micro(now.Add(lease)), micro(now), micro(now), limit}, scanMail)
	return sqlstore.OldestFirst(ms), err
}

func (q *queries) MarkMailSent(ctx context.Context, id string, at time.Time) error {
	res, err := q.w.exec(ctx, `UPDATE outbox SET sent_at = ?, lease_until = NULL, text_body = '', html_body = '' WHERE id = ?`, micro(at), id)
	return affected("mark mail sent", "Mail", res, err)
}

func (q *queries) MarkMailFailed(ctx context.Context, id string, next time.Time, reason string, gaveUp bool) error {
	query := `UPDATE outbox SET lease_until = NULL, last_error = ?, next_attempt_at = ? WHERE id = ? AND sent_at IS NULL`
	if gaveUp {
		query = `UPDATE outbox SET lease_until = NULL, last_error = ?, failed_at = ?, text_body = '', html_body = ''
			WHERE id = ? AND sent_at IS NULL`
	}
	res, err := q.w.exec(ctx, query, sqlstore.Reason(reason), micro(next), id)
	err = affected("mark mail failed", "Mail", res, err)
	if !latchkey.IsCode(err, latchkey.ENotFound) {
		return err
	}
	// Unknown, or sent meanwhile: only the first is an error.
	var one int
	return rowErr("mark mail failed", "Mail", q.w.queryRow(ctx, `SELECT 1 FROM outbox WHERE id = ?`, id).Scan(&one))
}

func (q *queries) OutboxStats(ctx context.Context, now time.Time) (latchkey.OutboxStats, error) {
	var s latchkey.OutboxStats
	var dueSince sql.NullInt64
	n := micro(now)
	// A mail falls due at next_attempt_at, or again when the lease of a
	// sender that held it runs out.
	err := q.r.queryRow(ctx, `SELECT
			count(*) FILTER (WHERE failed_at IS NULL),
			count(*) FILTER (WHERE failed_at IS NULL AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)),
			count(*) FILTER (WHERE failed_at IS NULL AND lease_until > ?),
			count(*) FILTER (WHERE failed_at IS NOT NULL),
			min(max(next_attempt_at, coalesce(lease_until, next_attempt_at)))
				FILTER (WHERE failed_at IS NULL AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?))
		FROM outbox WHERE sent_at IS NULL`, n, n, n, n, n).Scan(&s.Queued, &s.Due, &s.Leased, &s.GivenUp, &dueSince)
	if err != nil {
		return latchkey.OutboxStats{}, mapErr("outbox stats", err)
	}
	if dueSince.Valid {
		s.OldestDue = max(0, now.Sub(fromMicro(dueSince.Int64)))
	}
	return s, nil
}
