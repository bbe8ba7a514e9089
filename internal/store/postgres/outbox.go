package postgres

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

// EnqueueMail is held back inside a transaction and sent with the next
// statement or COMMIT (see txConn).
func (q *queries) EnqueueMail(ctx context.Context, m *latchkey.OutboxMail) error {
	if err := errs.NeedID("enqueue mail", m.ID); err != nil {
		return err
	}
	return q.deferredExec(ctx, "enqueue mail", nil, `INSERT INTO outbox (`+sqlstore.OutboxCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		m.ID, m.Kind, m.To, m.Subject, m.Text, m.HTML, m.CreatedAt, m.Attempts, m.NextAttemptAt,
		m.LeaseUntil, m.SentAt, m.FailedAt, sqlstore.Reason(m.LastError))
}

func (q *queries) MailByID(ctx context.Context, id string) (*latchkey.OutboxMail, error) {
	return sqlstore.One(errs, "mail by id", "Mail", q.q.QueryRow(ctx, `SELECT `+sqlstore.OutboxCols+` FROM outbox WHERE id = $1`, id), scanMail)
}

// ClaimMail locks the mails it picks with SKIP LOCKED, so that concurrent
// claimers pass over each other's picks instead of waiting for them; a
// pick that another claimer leased and committed meanwhile is re-checked
// under its lock and dropped, its lease being no longer run out.
func (q *queries) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]latchkey.OutboxMail, error) {
	if limit <= 0 {
		return nil, nil
	}
	ms, err := sqlstore.List(ctx, errs, q.q.Query, "claim mail", `UPDATE outbox SET lease_until = $1, attempts = attempts + 1
		WHERE id IN (SELECT id FROM outbox
			WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
			ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING `+sqlstore.OutboxCols, []any{now.Add(lease), now, limit}, scanMail)
	return sqlstore.OldestFirst(ms), err
}

func (q *queries) MarkMailSent(ctx context.Context, id string, at time.Time) error {
	tag, err := q.q.Exec(ctx, `UPDATE outbox SET sent_at = $1, lease_until = NULL, text_body = '', html_body = '' WHERE id = $2`, at, id)
	if err != nil {
		return mapErr("mark mail sent", err)
	}
	return sqlstore.Changed("Mail", tag.RowsAffected())
}

func (q *queries) MarkMailFailed(ctx context.Context, id string, next time.Time, reason string, gaveUp bool) error {
	query := `UPDATE outbox SET lease_until = NULL, last_error = $1, next_attempt_at = $2 WHERE id = $3 AND sent_at IS NULL`
	if gaveUp {
		query = `UPDATE outbox SET lease_until = NULL, last_error = $1, failed_at = $2, text_body = '', html_body = ''
			WHERE id = $3 AND sent_at IS NULL`
	}
	tag, err := q.q.Exec(ctx, query, sqlstore.Reason(reason), next, id)
	if err != nil {
		return mapErr("mark mail failed", err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	// Unknown, or sent meanwhile: only the first is an error.
	var one int
	return rowErr("mark mail failed", "Mail", q.q.QueryRow(ctx, `SELECT 1 FROM outbox WHERE id = $1`, id).Scan(&one))
}

func (q *queries) OutboxStats(ctx context.Context, now time.Time) (latchkey.OutboxStats, error) {
	var s latchkey.OutboxStats
	var dueSince *time.Time
	// A mail falls due at next_attempt_at, or again when the lease of a
	// sender that held it runs out.
	err := q.q.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE failed_at IS NULL),
			count(*) FILTER (WHERE failed_at IS NULL AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)),
			count(*) FILTER (WHERE failed_at IS NULL AND lease_until > $1),
			count(*) FILTER (WHERE failed_at IS NOT NULL),
			min(greatest(next_attempt_at, lease_until))
				FILTER (WHERE failed_at IS NULL AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1))
		FROM outbox WHERE sent_at IS NULL`, now).Scan(&s.Queued, &s.Due, &s.Leased, &s.GivenUp, &dueSince)
	if err != nil {
		return latchkey.OutboxStats{}, mapErr("outbox stats", err)
	}
	if dueSince != nil {
		s.OldestDue = max(0, now.Sub(*dueSince))
	}
	return s, nil
}
