package ratelimit

import (
	"context"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/testenv"
)

func TestMemory(t *testing.T) {
	var clock *testenv.Clock
	runSuite(t, harness{
		newStore: func(t *testing.T, opts ...Option) Store {
			clock = testenv.NewClock(t0)
			return NewMemory(clock.Now, opts...)
		},
		advance: func(d time.Duration) { clock.Advance(d) },
	})
}

func TestMemorySweepsExpiredEntries(t *testing.T) {
	ctx := context.Background()
	clock := testenv.NewClock(t0)
	m := NewMemory(clock.Now, WithBackoff(BackoffConfig{FreeFailures: 5, BaseLock: time.Second, MaxLock: time.Second, ForgetAfter: time.Minute}))
	rule := Rule{Name: "login", Limit: 5, Period: time.Minute}
	const n = 20_000
	for i := range n {
		if _, err := m.Allow(ctx, rule, "ip-"+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Fail(ctx, "acct-"+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := m.Len(); got != 2*n {
		t.Fatalf("Len = %d, want %d", got, 2*n)
	}
	clock.Advance(2 * time.Minute)
	// Fresh traffic pays for the sweep of the shards it touches.
	for i := range n {
		m.Allow(ctx, rule, "new-"+strconv.Itoa(i))
	}
	if got := m.Len(); got > n+n/2 {
		t.Fatalf("Len = %d after all old entries expired, want about %d", got, n)
	}
}

func TestBackoffConfigValidate(t *testing.T) {
	if err := DefaultBackoff().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []BackoffConfig{
		{FreeFailures: -1, BaseLock: time.Second, MaxLock: time.Second, ForgetAfter: time.Second},
		{FreeFailures: 1, BaseLock: 0, MaxLock: time.Second, ForgetAfter: time.Second},
		{FreeFailures: 1, BaseLock: time.Minute, MaxLock: time.Second, ForgetAfter: time.Hour},
		{FreeFailures: 1, BaseLock: time.Second, MaxLock: time.Hour, ForgetAfter: time.Minute},
	}
	for _, c := range bad {
		if c.Validate() == nil {
			t.Errorf("Validate(%+v) = nil", c)
		}
	}
}

// TestDefaultBackoffSchedule pins the documented schedule (docs/rate-limits.md).
func TestDefaultBackoffSchedule(t *testing.T) {
	c := DefaultBackoff()
	want := []time.Duration{0, 0, 0, 0, 0, 30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute,
		8 * time.Minute, 15 * time.Minute, 15 * time.Minute}
	for i, w := range want {
		if got := c.lockFor(i + 1); got != w {
			t.Errorf("failure %d: lock %s, want %s", i+1, got, w)
		}
	}
	if got := c.lockFor(1 << 40); got != 15*time.Minute {
		t.Errorf("failure 2^40: lock %s", got)
	}
}

func TestDefaultsValid(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Defaults().All() {
		if err := r.Validate(); err != nil {
			t.Error(err)
		}
		if seen[r.Name] {
			t.Errorf("rule name %q used twice", r.Name)
		}
		seen[r.Name] = true
	}
	// All (and so Scaled and the docs test) must cover every field.
	if n, fields := len(Defaults().All()), reflect.TypeFor[Rules]().NumField(); n != fields {
		t.Errorf("Rules has %d fields but All lists %d rules", fields, n)
	}
}
