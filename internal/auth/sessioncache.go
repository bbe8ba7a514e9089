package auth

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/latchkey/latchkey"
)

// SessionCache keeps live sessions and their users for a few seconds, so
// that a burst of token-authenticated requests does not read the database
// twice per request. The database stays the truth: the cache only ever
// holds what a read just returned, forgets a session the moment this
// instance (or, through Invalidate* called by a subscriber, another one)
// revokes it, and can be switched off as a whole when revocations from
// other instances might be missed (Enable(false)), which makes every
// request read the database again: fail closed.
type SessionCache struct {
	ttl     time.Duration
	max     int
	enabled atomic.Bool

	mu         sync.Mutex
	epoch      uint64 // bumped by every invalidation; a fill that saw an older one is dropped
	entries    map[string]sessionEntry
	identities map[string]identitiesEntry // by user id: GET /v1/me lists them on every call
}

type identitiesEntry struct {
	list  []latchkey.Identity
	until time.Time
}

type sessionEntry struct {
	sess  *latchkey.Session
	user  *latchkey.User
	until time.Time
}

// DefaultSessionCacheSize bounds a SessionCache.
const DefaultSessionCacheSize = 10000

// NewSessionCache returns an enabled cache that trusts an entry for ttl
// and holds at most size sessions (DefaultSessionCacheSize when size ≤ 0).
func NewSessionCache(ttl time.Duration, size int) *SessionCache {
	if size <= 0 {
		size = DefaultSessionCacheSize
	}
	c := &SessionCache{ttl: ttl, max: size, entries: make(map[string]sessionEntry), identities: make(map[string]identitiesEntry)}
	c.enabled.Store(ttl > 0)
	return c
}

// Enable turns the cache on or off; turning it off empties it.
func (c *SessionCache) Enable(on bool) {
	if c == nil {
		return
	}
	c.enabled.Store(on && c.ttl > 0)
	if !on {
		c.Clear()
	}
}

// Enabled reports whether lookups may be answered from the cache.
func (c *SessionCache) Enabled() bool { return c != nil && c.enabled.Load() }

// get returns a cached session and user still inside their ttl, and the
// epoch a fill after a miss must present to put.
func (c *SessionCache) get(id string, now time.Time) (*latchkey.Session, *latchkey.User, uint64, bool) {
	if !c.Enabled() {
		return nil, nil, 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if ok && now.Before(e.until) {
		return e.sess, e.user, c.epoch, true
	}
	return nil, nil, c.epoch, false
}

// put stores what a database read returned, unless an invalidation
// happened since the read began (it might concern this very session).
func (c *SessionCache) put(sess *latchkey.Session, u *latchkey.User, epoch uint64, now time.Time) {
	if !c.Enabled() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch || !c.enabled.Load() {
		return
	}
	if len(c.entries) >= c.max {
		for id, e := range c.entries {
			if !now.Before(e.until) || len(c.entries) >= c.max*3/4 {
				delete(c.entries, id)
			}
		}
	}
	c.entries[sess.ID] = sessionEntry{sess: sess, user: u, until: now.Add(c.ttl)}
}

// getIdentities returns a user's cached identities, as get does sessions.
func (c *SessionCache) getIdentities(userID string, now time.Time) ([]latchkey.Identity, uint64, bool) {
	if !c.Enabled() {
		return nil, 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.identities[userID]
	if ok && now.Before(e.until) {
		return e.list, c.epoch, true
	}
	return nil, c.epoch, false
}

// putIdentities stores a user's identities, as put does a session.
func (c *SessionCache) putIdentities(userID string, list []latchkey.Identity, epoch uint64, now time.Time) {
	if !c.Enabled() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch || !c.enabled.Load() {
		return
	}
	if len(c.identities) >= c.max {
		clear(c.identities) // rare: a cache this size turns over in one ttl anyway
	}
	c.identities[userID] = identitiesEntry{list: list, until: now.Add(c.ttl)}
}

// InvalidateSessions forgets the given sessions.
func (c *SessionCache) InvalidateSessions(ids []string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	for _, id := range ids {
		delete(c.entries, id)
	}
}

// InvalidateUser forgets every session of the user.
func (c *SessionCache) InvalidateUser(userID string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	delete(c.identities, userID)
	for id, e := range c.entries {
		if e.user.ID == userID {
			delete(c.entries, id)
		}
	}
}

// Clear forgets everything.
func (c *SessionCache) Clear() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	clear(c.entries)
	clear(c.identities)
}

// Len reports how many sessions are cached.
func (c *SessionCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
