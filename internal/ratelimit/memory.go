package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// Option configures Memory and Redis.
type Option func(*options)

type options struct{ backoff BackoffConfig }

// WithBackoff replaces DefaultBackoff. Check it with Validate first.
func WithBackoff(c BackoffConfig) Option { return func(o *options) { o.backoff = c } }

func buildOptions(opts []Option) options {
	o := options{backoff: DefaultBackoff()}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// shardCount spreads keys over independent locks so that one busy key does
// not serialize every request of the process.
const shardCount = 64

// A shard is swept after minSweep operations once sweepEvery has passed
// since its last sweep, or after as many operations as it holds entries: a
// full scan never costs more than O(1) per operation, and stale entries never
// outlive sweepEvery by much on a shard that is in use.
const (
	minSweep   = 256
	sweepEvery = int64(10 * time.Second)
)

// Memory is a Store that keeps its state in this process. Expired entries are
// swept as the shard is used, so memory is bounded by the keys active within
// the longest rule period (or backoff forget time).
type Memory struct {
	clock   func() time.Time
	backoff BackoffConfig
	seed    maphash.Seed
	shards  [shardCount]memShard
}

type memShard struct {
	mu    sync.Mutex
	tats  map[string]int64 // rule+key → theoretical arrival time, Unix ns; stale once past
	fails map[string]failState
	ops   int   // operations since the last sweep
	swept int64 // Unix ns of the last sweep
}

type failState struct {
	count       int
	lockedUntil int64 // Unix ns
	expires     int64 // Unix ns: forgotten from then on
}

var _ Store = (*Memory)(nil)

// NewMemory returns an in-memory Store reading the time from clock
// (time.Now in production).
func NewMemory(clock func() time.Time, opts ...Option) *Memory {
	o := buildOptions(opts)
	m := &Memory{clock: clock, backoff: o.backoff, seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].tats = map[string]int64{}
		m.shards[i].fails = map[string]failState{}
	}
	return m
}

func (m *Memory) shard(key string) *memShard {
	return &m.shards[maphash.String(m.seed, key)%shardCount]
}

// lock locks the shard of key and sweeps it when enough operations have
// passed to pay for the sweep (amortized O(1) per operation).
func (m *Memory) lock(key string, now int64) *memShard {
	s := m.shard(key)
	s.mu.Lock()
	s.ops++
	if s.ops >= minSweep && (s.ops >= len(s.tats)+len(s.fails) || now-s.swept >= sweepEvery) {
		s.ops, s.swept = 0, now
		for k, tat := range s.tats {
			if tat <= now {
				delete(s.tats, k)
			}
		}
		for k, f := range s.fails {
			if f.expires <= now {
				delete(s.fails, k)
			}
		}
	}
	return s
}

// Allow implements Limiter.
func (m *Memory) Allow(_ context.Context, rule Rule, key string) (Decision, error) {
	if err := rule.Validate(); err != nil {
		return Decision{}, err
	}
	now := m.clock().UnixNano()
	k := rule.Name + "\x00" + key
	s := m.lock(k, now)
	defer s.mu.Unlock()
	d, tat := decide(now, s.tats[k], int64(rule.interval()), int64(rule.Period), rule.Limit, time.Nanosecond)
	if d.Allowed {
		s.tats[k] = tat
	}
	return d, nil
}

// Wait implements Backoff.
func (m *Memory) Wait(_ context.Context, key string) (time.Duration, error) {
	now := m.clock().UnixNano()
	s := m.lock(key, now)
	defer s.mu.Unlock()
	f := s.fails[key]
	if f.expires <= now || f.lockedUntil <= now {
		return 0, nil
	}
	return time.Duration(f.lockedUntil - now), nil
}

// Fail implements Backoff.
func (m *Memory) Fail(_ context.Context, key string) (time.Duration, error) {
	now := m.clock().UnixNano()
	s := m.lock(key, now)
	defer s.mu.Unlock()
	f := s.fails[key]
	if f.expires <= now {
		f = failState{}
	}
	f.count++
	lock := m.backoff.lockFor(f.count)
	f.lockedUntil = max(f.lockedUntil, now+int64(lock))
	f.expires = max(f.lockedUntil, now+int64(m.backoff.ForgetAfter))
	s.fails[key] = f
	return time.Duration(f.lockedUntil - now), nil
}

// Reset implements Backoff.
func (m *Memory) Reset(_ context.Context, key string) error {
	s := m.lock(key, m.clock().UnixNano())
	defer s.mu.Unlock()
	delete(s.fails, key)
	return nil
}

// Ping implements Store; memory always answers.
func (m *Memory) Ping(context.Context) error { return nil }

// Len returns the number of keys held, for tests and metrics.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.tats) + len(s.fails)
		s.mu.Unlock()
	}
	return n
}
