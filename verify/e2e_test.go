package verify_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/internal/app"
	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/verify"
)

// These tests run the verify package against a real latchkey server.

func e2eSignup(t *testing.T, srv *apptest.Instance, email string) map[string]any {
	t.Helper()
	r := srv.Do(t, "POST", "/v1/auth/signup", map[string]string{"email": email, "password": "correct horse battery staple"})
	if r.Status != 201 {
		t.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)
}

func e2eLogin(t *testing.T, srv *apptest.Instance, email string) string {
	t.Helper()
	r := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": email, "password": "correct horse battery staple"})
	if r.Status != 200 {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	return r.String(t, "access_token")
}

func e2eKey(t *testing.T, srv *apptest.Instance, token string, scopes ...string) (key, id string) {
	t.Helper()
	r := srv.Do(t, "POST", "/v1/api-keys", map[string]any{"name": "k", "scopes": scopes}, "Authorization", "Bearer "+token)
	if r.Status != 201 {
		t.Fatalf("create key: %d %s", r.Status, r.Body)
	}
	return r.String(t, "key"), r.String(t, "id")
}

// jwksRequests counts the JWKS requests in the server's access log.
func jwksRequests(srv *apptest.Instance) int {
	return strings.Count(srv.Logs(), `"path":"/.well-known/jwks.json"`)
}

func kidOf(t *testing.T, tok string) string {
	t.Helper()
	seg, _, _ := strings.Cut(tok, ".")
	data, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Kid string }
	if err := json.Unmarshal(data, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

// call sends one request with credential headers through v's middleware
// and returns the status and the identity the handler saw.
func call(t *testing.T, v *verify.Verifier, headers ...string) (int, *verify.Identity) {
	t.Helper()
	var seen *verify.Identity
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = verify.FromContext(r.Context())
	}))
	req := httptest.NewRequest("GET", "/api", nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, seen
}

func rotate(t *testing.T, dir string) {
	t.Helper()
	var out, errb strings.Builder
	if err := app.Run(context.Background(), []string{"keys", "rotate", "--data-dir", dir}, nil, strings.NewReader(""), &out, &errb); err != nil {
		t.Fatalf("keys rotate: %v\n%s", err, errb.String())
	}
}

// waitForNewKID logs in until the server signs with a kid other than old
// (it re-reads its keys every --key-reload-interval).
func waitForNewKID(t *testing.T, srv *apptest.Instance, email, old string) string {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if tok := e2eLogin(t, srv, email); kidOf(t, tok) != old {
			return tok
		}
	}
	t.Fatal("the server did not pick up the rotated key")
	return ""
}

