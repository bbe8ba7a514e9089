package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// harness is one backend under the behaviour suite. advance moves the
// backend's clock; it is nil for Redis, which reads its own clock, so tests
// there wait for real time instead ("eventually", never "within").
type harness struct {
	newStore func(t *testing.T, opts ...Option) Store
	advance  func(d time.Duration)
}

// t0 is where the tests' clocks start.
var t0 = time.Unix(1_700_000_000, 0)

// elapse lets at least d pass: on the fake clock at once, on Redis (which
// reads its own clock) by sleeping. Tests assert only what must hold once d
// has passed, never that something happens within a time.
func (h harness) elapse(d time.Duration) {
	if h.advance != nil {
		h.advance(d)
		return
	}
	time.Sleep(d + 10*time.Millisecond)
}

func runSuite(t *testing.T, h harness) {
	ctx := context.Background()

	t.Run("LimitReached", func(t *testing.T) {
		s := h.newStore(t)
		rule := Rule{Name: "login", Limit: 3, Period: time.Minute}
		for i := range 3 {
			d, err := s.Allow(ctx, rule, "k")
			if err != nil {
				t.Fatal(err)
			}
			if !d.Allowed || d.Limit != 3 || d.Remaining != 2-i || d.RetryAfter != 0 {
				t.Fatalf("request %d: %+v, want allowed with %d remaining", i+1, d, 2-i)
			}
		}
		d, err := s.Allow(ctx, rule, "k")
		if err != nil {
			t.Fatal(err)
		}
		interval := 20 * time.Second
		if d.Allowed || d.Remaining != 0 {
			t.Fatalf("4th request: %+v, want refused", d)
		}
		if d.RetryAfter <= 0 || d.RetryAfter > interval || d.ResetAfter < d.RetryAfter || d.ResetAfter > time.Minute {
			t.Fatalf("4th request: RetryAfter %s ResetAfter %s, want RetryAfter in (0, %s]", d.RetryAfter, d.ResetAfter, interval)
		}
		if h.advance != nil && (d.RetryAfter != interval || d.ResetAfter != time.Minute) {
			t.Fatalf("4th request with a still clock: RetryAfter %s ResetAfter %s, want %s and 1m", d.RetryAfter, d.ResetAfter, interval)
		}
		// A refused request is not counted: still refused, not further behind.
		d2, _ := s.Allow(ctx, rule, "k")
		if d2.Allowed || d2.RetryAfter > d.RetryAfter {
			t.Fatalf("5th request: %+v, want refused with no longer wait than %s", d2, d.RetryAfter)
		}
	})

	t.Run("Recovery", func(t *testing.T) {
		s := h.newStore(t)
		rule := Rule{Name: "refresh", Limit: 2, Period: 200 * time.Millisecond}
		exhaust(t, s, rule, "k")
		h.elapse(100 * time.Millisecond)
		if d, err := s.Allow(ctx, rule, "k"); err != nil || !d.Allowed {
			t.Fatalf("after one interval: %+v, %v; want allowed", d, err)
		}
		exhaust(t, s, rule, "k")
		h.elapse(200 * time.Millisecond)
		if d, err := s.Allow(ctx, rule, "k"); err != nil || !d.Allowed || d.Remaining != 1 {
			t.Fatalf("after a whole period: %+v, %v; want allowed with 1 remaining", d, err)
		}
	})

	t.Run("ExactUnderConcurrency", func(t *testing.T) {
		s := h.newStore(t)
		rule := Rule{Name: "login", Limit: 10, Period: time.Hour}
		var allowed atomic.Int32
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				d, err := s.Allow(ctx, rule, "victim")
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					allowed.Add(1)
				}
			})
		}
		wg.Wait()
		if n := allowed.Load(); n != 10 {
			t.Fatalf("%d of 100 parallel requests allowed, want exactly 10", n)
		}
	})

	t.Run("KeysIsolated", func(t *testing.T) {
		s := h.newStore(t)
		rule := Rule{Name: "login", Limit: 1, Period: time.Hour}
		other := Rule{Name: "signup", Limit: 1, Period: time.Hour}
		exhaust(t, s, rule, "a")
		for _, c := range []struct {
			rule Rule
			key  string
		}{{rule, "b"}, {other, "a"}, {rule, "a:"}, {rule, "A"}} {
			d, err := s.Allow(ctx, c.rule, c.key)
			if err != nil || !d.Allowed {
				t.Errorf("Allow(%s, %q) = %+v, %v; want allowed", c.rule.Name, c.key, d, err)
			}
		}
		if _, err := s.Fail(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		if w, _ := s.Wait(ctx, "b"); w != 0 {
			t.Errorf("Wait(b) = %s after failures on a", w)
		}
	})

	t.Run("InvalidRule", func(t *testing.T) {
		s := h.newStore(t)
		for _, r := range []Rule{{"", 1, time.Second}, {"x", 0, time.Second}, {"x", 1, 0}, {"x", 1 << 30, time.Millisecond}} {
			if _, err := s.Allow(ctx, r, "k"); err == nil {
				t.Errorf("Allow(%+v) accepted", r)
			}
		}
	})

	t.Run("BackoffGrowsAndResets", func(t *testing.T) {
		cfg := BackoffConfig{FreeFailures: 2, BaseLock: time.Minute, MaxLock: 4 * time.Minute, ForgetAfter: time.Hour}
		s := h.newStore(t, WithBackoff(cfg))
		want := []time.Duration{0, 0, time.Minute, 2 * time.Minute, 4 * time.Minute, 4 * time.Minute}
		for i, w := range want {
			got, err := s.Fail(ctx, "acct")
			if err != nil {
				t.Fatal(err)
			}
			if got != w {
				t.Fatalf("failure %d: lock %s, want %s", i+1, got, w)
			}
		}
		w, err := s.Wait(ctx, "acct")
		if err != nil || w <= 3*time.Minute || w > 4*time.Minute {
			t.Fatalf("Wait = %s, %v; want about 4m", w, err)
		}
		if err := s.Reset(ctx, "acct"); err != nil {
			t.Fatal(err)
		}
		if w, _ := s.Wait(ctx, "acct"); w != 0 {
			t.Fatalf("Wait after Reset = %s", w)
		}
		if got, _ := s.Fail(ctx, "acct"); got != 0 {
			t.Fatalf("first failure after Reset locked for %s", got)
		}
	})

	t.Run("BackoffLockPassesAndIsForgotten", func(t *testing.T) {
		cfg := BackoffConfig{FreeFailures: 1, BaseLock: 100 * time.Millisecond, MaxLock: 200 * time.Millisecond, ForgetAfter: 300 * time.Millisecond}
		s := h.newStore(t, WithBackoff(cfg))
		s.Fail(ctx, "acct")
		if got, _ := s.Fail(ctx, "acct"); got != 100*time.Millisecond {
			t.Fatalf("second failure locked for %s, want 100ms", got)
		}
		// The owner gets back in once the wait passes.
		h.elapse(100 * time.Millisecond)
		if w, err := s.Wait(ctx, "acct"); err != nil || w != 0 {
			t.Fatalf("Wait after the lock = %s, %v; want 0", w, err)
		}
		// After a quiet period the count starts again: the next failure is free.
		h.elapse(300 * time.Millisecond)
		if got, err := s.Fail(ctx, "acct"); err != nil || got != 0 {
			t.Fatalf("failure after the quiet period locked for %s, %v; want free", got, err)
		}
		if got, _ := s.Fail(ctx, "acct"); got != 100*time.Millisecond {
			t.Fatalf("second failure after the quiet period locked for %s, want 100ms", got)
		}
	})
}

// exhaust uses up rule for key, failing if that takes implausibly long.
func exhaust(t *testing.T, s Limiter, rule Rule, key string) {
	t.Helper()
	for range rule.Limit * 100 {
		d, err := s.Allow(context.Background(), rule, key)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Allowed {
			return
		}
	}
	t.Fatalf("%s never refused %q", rule.Name, key)
}
