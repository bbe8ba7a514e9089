package apikey

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/testenv"
)

func newTestVerifier(t testing.TB, opts Options) (*Verifier, *memStore, *testenv.Clock) {
	t.Helper()
	st, clk := newMemStore(), testenv.NewClock(clockStart)
	if opts.Toucher == nil {
		opts.Toucher = st
	}
	return NewVerifier(st, clk.Now, opts), st, clk
}

// AK-05: a malformed or mistyped key is refused before any store lookup.
func TestVerifyMalformedNeverReachesStore(t *testing.T) {
	v, st, clk := newTestVerifier(t, Options{})
	good, _ := st.addKey(t, "u1", clk.Now(), nil)
	var bad []string
	for i := range good {
		b := []byte(good)
		b[i] = alphabet[(strings.IndexByte(alphabet, b[i])+1)%62] // stays in the alphabet when it was in it
		bad = append(bad, string(b))
	}
	bad = append(bad, "", good[:51], good+"x", good[:DisplayLen], "Bearer "+good, strings.Repeat("lk_", 1000),
		"eyJhbGciOiJFUzI1NiJ9.e30.sig", "lk_"+strings.Repeat("0", 49))
	for _, k := range bad {
		if _, err := v.Verify(t.Context(), k); err == nil {
			t.Fatalf("Verify(%q) accepted", k)
		} else {
			assertInvalid(t, err)
		}
	}
	if n := st.count(); n != 0 {
		t.Fatalf("%d store lookups for %d malformed keys, want 0", n, len(bad))
	}
	// The counter does count: a good key costs a key and a user lookup.
	if _, err := v.Verify(t.Context(), good); err != nil {
		t.Fatal(err)
	}
	if n := st.count(); n != 2 {
		t.Fatalf("%d store lookups for a good key, want 2", n)
	}
}

func TestVerifyCachesAndReturnsOwner(t *testing.T) {
	v, st, clk := newTestVerifier(t, Options{CacheTTL: 30 * time.Second})
	key, k := st.addKey(t, "u1", clk.Now(), nil)
	for i := range 5 {
		res, err := v.Verify(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		if res.Key.ID != k.ID || res.User.ID != "u1" {
			t.Fatalf("call %d: got key %s of %s", i, res.Key.ID, res.User.ID)
		}
		clk.Advance(time.Second)
	}
	if n := st.count(); n != 2 {
		t.Fatalf("%d store lookups for 5 verifications, want 2 (one miss)", n)
	}
	clk.Advance(30 * time.Second) // past the cache TTL: ask the store again
	if _, err := v.Verify(t.Context(), key); err != nil {
		t.Fatal(err)
	}
	if n := st.count(); n != 4 {
		t.Fatalf("%d store lookups after the TTL, want 4", n)
	}
}

func TestVerifyRefuses(t *testing.T) {
	past := clockStart.Add(-time.Second)
	cases := []struct {
		name   string
		setup  func(st *memStore, now time.Time) string
		reason error
	}{
		{"unknown key", func(*memStore, time.Time) string { return mustGenerate(t) }, errUnknown},
		{"revoked", func(st *memStore, now time.Time) string {
			key, k := st.addKey(t, "u1", now, nil)
			k.RevokedAt = &past
			return key
		}, errRevoked},
		{"expired", func(st *memStore, now time.Time) string {
			key, _ := st.addKey(t, "u1", now, &past)
			return key
		}, errExpired},
		{"owner disabled", func(st *memStore, now time.Time) string {
			key, _ := st.addKey(t, "u1", now, nil)
			st.users["u1"].Disabled = true
			return key
		}, errDisabled},
		{"owner deleted", func(st *memStore, now time.Time) string {
			key, _ := st.addKey(t, "u1", now, nil)
			delete(st.users, "u1")
			return key
		}, errNoOwner},
		{"store returns another key", func(st *memStore, now time.Time) string {
			st.addKey(t, "u1", now, nil)
			st.loose = true
			return mustGenerate(t)
		}, errUnknown},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, st, clk := newTestVerifier(t, Options{})
			key := c.setup(st, clk.Now())
			for range 2 { // refusals are not cached as successes
				res, err := v.Verify(t.Context(), key)
				if res != nil {
					t.Fatal("refused key returned a result")
				}
				assertInvalid(t, err)
				if !errors.Is(err, c.reason) {
					t.Fatalf("refused for %v, want %v", err, c.reason)
				}
			}
		})
	}
}

