package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultProbeInterval is how long Fallback answers from memory before it
// tries the primary again.
const DefaultProbeInterval = 5 * time.Second

// FallbackOption configures Fallback.
type FallbackOption func(*Fallback)

// WithProbeInterval sets how often the primary is tried while it is down.
func WithProbeInterval(d time.Duration) FallbackOption {
	return func(f *Fallback) { f.probeEvery = d }
}

// WithClock sets the clock used to schedule probes (time.Now by default).
func WithClock(clock func() time.Time) FallbackOption {
	return func(f *Fallback) { f.clock = clock }
}

// Fallback is a Store that uses primary (Redis) and, while primary fails,
// answers from secondary (Memory): limits stay enforced, per instance instead
// of shared. It logs each switch once and reports it through onChange (for
// metrics) and Healthy (for /readyz). While unhealthy, one call per probe
// interval tries primary again; Run does the same in the background so that
// an idle instance recovers too.
//
// Counts made in memory during an outage are not copied to Redis: after
// recovery a key may get up to one extra burst.
type Fallback struct {
	primary, secondary Store
	log                *slog.Logger
	onChange           func(healthy bool)
	probeEvery         time.Duration
	clock              func() time.Time

	healthy atomic.Bool
	mu      sync.Mutex // serializes transitions so logs and onChange stay in order
	lastTry atomic.Int64
}

var _ Store = (*Fallback)(nil)

// NewFallback returns a Fallback that starts out healthy. logger and
// onChange may be nil.
func NewFallback(primary, secondary Store, logger *slog.Logger, onChange func(healthy bool), opts ...FallbackOption) *Fallback {
	f := &Fallback{
		primary: primary, secondary: secondary, log: logger, onChange: onChange,
		probeEvery: DefaultProbeInterval, clock: time.Now,
	}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	for _, opt := range opts {
		opt(f)
	}
	f.healthy.Store(true)
	return f
}

// Healthy reports whether the primary is in use.
func (f *Fallback) Healthy() bool { return f.healthy.Load() }

// Run probes the primary every probe interval while it is down, until ctx
// ends. It is optional: calls also probe, but an instance that gets no
// traffic (because /readyz took it out of the load balancer) needs Run to
// come back.
func (f *Fallback) Run(ctx context.Context) {
	t := time.NewTicker(f.probeEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if !f.healthy.Load() {
				f.lastTry.Store(f.clock().UnixNano())
				f.settle(ctx, f.primary.Ping(ctx))
			}
		}
	}
}

// usePrimary reports whether this call should go to the primary: always while
// healthy; while unhealthy, once per probe interval (this call is the probe).
func (f *Fallback) usePrimary() bool {
	if f.healthy.Load() {
		return true
	}
	now := f.clock().UnixNano()
	last := f.lastTry.Load()
	if now-last < int64(f.probeEvery) {
		return false
	}
	return f.lastTry.CompareAndSwap(last, now)
}

// settle records the outcome of a call to the primary. A cancelled caller
// says nothing about the primary's health.
func (f *Fallback) settle(ctx context.Context, err error) {
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return
	}
	healthy := err == nil
	if f.healthy.Load() == healthy {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.healthy.Load() == healthy {
		return
	}
	if healthy {
		f.log.Info("ratelimit: redis is back; limits are shared again")
	} else {
		f.lastTry.Store(f.clock().UnixNano())
		f.log.Error("ratelimit: redis failed; enforcing limits in memory on this instance", "err", err)
	}
	f.healthy.Store(healthy)
	if f.onChange != nil {
		f.onChange(healthy)
	}
}

// call runs op on the primary when it should be used and it answers, and on
// the secondary otherwise.
func call[T any](ctx context.Context, f *Fallback, op func(Store) (T, error)) (T, error) {
	if f.usePrimary() {
		v, err := op(f.primary)
		f.settle(ctx, err)
		if err == nil {
			return v, nil
		}
		if ctx.Err() != nil {
			return v, err
		}
	}
	return op(f.secondary)
}

// Allow implements Limiter.
func (f *Fallback) Allow(ctx context.Context, rule Rule, key string) (Decision, error) {
	// A bad rule is the caller's mistake, not the primary's.
	if err := rule.Validate(); err != nil {
		return Decision{}, err
	}
	return call(ctx, f, func(s Store) (Decision, error) { return s.Allow(ctx, rule, key) })
}

// Wait implements Backoff.
func (f *Fallback) Wait(ctx context.Context, key string) (time.Duration, error) {
	return call(ctx, f, func(s Store) (time.Duration, error) { return s.Wait(ctx, key) })
}

// Fail implements Backoff.
func (f *Fallback) Fail(ctx context.Context, key string) (time.Duration, error) {
	return call(ctx, f, func(s Store) (time.Duration, error) { return s.Fail(ctx, key) })
}

// Reset implements Backoff. Both stores forget the key, so that a lock made
// in memory during an outage does not outlive a success.
func (f *Fallback) Reset(ctx context.Context, key string) error {
	_, err := call(ctx, f, func(s Store) (struct{}, error) { return struct{}{}, s.Reset(ctx, key) })
	if serr := f.secondary.Reset(ctx, key); err == nil {
		err = serr
	}
	return err
}

// Ping implements Store: the fallback can always answer.
func (f *Fallback) Ping(ctx context.Context) error { return f.secondary.Ping(ctx) }
