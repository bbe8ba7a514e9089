package token

import (
	"sync"
	"time"
)

// DefaultCacheSize bounds a Cache: enough for every token in use on a busy
// instance within one access-token lifetime, small enough (a few MiB) to
// keep memory flat under a flood of distinct valid tokens.
const DefaultCacheSize = 10000

// Cache remembers tokens that verified, keyed by the whole token string,
// so that a token presented again skips the signature check and the JSON
// decoding. A hit allocates nothing. An entry is used only while the
// token's exp has not passed and the keyring it was verified against is
// still the current one (a retired or rotated-away key invalidates every
// entry at once). Failures are never cached: they stay as expensive as
// before, and a forged token can never be remembered as good.
//
// The Claims a Cache returns are shared between callers: read them only.
type Cache struct {
	v     *Verifier
	clock func() time.Time
	max   int

	mu      sync.RWMutex
	entries map[string]cacheEntry
}

type cacheEntry struct {
	claims *Claims
	exp    int64 // unix nanoseconds; the entry is unusable from then on
	kr     *Keyring
}

// NewCache returns a Cache in front of v holding at most size tokens
// (DefaultCacheSize when size ≤ 0).
func NewCache(v *Verifier, clock func() time.Time, size int) *Cache {
	if size <= 0 {
		size = DefaultCacheSize
	}
	if clock == nil {
		clock = time.Now
	}
	return &Cache{v: v, clock: clock, max: size, entries: make(map[string]cacheEntry)}
}

// Verify is Verifier.Verify with the cache in front.
func (c *Cache) Verify(token string) (*Claims, error) {
	now := c.clock().UnixNano()
	kr := c.v.keys()
	c.mu.RLock()
	e, ok := c.entries[token]
	c.mu.RUnlock()
	if ok && now < e.exp && e.kr == kr {
		return e.claims, nil
	}
	claims, err := c.v.Verify(token)
	if err != nil || claims.ExpiresAt == nil || now >= claims.ExpiresAt.UnixNano() {
		// A Verifier with a leeway accepts a token after its exp: valid, but
		// not worth keeping. (With leeway 0, latchkey's own, it never does.)
		return claims, err
	}
	c.put(token, cacheEntry{claims: claims, exp: claims.ExpiresAt.UnixNano(), kr: kr}, now)
	return claims, nil
}

func (c *Cache) put(token string, e cacheEntry, now int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		c.evict(now)
	}
	c.entries[token] = e
}

// evict drops every unusable entry and, if that is not enough, about a
// quarter of the rest (map order is random, so no client can aim it).
func (c *Cache) evict(now int64) {
	for k, e := range c.entries {
		if now >= e.exp || e.kr != c.v.keys() {
			delete(c.entries, k)
		}
	}
	drop := len(c.entries) - c.max*3/4
	for k := range c.entries {
		if drop <= 0 {
			break
		}
		delete(c.entries, k)
		drop--
	}
}

// Len reports how many tokens are cached.
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