// LOG-04: a store failure is not a refusal with invalid_api_key, and not a
// success: the caller answers 500/503.
func TestVerifyFailsClosedOnStoreError(t *testing.T) {
	v, st, clk := newTestVerifier(t, Options{})
	key, _ := st.addKey(t, "u1", clk.Now(), nil)
	down := errors.New("connection refused")
	st.set(func() { st.fail = latchkey.WrapError(latchkey.EUnavailable, "The database is unavailable.", down) })
	res, err := v.Verify(t.Context(), key)
	if res != nil || !errors.Is(err, down) || !latchkey.IsCode(err, latchkey.EUnavailable) {
		t.Fatalf("Verify with the store down = %v, %v; want the store's error", res, err)
	}
	st.set(func() { st.fail = down }) // a plain error: internal
	if _, err := v.Verify(t.Context(), key); !errors.Is(err, down) || latchkey.ErrorCode(err) != latchkey.EInternal {
		t.Fatalf("Verify with a plain store error = %v; want it wrapped, code internal", err)
	}
	st.set(func() { st.fail = nil })
	if _, err := v.Verify(t.Context(), key); err != nil {
		t.Fatalf("Verify once the store is back = %v", err)
	}
}

// AK-09: a key stops working at its expires_at even while it is cached.
func TestVerifyExpiryWhileCached(t *testing.T) {
	v, st, clk := newTestVerifier(t, Options{CacheTTL: time.Hour})
	exp := clk.Now().Add(10 * time.Second)
	key, _ := st.addKey(t, "u1", clk.Now(), &exp)
	if _, err := v.Verify(t.Context(), key); err != nil {
		t.Fatal(err)
	}
	clk.Advance(10*time.Second - time.Nanosecond)
	if _, err := v.Verify(t.Context(), key); err != nil {
		t.Fatalf("one nanosecond before expiry: %v", err)
	}
	clk.Advance(time.Nanosecond)
	before := st.count()
	_, err := v.Verify(t.Context(), key)
	assertInvalid(t, err)
	if !errors.Is(err, errExpired) {
		t.Fatalf("refused for %v, want expiry", err)
	}
	if st.count() != before {
		t.Fatal("the expiry of a cached key was decided by the store, want the cache")
	}
}