func TestAgainstLatchkeyTokensAndRotation(t *testing.T) {
	srv := apptest.Start(t, "--key-reload-interval", "100ms")
	const email = "verify-e2e@example.com"
	first := e2eSignup(t, srv, email)["access_token"].(string)

	v, err := verify.New(verify.Config{Issuer: srv.URL, UnknownKIDMinInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	code, id := call(t, v, "Authorization", "Bearer "+first)
	if code != 200 || id == nil || id.Kind != verify.KindAccessToken || id.UserID == "" || id.SessionID == "" || !id.HasRole("user") {
		t.Fatalf("a latchkey token: %d %+v", code, id)
	}
	warm := jwksRequests(srv)
	if warm != 1 {
		t.Fatalf("%d JWKS requests to warm the cache, want 1", warm)
	}

	// One rotation: the new signing key was published as "next" before it
	// signs, so the warm cache already holds it.
	rotate(t, srv.DataDir)
	second := waitForNewKID(t, srv, email, kidOf(t, first))
	for name, tok := range map[string]string{"new key": second, "previous key": first} {
		if code, _ := call(t, v, "Authorization", "Bearer "+tok); code != 200 {
			t.Errorf("token signed by the %s after rotation: %d", name, code)
		}
	}
	if n := jwksRequests(srv); n != warm {
		t.Errorf("%d JWKS requests after a planned rotation, want %d (the next key was already cached)", n, warm)
	}

	// Two more rotations: the key that signs now was never in the cache, so
	// its unknown kid makes the verifier fetch the JWKS again.
	rotate(t, srv.DataDir)
	rotate(t, srv.DataDir)
	third := waitForNewKID(t, srv, email, kidOf(t, second))
	time.Sleep(60 * time.Millisecond) // past UnknownKIDMinInterval since the last fetch
	if code, _ := call(t, v, "Authorization", "Bearer "+third); code != 200 {
		t.Fatalf("token signed by a key the cache had not seen: %d", code)
	}
	if n := jwksRequests(srv); n != warm+1 {
		t.Errorf("%d JWKS requests, want %d", n, warm+1)
	}
}

func TestAgainstLatchkeyUnknownKIDStorm(t *testing.T) {
	srv := apptest.Start(t)
	tok := e2eSignup(t, srv, "storm@example.com")["access_token"].(string)
	v, err := verify.New(verify.Config{Issuer: srv.URL, UnknownKIDMinInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	for i := range 200 {
		forged := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
			"iss": srv.URL, "aud": "latchkey", "sub": "x", "exp": time.Now().Add(time.Minute).Unix(), "iat": time.Now().Unix(),
		})
		forged.Header["kid"] = fmt.Sprintf("storm-%d", i)
		forged.Header["typ"] = "at+jwt"
		s, _ := forged.SignedString(priv)
		if code, _ := call(t, v, "Authorization", "Bearer "+s); code != 401 {
			t.Fatalf("forged token %d: %d", i, code)
		}
	}
	if code, _ := call(t, v, "Authorization", "Bearer "+tok); code != 200 {
		t.Errorf("a genuine token after the storm: %d", code)
	}
	if n := jwksRequests(srv); n != 1 {
		t.Errorf("%d JWKS requests for a storm of 200 unknown kids, want 1", n)
	}
}

func TestAgainstLatchkeyAPIKeys(t *testing.T) {
	srv := apptest.Start(t)
	tok := e2eSignup(t, srv, "verify-keys@example.com")["access_token"].(string)
	introspector, _ := e2eKey(t, srv, tok, "introspect")
	key, keyID := e2eKey(t, srv, tok, "read")
	const ttl = 200 * time.Millisecond
	v, err := verify.New(verify.Config{Issuer: srv.URL, IntrospectionKey: introspector, APIKeyCacheTTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	code, id := call(t, v, "X-API-Key", key)
	if code != 200 || id == nil || id.Kind != verify.KindAPIKey || id.APIKeyID != keyID || !id.HasScope("read") || id.HasScope("write") {
		t.Fatalf("an API key: %d %+v", code, id)
	}
	if code, _ := call(t, v, "Authorization", "Bearer "+key); code != 200 {
		t.Errorf("an API key as a bearer token: %d", code)
	}
	if code, _ := call(t, v, "X-API-Key", "lk_"+strings.Repeat("x", 49)); code != 401 {
		t.Errorf("an unknown key: %d", code)
	}

	r := srv.Do(t, "DELETE", "/v1/api-keys/"+keyID, nil, "Authorization", "Bearer "+tok)
	if r.Status != 204 {
		t.Fatalf("revoke: %d", r.Status)
	}
	time.Sleep(ttl + 50*time.Millisecond) // the cached answer has expired
	if code, _ := call(t, v, "X-API-Key", key); code != 401 {
		t.Errorf("a revoked key after the cache TTL: %d", code)
	}

	// An introspection key without the scope is refused by latchkey, and
	// the middleware fails closed (503), never open.
	plain, _ := e2eKey(t, srv, tok)
	v2, _ := verify.New(verify.Config{Issuer: srv.URL, IntrospectionKey: plain})
	other, _ := e2eKey(t, srv, tok, "read")
	if code, _ := call(t, v2, "X-API-Key", other); code != 503 {
		t.Errorf("introspection with an unscoped key: %d, want 503", code)
	}
}
