package ratelimit

import "time"

// scaleDuration multiplies d by f, never below one millisecond (the
// shortest period a rule accepts).
func scaleDuration(d time.Duration, f float64) time.Duration {
	return max(time.Millisecond, time.Duration(float64(d)*f))
}

// Scaled returns the rules with every period multiplied by f. It exists so
// that end-to-end tests can watch a wait pass in seconds instead of
// minutes; f = 1 returns the rules unchanged. Limits (bursts) stay as they are.
func (r Rules) Scaled(f float64) Rules {
	if f == 1 {
		return r
	}
	for _, p := range r.fields() {
		p.Period = scaleDuration(p.Period, f)
	}
	return r
}

// Scaled returns the back-off with every time multiplied by f (for tests,
// as Rules.Scaled). The number of free failures stays as it is.
func (c BackoffConfig) Scaled(f float64) BackoffConfig {
	if f == 1 {
		return c
	}
	c.BaseLock = scaleDuration(c.BaseLock, f)
	c.MaxLock = scaleDuration(c.MaxLock, f)
	c.ForgetAfter = scaleDuration(c.ForgetAfter, f)
	return c
}
