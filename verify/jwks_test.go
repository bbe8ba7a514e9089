package verify_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/jwttest"
	"github.com/latchkey/latchkey/internal/testenv"
	"github.com/latchkey/latchkey/verify"
)

// KEY: a key published after the JWKS was cached is picked up with one
// fetch, and the old key keeps working.
func TestKeyRotationWarmCache(t *testing.T) {
	old, next := jwttest.NewKey(t, "ES256", "k-old"), jwttest.NewKey(t, "EdDSA", "k-new")
	is := newIssuer(t, old)
	c := testenv.NewClock(t0)
	v := newVerifier(t, is, c, nil)

	if _, err := v.Authenticate(bearer(old.Mint(t, old.Header(), claims(is.URL, c.Now())))); err != nil {
		t.Fatal(err)
	}
	is.setKeys(old, next)
	c.Advance(31 * time.Second) // past UnknownKIDMinInterval, well inside JWKSRefreshInterval
	for i := range 3 {
		if _, err := v.Authenticate(bearer(next.Mint(t, next.Header(), claims(is.URL, c.Now())))); err != nil {
			t.Fatalf("new key, request %d: %v", i, err)
		}
	}
	if _, err := v.Authenticate(bearer(old.Mint(t, old.Header(), claims(is.URL, c.Now())))); err != nil {
		t.Fatalf("old key after rotation: %v", err)
	}
	if n := is.jwksFetch.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2 (initial + one for the new kid)", n)
	}

	// Once the old key leaves the JWKS, its tokens stop working, cached or not.
	cached := old.Mint(t, old.Header(), claims(is.URL, c.Now()))
	if _, err := v.Authenticate(bearer(cached)); err != nil {
		t.Fatal(err)
	}
	is.setKeys(next)
	c.Advance(11 * time.Minute) // past JWKSRefreshInterval
	if _, err := v.Authenticate(bearer(next.Mint(t, next.Header(), claims(is.URL, c.Now())))); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Authenticate(bearer(cached)); !errors.Is(err, verify.ErrInvalidToken) {
		t.Fatalf("token of a removed key: err = %v", err)
	}
}

// JWT-12: a storm of unknown kids costs at most one JWKS fetch per interval.
func TestUnknownKIDStorm(t *testing.T) {
	es, attacker := jwttest.NewKey(t, "ES256", "k-es"), jwttest.NewKey(t, "ES256", "x")
	is := newIssuer(t, es)
	c := testenv.NewClock(t0)
	v := newVerifier(t, is, c, nil)
	storm := func() {
		var wg sync.WaitGroup
		for i := range 1000 {
			wg.Go(func() {
				h := attacker.Header()
				h["kid"] = fmt.Sprintf("unknown-%d", i)
				if _, err := v.Authenticate(bearer(attacker.Mint(t, h, claims(is.URL, t0)))); !errors.Is(err, verify.ErrInvalidToken) {
					t.Errorf("unknown kid %d: err = %v", i, err)
				}
			})
		}
		wg.Wait()
	}
	storm()
	if n := is.jwksFetch.Load(); n != 1 {
		t.Fatalf("after the first storm: %d JWKS fetches, want 1", n)
	}
	c.Advance(30 * time.Second)
	storm()
	if n := is.jwksFetch.Load(); n != 2 {
		t.Fatalf("after the second storm, one interval later: %d JWKS fetches, want 2", n)
	}
	// The genuine key still works throughout.
	if _, err := v.Authenticate(bearer(es.Mint(t, es.Header(), claims(is.URL, c.Now())))); err != nil {
		t.Fatal(err)
	}
}

// An unreachable issuer is not asked again on every request, and tokens are
// refused with 503 rather than let through.
func TestJWKSUnavailable(t *testing.T) {
	es := jwttest.NewKey(t, "ES256", "k-es")
	is := newIssuer(t, es)
	c := testenv.NewClock(t0)
	v := newVerifier(t, is, c, func(cfg *verify.Config) { cfg.JWKSURL = is.URL + "/missing" })
	for range 10 {
		if _, err := v.Authenticate(bearer(es.Mint(t, es.Header(), claims(is.URL, t0)))); !errors.Is(err, verify.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
	}
}
