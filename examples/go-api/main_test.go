package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/verify"
)

// TestRoutes checks the example's routes behind the middleware, with an
// in-test issuer standing in for latchkey.
func TestRoutes(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := key.PublicKey.Bytes()
	enc := base64.RawURLEncoding.EncodeToString
	jwks := map[string]any{"keys": []map[string]string{{"kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256", "x": enc(pub[1:33]), "y": enc(pub[33:])}}}
	issuer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _ = json.NewEncoder(w).Encode(jwks) }))
	defer issuer.Close()
	v, err := verify.New(verify.Config{Issuer: issuer.URL})
	if err != nil {
		t.Fatal(err)
	}
	h := v.Middleware(routes())
	token := func(roles []string, scope string) string {
		now := time.Now()
		c := jwt.MapClaims{"iss": issuer.URL, "sub": "u1", "aud": "latchkey", "roles": roles, "exp": now.Add(time.Minute).Unix(), "iat": now.Unix()}
		if scope != "" {
			c["scope"] = scope
		}
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, c)
		tok.Header["typ"], tok.Header["kid"] = "at+jwt", "k1"
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	user, admin, reader := token([]string{"user"}, ""), token([]string{"user", "admin"}, ""), token([]string{"user"}, "notes:read")
	for _, tt := range []struct {
		method, path, token string
		want                int
	}{
		{"GET", "/whoami", "", 401},
		{"GET", "/whoami", user, 200},
		{"GET", "/admin", user, 403},
		{"GET", "/admin", admin, 200},
		{"POST", "/notes", user, 201},
		{"POST", "/notes", reader, 403},
	} {
		r := httptest.NewRequest(tt.method, tt.path, nil)
		if tt.token != "" {
			r.Header.Set("Authorization", "Bearer "+tt.token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.want {
			t.Errorf("%s %s: status %d, want %d", tt.method, tt.path, w.Code, tt.want)
		}
	}
}

// TestIntrospectionKeyRefusedIsExplained: when latchkey refuses this API's
// own introspection key, requests with an API key fail closed (503) and the
// log says which key is at fault and what to check, not only a status.
func TestIntrospectionKeyRefusedIsExplained(t *testing.T) {
	for _, tt := range []struct {
		status int
		want   string
	}{
		{http.StatusUnauthorized, "the introspection key was refused (401): is it revoked, or its owner (the service account) disabled"},
		{http.StatusForbidden, `the introspection key was refused (403): it lacks the scope \"introspect\"`},
		{http.StatusOK, ""},
	} {
		issuer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/v1/introspect" || r.Header.Get("X-API-Key") != "lk_service" {
				t.Errorf("request %s with X-API-Key %q", r.URL.Path, r.Header.Get("X-API-Key"))
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tt.status)
			_, _ = w.Write([]byte(`{"active":true,"token_type":"api_key","sub":"u1","scope":"notes:write"}`))
		}))
		var logs bytes.Buffer
		env := map[string]string{"LATCHKEY_INTROSPECTION_KEY": "lk_service"}
		v, err := newVerifier(issuer.URL, func(k string) string { return env[k] }, slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("GET", "/whoami", nil)
		r.Header.Set("X-API-Key", "lk_"+strings.Repeat("a", 49))
		w := httptest.NewRecorder()
		v.Middleware(routes()).ServeHTTP(w, r)
		issuer.Close()
		switch {
		case tt.want == "" && (w.Code != http.StatusOK || strings.Contains(logs.String(), "refused")):
			t.Errorf("introspection answering %d: status %d, log:\n%s", tt.status, w.Code, logs.String())
		case tt.want != "" && w.Code != http.StatusServiceUnavailable:
			t.Errorf("introspection answering %d: status %d, want 503", tt.status, w.Code)
		case tt.want != "" && !strings.Contains(logs.String(), tt.want):
			t.Errorf("introspection answering %d: the log does not say %q:\n%s", tt.status, tt.want, logs.String())
		}
	}
}

// TestWithoutIntrospectionKeyTheLogSaysSo: a missing key is reported at
// start, not discovered through refused API keys.
func TestWithoutIntrospectionKeyTheLogSaysSo(t *testing.T) {
	var logs bytes.Buffer
	if _, err := newVerifier("http://127.0.0.1:1", func(string) string { return "" }, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "LATCHKEY_INTROSPECTION_KEY is not set: API keys will be refused") {
		t.Errorf("log: %s", logs.String())
	}
}
