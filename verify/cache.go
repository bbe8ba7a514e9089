package verify

import (
	"sync"
	"time"
)

// cache is a bounded map whose entries expire. When full, an arbitrary
// entry makes room: cheap, and good enough for credentials that are
// re-verified on a miss anyway.
type cache[K comparable, V any] struct {
	mu  sync.Mutex
	max int
	m   map[K]cacheEntry[V]
}

type cacheEntry[V any] struct {
	v     V
	until time.Time
}

func newCache[K comparable, V any](max int) *cache[K, V] {
	return &cache[K, V]{max: max, m: make(map[K]cacheEntry[V])}
}

func (c *cache[K, V]) get(k K, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		var zero V
		return zero, false
	}
	if !now.Before(e.until) {
		delete(c.m, k)
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *cache[K, V]) put(k K, v V, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = cacheEntry[V]{v: v, until: until}
}
