package auth_test

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
)

// auditAt writes n audit events of typ and outcome at tm.
func (f *fixture) auditAt(t *testing.T, tm time.Time, typ, outcome string, n int) {
	t.Helper()
	for range n {
		if err := f.db.AppendAudit(t.Context(), &latchkey.AuditEvent{ID: latchkey.NewID(tm), Time: tm, Type: typ, Outcome: outcome}); err != nil {
			t.Fatal(err)
		}
	}
}

func activity(t *testing.T, f *fixture) *auth.Activity {
	t.Helper()
	a, err := f.svc.Activity(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestActivityBucketsThePastWeek: the chart counts each series' events
// per UTC hour over the last 7 days, the hour under way included, and
// nothing outside them.
func TestActivityBucketsThePastWeek(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now() // 2031-03-14 15:09:26.535897932
	from := time.Date(2031, 3, 7, 16, 0, 0, 0, time.UTC)
	hour := func(i int) time.Time { return from.Add(time.Duration(i) * time.Hour) }
	const ok, failed = latchkey.OutcomeSuccess, latchkey.OutcomeFailure

	f.auditAt(t, from.Add(-time.Microsecond), latchkey.AuditLoginSucceeded, ok, 1) // the hour before the week
	f.auditAt(t, from, latchkey.AuditLoginSucceeded, ok, 1)
	f.auditAt(t, hour(5).Add(time.Minute), latchkey.AuditOAuthLogin, ok, 1)
	f.auditAt(t, hour(5).Add(59*time.Minute), latchkey.AuditEmailSignIn, ok, 1)
	f.auditAt(t, hour(10), latchkey.AuditLoginFailed, failed, 2)
	f.auditAt(t, hour(10).Add(time.Hour-time.Microsecond), latchkey.AuditReauthenticated, failed, 1)
	f.auditAt(t, hour(10), latchkey.AuditReauthenticated, ok, 1) // a confirmed password is no failure
	f.auditAt(t, hour(50), latchkey.AuditSignup, ok, 1)          // not a series
	f.auditAt(t, hour(100), latchkey.AuditRefresh, ok, 3)
	f.auditAt(t, hour(100), latchkey.AuditRefreshGrace, ok, 1)
	f.auditAt(t, hour(100), latchkey.AuditRefreshReuse, failed, 1) // not a refresh that worked
	f.auditAt(t, now.Add(-time.Second), latchkey.AuditRateLimited, failed, 1)
	f.auditAt(t, now, latchkey.AuditRateLimited, failed, 1)                  // this very moment
	f.auditAt(t, now.Add(time.Second), latchkey.AuditLoginFailed, failed, 1) // the future is not counted

	a := activity(t, f)
	if !a.From.Equal(from) || !a.To.Equal(now) || len(a.Hours) != auth.ActivityHours {
		t.Fatalf("from %v to %v, %d hours; want from %v to %v, %d hours", a.From, a.To, len(a.Hours), from, now, auth.ActivityHours)
	}
	want := map[int]auth.ActivityCounts{
		0:   {SignIns: 1},
		5:   {SignIns: 2},
		10:  {Failures: 3},
		100: {Refreshes: 4},
		167: {RateLimited: 2},
	}
	for i, h := range a.Hours {
		if !h.Start.Equal(hour(i)) || h.Start.Location() != time.UTC {
			t.Fatalf("hour %d starts at %v, want %v", i, h.Start, hour(i))
		}
		if h.ActivityCounts != want[i] {
			t.Errorf("hour %d (%s): %+v, want %+v", i, h.Start.Format(time.RFC3339), h.ActivityCounts, want[i])
		}
		if h.Spike {
			t.Errorf("hour %d is a spike with %d failures", i, h.Failures)
		}
	}
	if total := (auth.ActivityCounts{SignIns: 3, Failures: 3, Refreshes: 4, RateLimited: 2}); a.Total != total {
		t.Errorf("total %+v, want %+v", a.Total, total)
	}

	// An hour later the week has moved on: its first hour is gone, and the
	// event a second in the future is in the hour under way.
	f.clock.Advance(time.Hour)
	a = activity(t, f)
	if !a.From.Equal(hour(1)) || a.Hours[0].ActivityCounts != (auth.ActivityCounts{}) || a.Hours[4].SignIns != 2 {
		t.Errorf("an hour later: from %v, first hours %+v", a.From, a.Hours[:5])
	}
	if a.Hours[166].RateLimited != 2 || a.Hours[166].Failures != 1 || a.Total.SignIns != 2 {
		t.Errorf("an hour later: hour 166 %+v, total %+v", a.Hours[166], a.Total)
	}
}

// TestActivityFailureSpikes: an hour is a spike when its failures are
// above the week's mean + 3σ and at least auth.MinFailureSpike.
func TestActivityFailureSpikes(t *testing.T) {
	t.Run("an attack in a noisy week", func(t *testing.T) {
		f := newFixture(t)
		a := activity(t, f)
		for i := range 100 {
			f.auditAt(t, a.Hours[i].Start, latchkey.AuditLoginFailed, latchkey.OutcomeFailure, 1)
		}
		f.auditAt(t, a.Hours[150].Start, latchkey.AuditLoginFailed, latchkey.OutcomeFailure, 40)
		f.auditAt(t, a.Hours[160].Start, latchkey.AuditLoginFailed, latchkey.OutcomeFailure, 6)
		a = activity(t, f)
		// 146 failures over 168 hours.
		mean := 146.0 / 168
		if d := a.FailureMean - mean; d > 1e-9 || d < -1e-9 {
			t.Errorf("mean %v, want %v", a.FailureMean, mean)
		}
		if a.FailureThreshold < 10 || a.FailureThreshold > 11 || a.FailureThreshold != a.FailureMean+3*a.FailureStdDev {
			t.Errorf("threshold %v (mean %v, σ %v), want mean + 3σ ≈ 10.5", a.FailureThreshold, a.FailureMean, a.FailureStdDev)
		}
		for i, h := range a.Hours {
			if h.Spike != (i == 150) {
				t.Errorf("hour %d with %d failures: spike %v", i, h.Failures, h.Spike)
			}
		}
	})
	t.Run("a quiet week", func(t *testing.T) {
		f := newFixture(t)
		a := activity(t, f)
		if a.FailureMean != 0 || a.FailureStdDev != 0 || a.FailureThreshold != auth.MinFailureSpike {
			t.Errorf("an empty week: mean %v, σ %v, threshold %v", a.FailureMean, a.FailureStdDev, a.FailureThreshold)
		}
		// Four typos in an hour stand out statistically, but are not a spike.
		f.auditAt(t, a.Hours[20].Start, latchkey.AuditLoginFailed, latchkey.OutcomeFailure, auth.MinFailureSpike-1)
		a = activity(t, f)
		if a.Hours[20].Spike || a.FailureThreshold != auth.MinFailureSpike {
			t.Errorf("%d failures: spike %v, threshold %v", a.Hours[20].Failures, a.Hours[20].Spike, a.FailureThreshold)
		}
		f.auditAt(t, a.Hours[20].Start, latchkey.AuditLoginFailed, latchkey.OutcomeFailure, 1)
		if a = activity(t, f); !a.Hours[20].Spike {
			t.Errorf("%d failures in an otherwise quiet week: not a spike", a.Hours[20].Failures)
		}
	})
}
