package loadtest

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// exactQuantile is the nearest-rank quantile of sorted values.
func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func TestHistogramQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name string
		gen  func(i int) time.Duration
		n    int
	}{
		{"tiny exact values", func(i int) time.Duration { return time.Duration(i % 100) }, 1000},
		{"uniform 1..1000 µs", func(i int) time.Duration { return time.Duration(i+1) * time.Microsecond }, 1000},
		{"exponential around 2 ms", func(int) time.Duration {
			return time.Duration(rng.ExpFloat64() * float64(2*time.Millisecond))
		}, 20000},
		{"bimodal with a slow tail", func(i int) time.Duration {
			if i%50 == 0 {
				return 800*time.Millisecond + time.Duration(rng.IntN(1e6))
			}
			return time.Millisecond + time.Duration(rng.IntN(1e5))
		}, 5000},
		{"one value", func(int) time.Duration { return 42 * time.Millisecond }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Histogram
			vals := make([]time.Duration, tt.n)
			for i := range vals {
				vals[i] = tt.gen(i)
				h.Record(vals[i])
			}
			slices.Sort(vals)
			if h.Count() != uint64(tt.n) {
				t.Fatalf("count %d, want %d", h.Count(), tt.n)
			}
			if h.Max() != vals[len(vals)-1] {
				t.Errorf("max %v, want exactly %v", h.Max(), vals[len(vals)-1])
			}
			for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 0.999, 1} {
				got, want := h.Quantile(q), exactQuantile(vals, q)
				// Never below the true value, never more than 1/128 above it.
				if got < want || float64(got-want) > float64(want)/128 {
					t.Errorf("q%.3f = %v, want %v (within +0.8%%)", q, got, want)
				}
			}
		})
	}
}

func TestHistogramSmallValuesAreExact(t *testing.T) {
	var h Histogram
	for v := range 100 {
		h.Record(time.Duration(v + 1))
	}
	if got := h.Quantile(0.5); got != 50 {
		t.Errorf("p50 of 1..100 ns = %v, want 50ns", got)
	}
	if got := h.Quantile(0.99); got != 99 {
		t.Errorf("p99 of 1..100 ns = %v, want 99ns", got)
	}
}

func TestHistogramMergeEqualsOneHistogram(t *testing.T) {
	var a, b, all Histogram
	for i := range 3000 {
		d := time.Duration(i*i) * time.Nanosecond
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(&b)
	if a.Count() != all.Count() || a.Max() != all.Max() {
		t.Fatalf("merged count/max %d/%v, want %d/%v", a.Count(), a.Max(), all.Count(), all.Max())
	}
	for _, q := range []float64{0.5, 0.9, 0.99} {
		if a.Quantile(q) != all.Quantile(q) {
			t.Errorf("q%v: merged %v, single %v", q, a.Quantile(q), all.Quantile(q))
		}
	}
}

func TestHistogramEmptyAndNegative(t *testing.T) {
	var h Histogram
	if h.Quantile(0.99) != 0 || h.Summary() != (Latency{}) {
		t.Errorf("empty histogram: %v %+v, want zeros", h.Quantile(0.99), h.Summary())
	}
	h.Record(-time.Second)
	if h.Count() != 1 || h.Max() != 0 {
		t.Errorf("negative duration: count %d max %v, want 1 and 0", h.Count(), h.Max())
	}
}

func TestBucketBoundsAreConsistent(t *testing.T) {
	for i := range histBuckets - 1 {
		hi := bucketHigh(i)
		if bucketOf(hi) != i || bucketOf(hi+1) != i+1 {
			t.Fatalf("bucket %d: high %d maps to %d, high+1 to %d", i, hi, bucketOf(hi), bucketOf(hi+1))
		}
	}
	if bucketOf(math.MaxUint64) != histBuckets-1 {
		t.Errorf("max uint64 in bucket %d, want %d", bucketOf(math.MaxUint64), histBuckets-1)
	}
}

func TestSummaryInMilliseconds(t *testing.T) {
	var h Histogram
	h.Record(1500 * time.Microsecond)
	s := h.Summary()
	if s.Max != 1.5 || s.P50 < 1.5 || s.P50 > 1.5*(1+1.0/128) {
		t.Errorf("summary %+v, want about 1.5 ms everywhere", s)
	}
}
