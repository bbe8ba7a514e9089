package ratelimit

import (
	"fmt"
	"time"
)

// BackoffConfig sets how failures on one account are slowed down. The
// defaults (DefaultBackoff) and the reasons for them are in
// docs/rate-limits.md.
type BackoffConfig struct {
	// FreeFailures is how many failures cost nothing (typos happen).
	FreeFailures int
	// BaseLock is the lock after the first failure beyond the free ones; each
	// further failure doubles it, up to MaxLock.
	BaseLock, MaxLock time.Duration
	// ForgetAfter is the quiet period after the last failure (or the end of
	// the lock, if later) after which the count starts again from zero.
	ForgetAfter time.Duration
}

// DefaultBackoff returns latchkey's defaults: 5 free failures, then locks of
// 30 s, 1 min, 2 min, … up to 15 min, forgotten after 1 h of quiet.
func DefaultBackoff() BackoffConfig {
	return BackoffConfig{FreeFailures: 5, BaseLock: 30 * time.Second, MaxLock: 15 * time.Minute, ForgetAfter: time.Hour}
}

// Validate reports a configuration that would not slow anybody down, or
// would lock an account forever.
func (c BackoffConfig) Validate() error {
	switch {
	case c.FreeFailures < 0:
		return fmt.Errorf("ratelimit: backoff: free failures must not be negative, got %d", c.FreeFailures)
	case c.BaseLock < time.Millisecond:
		return fmt.Errorf("ratelimit: backoff: base lock must be at least 1ms, got %s", c.BaseLock)
	case c.MaxLock < c.BaseLock:
		return fmt.Errorf("ratelimit: backoff: max lock %s is shorter than base lock %s", c.MaxLock, c.BaseLock)
	case c.ForgetAfter < c.MaxLock:
		return fmt.Errorf("ratelimit: backoff: forget-after %s is shorter than max lock %s", c.ForgetAfter, c.MaxLock)
	}
	return nil
}

// lockFor returns the lock caused by the n-th failure in a row (1-based).
func (c BackoffConfig) lockFor(n int) time.Duration {
	beyond := n - c.FreeFailures
	if beyond <= 0 {
		return 0
	}
	lock := c.BaseLock
	for i := 1; i < beyond && lock < c.MaxLock; i++ {
		lock *= 2
	}
	return min(lock, c.MaxLock)
}
