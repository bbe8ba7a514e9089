package auth

import (
	"context"
	"math"
	"time"

	"github.com/latchkey/latchkey"
)

// ActivityHours is how far back the activity chart looks, an hour at a
// time: 7 days, ending with the hour that is under way.
const ActivityHours = 7 * 24

// MinFailureSpike is the fewest failures an hour needs to be called a
// spike: in a quiet week a handful of typos would otherwise stand out.
const MinFailureSpike = 5

// ActivityCounts are the activity chart's four series.
type ActivityCounts struct {
	// SignIns: successful sign-ins by password, social login or mailed link
	// (login.succeeded, oauth.login, email.sign_in).
	SignIns int64
	// Failures: failed sign-ins (login.failed) and failed password
	// confirmations of signed-in sessions (session.reauthenticated with
	// outcome failure): both are password guesses.
	Failures int64
	// Refreshes: access tokens renewed with a refresh token (refresh,
	// refresh.grace).
	Refreshes int64
	// RateLimited: requests refused by a rate limit (rate_limited), which
	// the audit log records at most once a minute per rule and client or
	// account: a lower bound of the refusals.
	RateLimited int64
}

// ActivityHour is one hour of the chart.
type ActivityHour struct {
	Start time.Time // the hour's start, UTC
	ActivityCounts
	// Spike: the hour's failures stand out from the week's (see Activity).
	Spike bool
}

// Activity is the audit log's sign-in activity over the last
// ActivityHours hours.
type Activity struct {
	From  time.Time // the first hour's start
	To    time.Time // now: the last hour is under way
	Hours []ActivityHour
	Total ActivityCounts
	// Failures per hour over the period: mean and (population) standard
	// deviation. An hour is a spike when its failures are above
	// FailureMean + 3·FailureStdDev and at least MinFailureSpike;
	// FailureThreshold is the larger of the two bounds.
	FailureMean, FailureStdDev, FailureThreshold float64
}

// activityTypes are the audit event types the chart counts.
var activityTypes = []string{
	latchkey.AuditLoginSucceeded, latchkey.AuditOAuthLogin, latchkey.AuditEmailSignIn,
	latchkey.AuditLoginFailed, latchkey.AuditReauthenticated,
	latchkey.AuditRefresh, latchkey.AuditRefreshGrace,
	latchkey.AuditRateLimited,
}

// series is the count an event of typ and outcome adds to, or nil.
func (c *ActivityCounts) series(typ, outcome string) *int64 {
	switch typ {
	case latchkey.AuditLoginSucceeded, latchkey.AuditOAuthLogin, latchkey.AuditEmailSignIn:
		if outcome == latchkey.OutcomeSuccess {
			return &c.SignIns
		}
	case latchkey.AuditLoginFailed:
		return &c.Failures
	case latchkey.AuditReauthenticated:
		if outcome == latchkey.OutcomeFailure {
			return &c.Failures
		}
	case latchkey.AuditRefresh, latchkey.AuditRefreshGrace:
		if outcome == latchkey.OutcomeSuccess {
			return &c.Refreshes
		}
	case latchkey.AuditRateLimited:
		return &c.RateLimited
	}
	return nil
}

func (c *ActivityCounts) add(o ActivityCounts) {
	c.SignIns += o.SignIns
	c.Failures += o.Failures
	c.Refreshes += o.Refreshes
	c.RateLimited += o.RateLimited
}

// Activity counts sign-ins, failures, refreshes and rate-limit refusals
// per hour over the last ActivityHours hours, from the audit log, and
// marks the hours whose failures stand out.
func (s *Service) Activity(ctx context.Context) (*Activity, error) {
	now := s.now().UTC()
	from := now.Truncate(time.Hour).Add(-(ActivityHours - 1) * time.Hour)
	// The store's bound is exclusive: an event stamped this very
	// microsecond still counts.
	counts, err := s.store.CountAuditByHour(ctx, from, now.Add(time.Microsecond), activityTypes)
	if err != nil {
		return nil, err
	}
	a := &Activity{From: from, To: now, Hours: make([]ActivityHour, ActivityHours)}
	for i := range a.Hours {
		a.Hours[i].Start = from.Add(time.Duration(i) * time.Hour)
	}
	for _, c := range counts {
		i := int(c.Hour.Sub(from) / time.Hour)
		if i < 0 || i >= len(a.Hours) {
			continue
		}
		if n := a.Hours[i].series(c.Type, c.Outcome); n != nil {
			*n += c.Count
		}
	}
	var sum, sumSq float64
	for _, h := range a.Hours {
		a.Total.add(h.ActivityCounts)
		f := float64(h.Failures)
		sum, sumSq = sum+f, sumSq+f*f
	}
	n := float64(len(a.Hours))
	a.FailureMean = sum / n
	a.FailureStdDev = math.Sqrt(max(0, sumSq/n-a.FailureMean*a.FailureMean))
	bound := a.FailureMean + 3*a.FailureStdDev
	a.FailureThreshold = max(bound, MinFailureSpike)
	for i := range a.Hours {
		f := a.Hours[i].Failures
		a.Hours[i].Spike = f >= MinFailureSpike && float64(f) > bound
	}
	return a, nil
}
