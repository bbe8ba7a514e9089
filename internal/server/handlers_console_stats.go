package server

import (
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/web"
)

// The activity chart's numbers: the console draws them, GET
// /v1/admin/stats answers them.

type activityCountsJSON struct {
	SignIns     int64 `json:"sign_ins"`
	Failures    int64 `json:"failures"`
	Refreshes   int64 `json:"refreshes"`
	RateLimited int64 `json:"rate_limited"`
}

type activityHourJSON struct {
	Start time.Time `json:"start"`
	activityCountsJSON
	FailureSpike bool `json:"failure_spike"`
}

type activityJSON struct {
	From          time.Time          `json:"from"`
	To            time.Time          `json:"to"`
	BucketSeconds int                `json:"bucket_seconds"`
	Hours         []activityHourJSON `json:"hours"`
	Totals        activityCountsJSON `json:"totals"`
	Failures      struct {
		Mean      float64 `json:"mean"`
		StdDev    float64 `json:"stddev"`
		Threshold float64 `json:"spike_threshold"`
		Minimum   int     `json:"spike_minimum"`
	} `json:"failures"`
}

func countsJSON(c auth.ActivityCounts) activityCountsJSON {
	return activityCountsJSON{SignIns: c.SignIns, Failures: c.Failures, Refreshes: c.Refreshes, RateLimited: c.RateLimited}
}

// round3 keeps three decimals: the statistics are for people and charts.
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

func (s *Server) handleAdminStats() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		a, err := s.auth.Activity(r.Context())
		if err != nil {
			return err
		}
		out := activityJSON{From: a.From, To: a.To, BucketSeconds: int(time.Hour / time.Second), Totals: countsJSON(a.Total),
			Hours: make([]activityHourJSON, 0, len(a.Hours))}
		for _, h := range a.Hours {
			out.Hours = append(out.Hours, activityHourJSON{Start: h.Start, activityCountsJSON: countsJSON(h.ActivityCounts), FailureSpike: h.Spike})
		}
		out.Failures.Mean, out.Failures.StdDev = round3(a.FailureMean), round3(a.FailureStdDev)
		out.Failures.Threshold, out.Failures.Minimum = round3(a.FailureThreshold), auth.MinFailureSpike
		noStore(w)
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

func (s *Server) handleConsoleActivity() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		a, err := s.auth.Activity(r.Context())
		if err != nil {
			return err
		}
		in := web.Activity{Threshold: a.FailureThreshold,
			Rule: fmt.Sprintf("its failed sign-ins are at least %d and above the week's mean plus three standard deviations "+
				"(%.1f an hour this week)", auth.MinFailureSpike, a.FailureMean+3*a.FailureStdDev)}
		for _, h := range a.Hours {
			in.Hours = append(in.Hours, web.ActivityHour{Start: h.Start, SignIns: h.SignIns, Failures: h.Failures, Refreshes: h.Refreshes,
				RateLimit: h.RateLimited, Spike: h.Spike})
		}
		return s.pages.ConsoleActivity(w, web.NewActivityPage(s.console(r, p, web.SectionActivity), in, a.To))
	}
}
