package token

import (
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func TestCacheHitsAndExpiry(t *testing.T) {
	f := newFixture(t, ES256)
	c := NewCache(f.ver, func() time.Time { return f.now }, 0)
	tok := f.issue()
	first, err := c.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Verify(tok)
	if err != nil || second != first {
		t.Fatalf("second verification: %v, same claims %v", err, second == first)
	}
	if c.Len() != 1 {
		t.Fatalf("cache holds %d tokens, want 1", c.Len())
	}
	// At exp the cache no longer answers, and latchkey's verifier (no
	// leeway) refuses.
	f.now = first.ExpiresAt.Add(-time.Nanosecond)
	if _, err := c.Verify(tok); err != nil {
		t.Fatalf("just before exp: %v", err)
	}
	f.now = first.ExpiresAt.Time
	if _, err := c.Verify(tok); !latchkey.IsCode(err, latchkey.ETokenExpired) {
		t.Fatalf("at exp: %v, want token_expired", err)
	}
}

// Behind a verifier with a leeway, a token inside it is accepted but not
// cached: an entry is never used past the token's exp.
func TestCacheLeavesTheLeewayToTheVerifier(t *testing.T) {
	f := newFixture(t, ES256)
	clock := func() time.Time { return f.now }
	c := NewCache(NewVerifier(f.keyring, testIssuer, testAudience, ClockSkew, clock), clock, 0)
	tok := f.issue()
	f.now = f.now.Add(15*time.Minute + time.Second) // one second past exp
	if _, err := c.Verify(tok); err != nil {
		t.Fatalf("inside the leeway: %v", err)
	}
	if c.Len() != 0 {
		t.Fatalf("cached a token past its exp")
	}
	f.now = f.now.Add(ClockSkew)
	if _, err := c.Verify(tok); !latchkey.IsCode(err, latchkey.ETokenExpired) {
		t.Fatalf("past the leeway: %v, want token_expired", err)
	}
}

func TestCacheNeverRemembersFailures(t *testing.T) {
	f := newFixture(t, ES256)
	c := NewCache(f.ver, func() time.Time { return f.now }, 0)
	tok := f.issue()
	forged := tok[:len(tok)-4] + "AAAA"
	for range 2 {
		if _, err := c.Verify(forged); !latchkey.IsCode(err, latchkey.EInvalidToken) {
			t.Fatalf("forged token: %v", err)
		}
	}
	if c.Len() != 0 {
		t.Fatalf("cache holds %d tokens after failures", c.Len())
	}
}

func TestCacheForgetsPrunedKeys(t *testing.T) {
	f := newFixture(t, ES256)
	c := NewCache(f.ver, func() time.Time { return f.now }, 0)
	tok := f.issue()
	if _, err := c.Verify(tok); err != nil {
		t.Fatal(err)
	}
	f.keys = slices.DeleteFunc(f.keys, func(k latchkey.SigningKey) bool { return k.ID == f.current.ID })
	f.rebuild()
	if _, err := c.Verify(tok); !latchkey.IsCode(err, latchkey.EInvalidToken) {
		t.Fatalf("token of a pruned key: %v, want invalid_token", err)
	}
}

func TestCacheIsBounded(t *testing.T) {
	f := newFixture(t, ES256)
	c := NewCache(f.ver, func() time.Time { return f.now }, 8)
	for i := range 50 {
		tok, _, err := f.iss.Issue(Grant{UserID: "user-a", SessionID: "sess-" + itoa(int64(i))})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Verify(tok); err != nil {
			t.Fatal(err)
		}
		if c.Len() > 8 {
			t.Fatalf("cache grew to %d entries, bound 8", c.Len())
		}
	}
}

func TestCacheHitAllocatesNothing(t *testing.T) {
	f := newFixture(t, ES256)
	c := NewCache(f.ver, func() time.Time { return f.now }, 0)
	tok := f.issue()
	if _, err := c.Verify(tok); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = c.Verify(tok) }); n != 0 {
		t.Fatalf("a cache hit allocates %v times", n)
	}
}

func BenchmarkCacheHitES256(b *testing.B) {
	f := newFixture(b, ES256)
	c := NewCache(f.ver, func() time.Time { return f.now }, 0)
	tok := f.issue()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}
