package apikey

import (
	"sync"
	"sync/atomic"
)

// entry is one verified key in the cache. Everything but the use counters is
// set once, before the entry is published.
type entry struct {
	res   *Result // shared by every hit: callers must not modify it
	until int64   // unix nanoseconds after which the entry is stale

	// seen is the last use recorded (unix nanoseconds, 0 for none); written
	// is the last use stored through the Toucher. seen > written means a
	// write is pending.
	seen    atomic.Int64
	written atomic.Int64
}

// pending returns the use that still has to be written, or 0.
func (e *entry) pending() int64 {
	if s := e.seen.Load(); s > e.written.Load() {
		return s
	}
	return 0
}

// cache maps key hashes to verified keys. It is split into shards, each with
// its own lock, so that concurrent requests rarely wait on each other; the
// hash is uniformly random, so its first byte picks the shard.
type cache struct {
	shards   []shard
	mask     int
	perShard int
	// evicted receives the pending use of every entry that leaves the cache,
	// so that dropping an entry never loses a last_used_at.
	evicted func(keyID string, seen int64)
}

type shard struct {
	mu sync.RWMutex
	m  map[[32]byte]*entry
	_  [40]byte // keep neighbouring shards' locks off one cache line
}

func newCache(size int, evicted func(string, int64)) *cache {
	n := 64
	for n > 1 && n > size {
		n /= 2
	}
	c := &cache{shards: make([]shard, n), mask: n - 1, perShard: max(1, size/n), evicted: evicted}
	for i := range c.shards {
		c.shards[i].m = make(map[[32]byte]*entry)
	}
	return c
}

func (c *cache) shard(h *[32]byte) *shard { return &c.shards[int(h[0])&c.mask] }

func (c *cache) get(h *[32]byte) *entry {
	s := c.shard(h)
	s.mu.RLock()
	e := s.m[*h]
	s.mu.RUnlock()
	return e
}

// put stores e under h if current, called under the shard lock, is true. A
// full shard first drops its stale entries, then, if still full, one
// arbitrary entry: Go's map iteration starts at a random place, which makes
// this a cheap random eviction.
func (c *cache) put(h [32]byte, e *entry, now int64, current func() bool) {
	s := c.shard(&h)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !current() {
		return
	}
	if old, ok := s.m[h]; ok {
		c.drop(s, h, old)
	}
	if len(s.m) >= c.perShard {
		for k, old := range s.m {
			if old.until <= now {
				c.drop(s, k, old)
			}
		}
		for k, old := range s.m {
			if len(s.m) < c.perShard {
				break
			}
			c.drop(s, k, old)
		}
	}
	s.m[h] = e
}

// remove drops the entry under h if it is still e.
func (c *cache) remove(h *[32]byte, e *entry) {
	s := c.shard(h)
	s.mu.Lock()
	if s.m[*h] == e {
		c.drop(s, *h, e)
	}
	s.mu.Unlock()
}

// removeIf drops every entry for which match is true. It scans the whole
// cache, which is fine for what calls it: revocations, rare next to lookups.
func (c *cache) removeIf(match func(*Result) bool) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for k, e := range s.m {
			if match(e.res) {
				c.drop(s, k, e)
			}
		}
		s.mu.Unlock()
	}
}

// each calls fn for every entry; fn must not block.
func (c *cache) each(fn func(*entry)) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		for _, e := range s.m {
			fn(e)
		}
		s.mu.RUnlock()
	}
}

// drop deletes k from s, whose lock the caller holds.
func (c *cache) drop(s *shard, k [32]byte, e *entry) {
	delete(s.m, k)
	if p := e.pending(); p != 0 {
		c.evicted(e.res.Key.ID, p)
	}
}
