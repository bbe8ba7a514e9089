package loadtest

import (
	"context"
	"crypto/rand"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
)

// HashRateOptions say how to measure the machine's argon2id rate. The
// defaults are the server's: m=19456 KiB, t=2, p=1 (OWASP), one goroutine
// per core.
type HashRateOptions struct {
	Duration   time.Duration
	MemoryKiB  uint32
	Iterations uint32
	Threads    uint8
	Workers    int
}

// DefaultHashRate returns the server's default parameters, measured for d.
func DefaultHashRate(d time.Duration) HashRateOptions {
	return HashRateOptions{Duration: d, MemoryKiB: 19456, Iterations: 2, Threads: 1, Workers: runtime.NumCPU()}
}

// HashRate is the measured rate: the ceiling for logins and signups, which
// each cost one hash.
type HashRate struct {
	MemoryKiB  uint32  `json:"memory_kib"`
	Iterations uint32  `json:"iterations"`
	Threads    uint8   `json:"threads"`
	Workers    int     `json:"workers"`
	Hashes     uint64  `json:"hashes"`
	ElapsedS   float64 `json:"elapsed_s"`
	PerS       float64 `json:"per_s"`
}

// MeasureHashRate hashes in o.Workers goroutines until o.Duration has
// passed; every goroutine finishes at least one hash.
func MeasureHashRate(ctx context.Context, o HashRateOptions) HashRate {
	workers := max(o.Workers, 1)
	var hashes atomic.Uint64
	password, salt := []byte(rand.Text()), []byte(rand.Text()[:16])
	start := time.Now()
	end := start.Add(o.Duration)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				argon2.IDKey(password, salt, o.Iterations, o.MemoryKiB, o.Threads, 32)
				hashes.Add(1)
				if ctx.Err() != nil || !time.Now().Before(end) {
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	n := hashes.Load()
	return HashRate{
		MemoryKiB: o.MemoryKiB, Iterations: o.Iterations, Threads: o.Threads, Workers: workers,
		Hashes: n, ElapsedS: elapsed.Seconds(), PerS: float64(n) / elapsed.Seconds(),
	}
}
