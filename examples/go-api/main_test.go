package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
