// Package ratelimit limits how often a key (a client IP, an account, an API
// key prefix) may do something, and slows down repeated failures on one
// account. Limits use GCRA, the generic cell rate algorithm: one timestamp per
// key, exact under concurrency, with a burst of Rule.Limit requests that then
// refills evenly over Rule.Period.
//
// Memory keeps state in this process; Redis shares it between instances;
// Fallback uses Redis and answers from memory while Redis is unreachable, so
// requests are never let through unlimited.
package ratelimit

import (
	"context"
	"fmt"
	"time"
)

// Rule allows Limit requests per Period for each key: a burst of Limit, and
// then one request every Period/Limit.
type Rule struct {
	Name   string
	Limit  int
	Period time.Duration
}

// Validate reports a rule that cannot limit anything.
func (r Rule) Validate() error {
	switch {
	case r.Name == "":
		return fmt.Errorf("ratelimit: rule has no name")
	case r.Limit <= 0:
		return fmt.Errorf("ratelimit: rule %q: limit must be positive, got %d", r.Name, r.Limit)
	case r.Period < time.Millisecond:
		return fmt.Errorf("ratelimit: rule %q: period must be at least 1ms, got %s", r.Name, r.Period)
	case r.Period/time.Duration(r.Limit) < time.Microsecond:
		return fmt.Errorf("ratelimit: rule %q: more than one request per microsecond", r.Name)
	}
	return nil
}

// interval is the time one request uses up of the rule's capacity.
func (r Rule) interval() time.Duration { return r.Period / time.Duration(r.Limit) }

// Decision is the answer to one Allow call.
type Decision struct {
	Allowed bool
	// Limit is the rule's burst; Remaining how many more requests would be
	// allowed right now.
	Limit, Remaining int
	// RetryAfter is how long to wait before a request can be allowed (zero
	// when Allowed). ResetAfter is how long until the key is back to its full
	// burst.
	RetryAfter, ResetAfter time.Duration
}

// Limiter decides whether one more request under rule is allowed for key.
// An allowed request is counted; a refused one is not.
type Limiter interface {
	Allow(ctx context.Context, rule Rule, key string) (Decision, error)
}

// Backoff slows down repeated failures on one key (an account): after a few
// free failures, each further failure locks the key for a growing time.
type Backoff interface {
	// Wait returns how long the key is still locked (zero when it is not).
	Wait(ctx context.Context, key string) (time.Duration, error)
	// Fail records a failure and returns the lock it caused (zero while the
	// failure was free).
	Fail(ctx context.Context, key string) (time.Duration, error)
	// Reset forgets the key's failures, after a success.
	Reset(ctx context.Context, key string) error
}

// Store is a backend that implements both Limiter and Backoff.
type Store interface {
	Limiter
	Backoff
	// Ping reports whether the backend can answer.
	Ping(ctx context.Context) error
}

// decide is GCRA on integer times counted in unit (memory uses nanoseconds,
// Redis microseconds). tat is the stored theoretical arrival time (zero or in
// the past when the key is idle). It returns the decision and the new tat to
// store when allowed.
func decide(now, tat, interval, period int64, limit int, unit time.Duration) (d Decision, newTAT int64) {
	tat = max(tat, now)
	newTAT = tat + interval
	allowAt := newTAT - period
	if now < allowAt {
		return Decision{Limit: limit, RetryAfter: time.Duration(allowAt-now) * unit, ResetAfter: time.Duration(tat-now) * unit}, 0
	}
	reset := newTAT - now
	return Decision{
		Allowed:    true,
		Limit:      limit,
		Remaining:  min(limit, int((period-reset)/interval)),
		ResetAfter: time.Duration(reset) * unit,
	}, newTAT
}
