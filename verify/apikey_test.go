package verify_test

import (
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/testenv"
	"github.com/latchkey/latchkey/verify"
)

func TestAPIKeys(t *testing.T) {
	is := newIssuer(t)
	active, inactive := apiKey("A"), apiKey("B")
	is.apiKeys[active] = map[string]any{
		"active": true, "sub": "user-7", "exp": t0.Add(time.Hour).Unix(), "iat": t0.Unix(),
		"scope": "read write", "token_type": "api_key", "roles": []string{"user"}, "api_key_id": "key-7",
	}
	c := testenv.NewClock(t0)
	v := newVerifier(t, is, c, nil)

	viaHeader := httptest.NewRequest("GET", "/", nil)
	viaHeader.Header.Set("X-API-Key", active)
	id, err := v.Authenticate(viaHeader)
	if err != nil {
		t.Fatal(err)
	}
	if id.Kind != verify.KindAPIKey || id.UserID != "user-7" || id.APIKeyID != "key-7" || !id.HasRole("user") ||
		!id.HasScope("read") || id.HasScope("admin") || !id.ExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("identity = %+v", id)
	}
	// The same key as a bearer token is answered from the cache.
	if _, err := v.Authenticate(bearer(active)); err != nil {
		t.Fatal(err)
	}
	if n := is.introCalls.Load(); n != 1 {
		t.Fatalf("introspection called %d times, want 1 (second use cached)", n)
	}
	// After the cache TTL the issuer is asked again, and a revocation shows.
	is.mu.Lock()
	delete(is.apiKeys, active)
	is.mu.Unlock()
	c.Advance(11 * time.Second)
	if _, err := v.Authenticate(bearer(active)); !errors.Is(err, verify.ErrInvalidAPIKey) {
		t.Fatalf("revoked key: err = %v", err)
	}
	if n := is.introCalls.Load(); n != 2 {
		t.Fatalf("introspection called %d times, want 2", n)
	}

	if _, err := v.Authenticate(bearer(inactive)); !errors.Is(err, verify.ErrInvalidAPIKey) {
		t.Fatalf("inactive key: err = %v", err)
	}

	calls := is.introCalls.Load()
	for name, key := range map[string]string{
		"short":     "lk_abc",
		"long":      apiKey("C") + "x",
		"bad chars": "lk_" + "-" + apiKey("D")[4:],
	} {
		if _, err := v.Authenticate(bearer(key)); !errors.Is(err, verify.ErrInvalidAPIKey) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if is.introCalls.Load() != calls {
		t.Fatal("a malformed key reached the issuer")
	}
}

func TestAPIKeysNeedIntrospectionKey(t *testing.T) {
	is := newIssuer(t)
	key := apiKey("A")
	is.apiKeys[key] = map[string]any{"active": true, "sub": "user-7", "token_type": "api_key"}
	v := newVerifier(t, is, testenv.NewClock(t0), func(cfg *verify.Config) { cfg.IntrospectionKey = "" })
	if _, err := v.Authenticate(bearer(key)); !errors.Is(err, verify.ErrInvalidAPIKey) {
		t.Fatalf("err = %v", err)
	}
	if n := is.introCalls.Load(); n != 0 {
		t.Fatalf("introspection called %d times without a key", n)
	}
}

func TestAPIKeyIntrospectionFailsClosed(t *testing.T) {
	is := newIssuer(t)
	key := apiKey("A")
	is.apiKeys[key] = map[string]any{"active": true, "sub": "user-7", "token_type": "api_key"}
	is.introErr = true
	v := newVerifier(t, is, testenv.NewClock(t0), nil)
	if _, err := v.Authenticate(bearer(key)); !errors.Is(err, verify.ErrUnavailable) {
		t.Fatalf("issuer down: err = %v", err)
	}
	// A wrong introspection key is refused by the issuer: also no access.
	is.mu.Lock()
	is.introErr = false
	is.mu.Unlock()
	v = newVerifier(t, is, testenv.NewClock(t0), func(cfg *verify.Config) { cfg.IntrospectionKey = apiKey("W") })
	if _, err := v.Authenticate(bearer(key)); !errors.Is(err, verify.ErrUnavailable) {
		t.Fatalf("wrong introspection key: err = %v", err)
	}
	// Only api_key answers count: an active access token is not an API key.
	is.mu.Lock()
	is.apiKeys[key]["token_type"] = "access_token"
	is.mu.Unlock()
	v = newVerifier(t, is, testenv.NewClock(t0), nil)
	if _, err := v.Authenticate(bearer(key)); !errors.Is(err, verify.ErrInvalidAPIKey) {
		t.Fatalf("token_type access_token: err = %v", err)
	}
}
