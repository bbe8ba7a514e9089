package loadtest

import (
	"context"
	"sync"
	"time"
)

// tally is one worker's record; workers never share one while measuring.
type tally struct {
	hist     Histogram
	requests uint64
	errors   map[string]uint64
}

// measure runs every op in its own goroutine, back to back, until the
// duration has passed: no op is started after that, and one in flight is
// bounded by the client's timeout. Latencies of successful requests go into
// the histogram; failed ones are counted by kind. A request cut short
// because ctx ended is not counted at all.
func measure(ctx context.Context, ops []op, duration time.Duration, now func() time.Time) (Histogram, uint64, map[string]uint64, time.Duration) {
	tallies := make([]*tally, len(ops))
	start := now()
	end := start.Add(duration)
	var wg sync.WaitGroup
	for i, o := range ops {
		t := &tally{errors: map[string]uint64{}}
		tallies[i] = t
		wg.Go(func() {
			for ctx.Err() == nil && now().Before(end) {
				t0 := now()
				out := o(ctx)
				d := now().Sub(t0)
				if ctx.Err() != nil {
					return
				}
				t.requests++
				if out.OK() {
					t.hist.Record(d)
				} else {
					t.errors[out.Kind()]++
				}
			}
		})
	}
	wg.Wait()
	elapsed := now().Sub(start)

	var hist Histogram
	var requests uint64
	errs := map[string]uint64{}
	for _, t := range tallies {
		hist.Merge(&t.hist)
		requests += t.requests
		for k, v := range t.errors {
			errs[k] += v
		}
	}
	return hist, requests, errs, elapsed
}
