// Package janitor keeps latchkey's tables small: it periodically removes
// expired and revoked sessions, their refresh tokens, expired one-time
// codes, and audit events older than the retention period.
package janitor

import (
	"context"
	"log/slog"
	"time"

	"github.com/latchkey/latchkey"
)

// Interval is how often Run cleans up.
const Interval = 10 * time.Minute

// Janitor removes what has outlived its use.
type Janitor struct {
	store     latchkey.Janitor
	retention time.Duration
	clock     func() time.Time
	log       *slog.Logger
}

// New returns a Janitor that keeps audit events for retention.
func New(store latchkey.Janitor, retention time.Duration, clock func() time.Time, logger *slog.Logger) *Janitor {
	if clock == nil {
		clock = time.Now
	}
	return &Janitor{store: store, retention: retention, clock: clock, log: logger}
}

// Once runs one clean-up: sessions, refresh tokens and codes that expired
// (or were revoked) before now, and audit events older than now minus the
// retention. It returns the number of rows removed.
func (j *Janitor) Once(ctx context.Context) (int64, error) {
	now := j.clock().UTC()
	n, err := j.store.DeleteExpired(ctx, now, now.Add(-j.retention))
	if err != nil {
		return 0, err
	}
	j.log.InfoContext(ctx, "expired rows removed", "rows", n, "audit_before", now.Add(-j.retention).Format(time.RFC3339))
	return n, nil
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
