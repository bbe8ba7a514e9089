// Package janitor keeps latchkey's tables small: it periodically removes
// expired and revoked sessions, their refresh tokens, expired one-time
// codes, expired and consumed email tokens, audit events older than the
// retention period, and the outbox's mails that were sent or given up
// longer ago than the mail retention.
package janitor

import (
	"context"
	"log/slog"
	"time"

	"github.com/latchkey/latchkey"
)

// Interval is how often Run cleans up.
const Interval = 10 * time.Minute

// MailRetention is how long a sent or given-up mail stays in the outbox
// (without its bodies) unless KeepMail says otherwise: long enough to
// answer "did the mail go out?", short enough not to become a second
// address book.
const MailRetention = 7 * 24 * time.Hour

// Janitor removes what has outlived its use.
type Janitor struct {
	store         latchkey.Janitor
	retention     time.Duration
	mailRetention time.Duration
	clock         func() time.Time
	log           *slog.Logger
}

// Option changes a Janitor's defaults.
type Option func(*Janitor)

// KeepMail keeps sent and given-up mails for d (MailRetention by default).
func KeepMail(d time.Duration) Option { return func(j *Janitor) { j.mailRetention = d } }

// New returns a Janitor that keeps audit events for retention.
func New(store latchkey.Janitor, retention time.Duration, clock func() time.Time, logger *slog.Logger, opts ...Option) *Janitor {
	if clock == nil {
		clock = time.Now
	}
	j := &Janitor{store: store, retention: retention, mailRetention: MailRetention, clock: clock, log: logger}
	for _, o := range opts {
		o(j)
	}
	return j
}

// Once runs one clean-up: sessions, refresh tokens, codes and email
// tokens that expired (or were revoked or consumed) before now, audit
// events older than now minus the retention, and mails sent or given up
// before now minus the mail retention. It returns the number of rows
// removed.
func (j *Janitor) Once(ctx context.Context) (int64, error) {
	now := j.clock().UTC()
	n, err := j.store.DeleteExpired(ctx, now, now.Add(-j.retention))
	if err != nil {
		return 0, err
	}
	mails, err := j.store.DeleteOldMail(ctx, now.Add(-j.mailRetention))
	if err != nil {
		return n, err
	}
	j.log.InfoContext(ctx, "expired rows removed", "rows", n+mails, "audit_before", now.Add(-j.retention).Format(time.RFC3339),
		"mail_before", now.Add(-j.mailRetention).Format(time.RFC3339))
	return n + mails, nil
}

// Run cleans up at once and then every interval until ctx is done.
// Failures are logged and retried at the next tick.
func (j *Janitor) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = Interval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := j.Once(ctx); err != nil && ctx.Err() == nil {
			j.log.ErrorContext(ctx, "removing expired rows failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
