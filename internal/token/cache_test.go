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
	// At exp the cache no longer answers; the verifier decides (leeway).
	f.now = first.ExpiresAt.Add(Leeway)
	if _, err := c.Verify(tok); !latchkey.IsCode(err, latchkey.ETokenExpired) {
		t.Fatalf("after exp+leeway: %v, want token_expired", err)
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
