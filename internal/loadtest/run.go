package loadtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Options configure one run against one server.
type Options struct {
	BaseURL     string
	Scenarios   []string      // names from ScenarioNames, measured in this order
	Concurrency int           // workers per scenario
	Duration    time.Duration // measured time per scenario
	Warmup      time.Duration // unmeasured time per scenario before it
	HTTPClient  *http.Client  // nil: NewHTTPClient(Concurrency, 10s)

	// HashRate, when set, is measured before the scenarios so that the
	// signup and login rates can be given as a ratio to it.
	HashRate *HashRateOptions

	// ServerMemory, when set, reads the server's current and peak RSS in
	// bytes; the peak is recorded after every scenario.
	ServerMemory func() (rss, peak uint64, err error)

	Logger *slog.Logger
	Now    func() time.Time
}

// Run measures every scenario in turn and returns the report (without the
// machine and target, which the caller knows).
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := CheckScenarios(o.Scenarios); err != nil {
		return nil, err
	}
	if err := CheckLoopback(o.BaseURL); err != nil {
		return nil, err
	}
	if o.Concurrency < 1 || o.Duration <= 0 || o.Warmup < 0 {
		return nil, fmt.Errorf("concurrency must be at least 1 and duration positive")
	}
	if o.HTTPClient == nil {
		o.HTTPClient = NewHTTPClient(o.Concurrency, 10*time.Second)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	rep := &Report{
		Concurrency: o.Concurrency,
		DurationS:   o.Duration.Seconds(),
		WarmupS:     o.Warmup.Seconds(),
	}
	if o.ServerMemory != nil {
		rss, _, err := o.ServerMemory()
		if err != nil {
			return nil, fmt.Errorf("reading server memory: %w", err)
		}
		rep.Server = &ServerMemory{IdleRSSBytes: rss}
	}
	if o.HashRate != nil {
		o.Logger.Info("measuring argon2id hashing rate", "duration", o.HashRate.Duration)
		hr := MeasureHashRate(ctx, *o.HashRate)
		rep.HashRate = &hr
	}

	e := &env{
		c:    NewClient(o.BaseURL, o.HTTPClient),
		pool: &pool{runID: rand.Text()[:10], password: "lt-" + rand.Text()},
	}
	e.pool.c = e.c
	for _, name := range o.Scenarios {
		o.Logger.Info("preparing scenario", "scenario", name)
		ops, err := scenarios[name](ctx, e, o.Concurrency)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("run interrupted preparing %s: %w", name, ctx.Err())
			}
			// One scenario the server cannot serve (an endpoint it lacks,
			// say) should not cost the figures of the others.
			o.Logger.Error("scenario could not be prepared", "scenario", name, "err", err)
			rep.Scenarios = append(rep.Scenarios, Result{Scenario: name, Concurrency: o.Concurrency,
				Errors: map[string]uint64{}, SetupError: err.Error()})
			continue
		}
		if o.Warmup > 0 {
			measure(ctx, ops, o.Warmup, o.Now)
		}
		o.Logger.Info("measuring scenario", "scenario", name, "duration", o.Duration)
		hist, requests, errs, elapsed := measure(ctx, ops, o.Duration, o.Now)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("run interrupted during %s: %w", name, err)
		}
		res := newResult(name, o.Concurrency, &hist, requests, errs, elapsed)
		if o.ServerMemory != nil {
			_, peak, err := o.ServerMemory()
			if err != nil {
				return nil, fmt.Errorf("reading server memory: %w", err)
			}
			res.ServerPeakRSSBytes = peak
			rep.Server.PeakRSSBytes = max(rep.Server.PeakRSSBytes, peak)
		}
		rep.Scenarios = append(rep.Scenarios, res)
	}
	rep.addRatios()
	return rep, nil
}

func newResult(name string, concurrency int, h *Histogram, requests uint64, errs map[string]uint64, elapsed time.Duration) Result {
	ok := h.Count()
	r := Result{
		Scenario:    name,
		Concurrency: concurrency,
		ElapsedS:    elapsed.Seconds(),
		Requests:    requests,
		Successful:  ok,
		Latency:     h.Summary(),
		Errors:      errs,
	}
	if elapsed > 0 {
		r.RequestsPerS = float64(ok) / elapsed.Seconds()
	}
	return r
}

// addRatios relates hashing-bound scenarios to the hashing rate and
// token-authenticated ones to /healthz, when those were measured.
func (r *Report) addRatios() {
	var healthz float64
	for _, s := range r.Scenarios {
		if s.Scenario == "healthz" {
			healthz = s.RequestsPerS
		}
	}
	for i := range r.Scenarios {
		s := &r.Scenarios[i]
		if hashBound(s.Scenario) && r.HashRate != nil && r.HashRate.PerS > 0 {
			s.RatioToHashRate = s.RequestsPerS / r.HashRate.PerS
		}
		if tokenAuthenticated(s.Scenario) && healthz > 0 {
			s.RatioToHealthz = s.RequestsPerS / healthz
		}
	}
}