// AK-04: revocation takes effect at once on this instance.
func TestInvalidate(t *testing.T) {
	v, st, clk := newTestVerifier(t, Options{CacheTTL: time.Hour})
	key, k := st.addKey(t, "u1", clk.Now(), nil)
	other, _ := st.addKey(t, "u1", clk.Now(), nil)
	for _, s := range []string{key, other} {
		if _, err := v.Verify(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
	now := clk.Now()
	st.update(k.ID, func(k *latchkey.APIKey) { k.RevokedAt = &now })
	// The cache does not know yet (another instance's revocation waits for the TTL)…
	if _, err := v.Verify(t.Context(), key); err != nil {
		t.Fatalf("before Invalidate: %v", err)
	}
	// …until it is told.
	v.Invalidate(k.ID)
	_, err := v.Verify(t.Context(), key)
	if !errors.Is(err, errRevoked) {
		t.Fatalf("after Invalidate: %v, want revoked", err)
	}
	before := st.count()
	if _, err := v.Verify(t.Context(), other); err != nil || st.count() != before {
		t.Fatalf("Invalidate of one key disturbed another: %v, %d lookups", err, st.count()-before)
	}
}

// A revocation that lands while a lookup is in flight must not be undone by
// that lookup caching the key as it was before.
func TestInvalidateDuringLookup(t *testing.T) {
	v, st, clk := newTestVerifier(t, Options{CacheTTL: time.Hour})
	key, k := st.addKey(t, "u1", clk.Now(), nil)
	st.beforeUser = func() {
		st.beforeUser = nil
		now := clk.Now()
		st.update(k.ID, func(k *latchkey.APIKey) { k.RevokedAt = &now })
		v.Invalidate(k.ID)
	}
	if _, err := v.Verify(t.Context(), key); err != nil {
		t.Fatal(err) // valid when it was read
	}
	if _, err := v.Verify(t.Context(), key); !errors.Is(err, errRevoked) {
		t.Fatalf("after a revocation during the lookup: %v, want revoked", err)
	}
}

func TestInvalidateUser(t *testing.T) {
	v, st, clk := newTestVerifier(t, Options{CacheTTL: time.Hour})
	k1, _ := st.addKey(t, "u1", clk.Now(), nil)
	k2, _ := st.addKey(t, "u1", clk.Now(), nil)
	k3, _ := st.addKey(t, "u2", clk.Now(), nil)
	for _, s := range []string{k1, k2, k3} {
		if _, err := v.Verify(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
	st.setUser(&latchkey.User{ID: "u1", Disabled: true})
	v.InvalidateUser("u1")
	for _, s := range []string{k1, k2} {
		if _, err := v.Verify(t.Context(), s); !errors.Is(err, errDisabled) {
			t.Fatalf("key of a disabled user after InvalidateUser: %v", err)
		}
	}
	before := st.count()
	if _, err := v.Verify(t.Context(), k3); err != nil || st.count() != before {
		t.Fatalf("another user's key: %v, %d lookups, want cached", err, st.count()-before)
	}
}

func TestCacheIsBounded(t *testing.T) {
	v, st, clk := newTestVerifier(t, Options{CacheSize: 8})
	var keys []string
	for range 100 {
		k, _ := st.addKey(t, "u1", clk.Now(), nil)
		keys = append(keys, k)
		if _, err := v.Verify(t.Context(), k); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	v.cache.each(func(*entry) { n++ })
	if n == 0 || n > 8 {
		t.Fatalf("%d cached keys, want 1..8", n)
	}
	for _, k := range keys { // evicted keys still verify, through the store
		if _, err := v.Verify(t.Context(), k); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCacheOff(t *testing.T) {
	v, st, clk := newTestVerifier(t, Options{CacheTTL: -1})
	key, _ := st.addKey(t, "u1", clk.Now(), nil)
	for range 3 {
		if _, err := v.Verify(t.Context(), key); err != nil {
			t.Fatal(err)
		}
	}
	if n := st.count(); n != 6 {
		t.Fatalf("%d lookups with the cache off, want 6", n)
	}
	if err := v.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if w := st.writes(); len(w) != 1 || len(w[0]) != 1 {
		t.Fatalf("last use with the cache off: %v", w)
	}
}

// Run under -race: lookups, invalidations and flushes at once.
func TestVerifyConcurrent(t *testing.T) {
	v, st, clk := newTestVerifier(t, Options{CacheSize: 16})
	var keys []string
	for i := range 32 {
		k, _ := st.addKey(t, []string{"u1", "u2"}[i%2], clk.Now(), nil)
		keys = append(keys, k)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				if _, err := v.Verify(context.Background(), keys[(g*7+i)%len(keys)]); err != nil {
					t.Error(err)
					return
				}
				if i%100 == 0 {
					clk.Advance(time.Second)
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 50 {
			v.InvalidateUser("u1")
			v.Invalidate("nothing")
			if err := v.Flush(context.Background()); err != nil {
				t.Error(err)
			}
			clk.Advance(time.Duration(i) * time.Second)
		}
	})
	wg.Wait()
}
