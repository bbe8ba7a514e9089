package auth

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func TestSessionCache(t *testing.T) {
	now := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	u := &latchkey.User{ID: "u1"}
	s1 := &latchkey.Session{ID: "s1", UserID: "u1"}
	s2 := &latchkey.Session{ID: "s2", UserID: "u1"}
	tests := []struct {
		name   string
		act    func(c *SessionCache, epoch uint64)
		at     time.Duration
		wantS1 bool
	}{
		{"fresh entry is a hit", func(*SessionCache, uint64) {}, 0, true},
		{"ttl passed", func(*SessionCache, uint64) {}, 2 * time.Second, false},
		{"session revoked", func(c *SessionCache, _ uint64) { c.InvalidateSessions([]string{"s1"}) }, 0, false},
		{"user changed", func(c *SessionCache, _ uint64) { c.InvalidateUser("u1") }, 0, false},
		{"disabled", func(c *SessionCache, _ uint64) { c.Enable(false) }, 0, false},
		{"disabled and enabled again starts empty", func(c *SessionCache, _ uint64) { c.Enable(false); c.Enable(true) }, 0, false},
		{"another session's revocation keeps it", func(c *SessionCache, _ uint64) { c.InvalidateSessions([]string{"s9"}) }, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewSessionCache(2*time.Second, 0)
			_, _, epoch, _ := c.get("s1", now)
			c.put(s1, u, epoch, now)
			c.put(s2, u, epoch, now)
			tt.act(c, epoch)
			_, _, _, hit := c.get("s1", now.Add(tt.at))
			if hit != tt.wantS1 {
				t.Fatalf("hit = %v, want %v", hit, tt.wantS1)
			}
		})
	}
}

// A read that began before a revocation must not fill the cache after it.
func TestSessionCacheDropsFillOvertakenByRevocation(t *testing.T) {
	now := time.Now()
	c := NewSessionCache(time.Minute, 0)
	_, _, epoch, hit := c.get("s1", now)
	if hit {
		t.Fatal("empty cache hit")
	}
	c.InvalidateSessions([]string{"s1"}) // commits while the read is in flight
	c.put(&latchkey.Session{ID: "s1"}, &latchkey.User{ID: "u1"}, epoch, now)
	if _, _, _, hit := c.get("s1", now); hit {
		t.Fatal("a stale read was cached")
	}
}

func TestSessionCacheIsBounded(t *testing.T) {
	c := NewSessionCache(time.Minute, 16)
	now := time.Now()
	for i := range 100 {
		_, _, epoch, _ := c.get("x", now)
		c.put(&latchkey.Session{ID: latchkey.NewID(now) + string(rune('a'+i%26))}, &latchkey.User{ID: "u"}, epoch, now)
		if c.Len() > 16 {
			t.Fatalf("cache grew to %d", c.Len())
		}
	}
}
