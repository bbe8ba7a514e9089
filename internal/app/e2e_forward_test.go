package app_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/internal/crypt"
	"github.com/latchkey/latchkey/internal/store"
)

// cookieSession starts a browser session for userID directly in the
// server's database (the hosted login page that would set it is not part
// of this test) and returns the cookie value.
func cookieSession(t *testing.T, srv *apptest.Instance, userID string) string {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(srv.DataDir, "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	value := crypt.RandomToken(32)
	now := time.Now().UTC()
	err = st.CreateSession(ctx, &latchkey.Session{ID: latchkey.NewID(now), UserID: userID, CreatedAt: now, LastUsedAt: now, AuthTime: now,
		ExpiresAt: now.Add(time.Hour), CookieHash: crypt.Hash(value)})
	if err != nil {
		t.Fatal(err)
	}
	return value
}

func callerID(t *testing.T, srv *apptest.Instance, auth []string) string {
	t.Helper()
	r := srv.Do(t, "GET", "/v1/me", nil, auth...)
	if r.Status != 200 {
		t.Fatalf("me: %d %s", r.Status, r.Body)
	}
	return r.String(t, "id")
}

func TestForwardAuthVerify(t *testing.T) {
	srv := apptest.Start(t)
	alice := signup(t, srv, "fwd@example.com")
	auth := bearer(alice["access_token"])
	id := callerID(t, srv, auth)
	key := createKey(t, srv, auth, map[string]any{"name": "svc", "scopes": []string{"read", "deploy"}})
	plainKey := createKey(t, srv, auth, map[string]any{"name": "all"})
	cookie := "latchkey_session=" + cookieSession(t, srv, id)

	// Every method is accepted: nginx and Envoy send the original one.
	for _, method := range []string{"GET", "HEAD", "POST", "DELETE"} {
		r := srv.Do(t, method, "/v1/verify", nil, auth...)
		if r.Status != 200 || r.Header.Get("X-Auth-User-Id") != id {
			t.Errorf("%s /v1/verify with a token: %d %v", method, r.Status, r.Header)
		}
	}
	tok := srv.Do(t, "GET", "/v1/verify", nil, append(auth, "X-Auth-User-Id", "victim", "X-Auth-Roles", "admin")...)
	h := tok.Header
	if tok.Status != 200 || len(tok.Body) != 0 || h.Get("Cache-Control") != "no-store" ||
		h.Get("X-Auth-User-Id") != id || h.Get("X-Auth-Roles") != "user" || h.Get("X-Auth-Session-Id") != alice["session_id"] ||
		h.Get("X-Auth-Api-Key-Id") != "" || h.Get("X-Auth-Scopes") != "" || h.Get("X-Auth-Identity") != "" {
		t.Errorf("verify with a token (and spoofed X-Auth-*): %d %v %q", tok.Status, h, tok.Body)
	}

	k := srv.Do(t, "GET", "/v1/verify", nil, "X-API-Key", key["key"].(string))
	if k.Status != 200 || k.Header.Get("X-Auth-User-Id") != id || k.Header.Get("X-Auth-Api-Key-Id") != key["id"] ||
		k.Header.Get("X-Auth-Session-Id") != "" || k.Header.Get("X-Auth-Scopes") != "read,deploy" {
		t.Errorf("verify with an API key: %d %v", k.Status, k.Header)
	}
	if r := srv.Do(t, "GET", "/v1/verify", nil, bearer(plainKey["key"])...); r.Status != 200 || r.Header.Get("X-Auth-Api-Key-Id") != plainKey["id"] {
		t.Errorf("verify with Bearer lk_…: %d %v", r.Status, r.Header)
	}

	c := srv.Do(t, "GET", "/v1/verify", nil, "Cookie", cookie)
	if c.Status != 200 || c.Header.Get("X-Auth-User-Id") != id || c.Header.Get("X-Auth-Session-Id") == "" {
		t.Errorf("verify with the session cookie: %d %v", c.Status, c.Header)
	}

	for name, hdr := range map[string][]string{
		"none":           nil,
		"spoofed only":   {"X-Auth-User-Id", id, "X-Auth-Roles", "admin", "X-Auth-Identity", "x.y.z"},
		"garbage token":  {"Authorization", "Bearer abc.def.ghi"},
		"garbage key":    {"X-API-Key", "lk_nope"},
		"two creds":      {"X-API-Key", key["key"].(string), "Authorization", "Bearer " + alice["access_token"].(string)},
		"unknown cookie": {"Cookie", "latchkey_session=" + crypt.RandomToken(32)},
	} {
		r := srv.Do(t, "GET", "/v1/verify", nil, hdr...)
		if r.Status != 401 || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") || r.Header.Get("X-Auth-User-Id") != "" {
			t.Errorf("%s: %d %v", name, r.Status, r.Header)
		}
	}

	// Requirements: every ?role= and ?scope= must hold.
	for _, tc := range []struct {
		query string
		hdr   []string
		want  int
	}{
		{"?role=user", auth, 200},
		{"?role=admin", auth, 403},
		{"?role=user&role=admin", auth, 403},
		{"?scope=anything", auth, 200}, // an unscoped token carries all its owner's rights
		{"?scope=read", []string{"X-API-Key", key["key"].(string)}, 200},
		{"?scope=read&scope=deploy", []string{"X-API-Key", key["key"].(string)}, 200},
		{"?scope=write", []string{"X-API-Key", key["key"].(string)}, 403},
		{"?scope=write", []string{"X-API-Key", plainKey["key"].(string)}, 200},
		{"?role=admin", nil, 401},
		// MF-06: a password session is aal1; an API key has no sign-in.
		{"?acr=aal1", auth, 200},
		{"?acr=aal2", auth, 403},
		{"?acr=aal9", auth, 403},
		{"?acr=aal1", []string{"X-API-Key", key["key"].(string)}, 403},
		{"?acr=aal2", []string{"Cookie", cookie}, 403},
	} {
		r := srv.Do(t, "GET", "/v1/verify"+tc.query, nil, tc.hdr...)
		if r.Status != tc.want || (r.Status != 200 && r.Header.Get("X-Auth-User-Id") != "") {
			t.Errorf("verify%s: %d, want %d", tc.query, r.Status, tc.want)
		}
		if strings.HasPrefix(tc.query, "?acr") && r.Status == 403 && r.String(t, "code") != "insufficient_authentication" {
			t.Errorf("verify%s: code %q", tc.query, r.String(t, "code"))
		}
	}
	if h := srv.Do(t, "GET", "/v1/verify", nil, auth...).Header; h.Get("X-Auth-Acr") != "aal1" || h.Get("X-Auth-Amr") != "pwd" {
		t.Errorf("assurance headers of a password session: %v", h)
	}
	if h := srv.Do(t, "GET", "/v1/verify", nil, "X-API-Key", key["key"].(string)).Header; h.Get("X-Auth-Acr") != "" || h.Get("X-Auth-Amr") != "" {
		t.Errorf("assurance headers of an API key: %v", h)
	}

	// Envoy's form: the original path appended, its query the client's.
	if r := srv.Do(t, "POST", "/v1/verify/orders/7?role=admin", nil, auth...); r.Status != 200 || r.Header.Get("X-Auth-User-Id") != id {
		t.Errorf("verify under /v1/verify/: %d %v", r.Status, r.Header)
	}
	if r := srv.Do(t, "GET", "/v1/verify/orders", nil); r.Status != 401 {
		t.Errorf("verify under /v1/verify/ without credentials: %d", r.Status)
	}

	// Revocation is immediate.
	if r := srv.Do(t, "DELETE", "/v1/api-keys/"+key["id"].(string), nil, auth...); r.Status != 204 {
		t.Fatalf("revoke: %d", r.Status)
	}
	if r := srv.Do(t, "GET", "/v1/verify", nil, "X-API-Key", key["key"].(string)); r.Status != 401 {
		t.Errorf("revoked key: %d", r.Status)
	}
	if r := srv.Do(t, "POST", "/v1/auth/logout", map[string]string{"scope": "global"}, auth...); r.Status != 204 {
		t.Fatalf("logout: %d", r.Status)
	}
	if r := srv.Do(t, "GET", "/v1/verify", nil, auth...); r.Status != 401 {
		t.Errorf("token after logout: %d", r.Status)
	}
	if r := srv.Do(t, "GET", "/v1/verify", nil, "Cookie", cookie); r.Status != 401 {
		t.Errorf("cookie after global logout: %d", r.Status)
	}
}

// A browser's cookie reaches /v1/verify through the proxy with the
// original request's Origin: unsafe original methods get cross-origin
// protection, whichever way the proxy tells the method.
func TestForwardAuthCookieCSRF(t *testing.T) {
	srv := apptest.Start(t)
	alice := signup(t, srv, "csrf-fwd@example.com")
	cookie := "latchkey_session=" + cookieSession(t, srv, callerID(t, srv, bearer(alice["access_token"])))
	cross := []string{"Cookie", cookie, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}
	for _, tc := range []struct {
		name   string
		method string
		hdr    []string
		want   int
	}{
		{"cross-site GET", "GET", cross, 200},
		{"cross-site POST (original method)", "POST", cross, 403},
		{"cross-site X-Forwarded-Method POST", "GET", append(cross, "X-Forwarded-Method", "POST"), 403},
		{"cross-site X-Original-Method DELETE", "GET", append(cross, "X-Original-Method", "delete"), 403},
		{"a client-sent GET does not hide POST", "POST", append(cross, "X-Forwarded-Method", "GET"), 403},
		{"same-origin POST", "GET", []string{"Cookie", cookie, "Sec-Fetch-Site", "same-origin", "X-Forwarded-Method", "POST"}, 200},
		{"cross-site POST with a token", "GET", append(bearer(alice["access_token"]), "Sec-Fetch-Site", "cross-site", "X-Forwarded-Method", "POST"), 200},
	} {
		if r := srv.Do(t, tc.method, "/v1/verify", nil, tc.hdr...); r.Status != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, r.Status, tc.want)
		}
	}
}

func TestIntrospection(t *testing.T) {
	srv := apptest.Start(t)
	alice := signup(t, srv, "intro@example.com")
	auth := bearer(alice["access_token"])
	id := callerID(t, srv, auth)
	caller := createKey(t, srv, auth, map[string]any{"name": "resource server", "scopes": []string{"introspect"}})["key"].(string)
	subject := createKey(t, srv, auth, map[string]any{"name": "subject", "scopes": []string{"read"}, "expires_in": 3600})

	introspect := func(t *testing.T, tok string) map[string]any {
		t.Helper()
		r := srv.Do(t, "POST", "/v1/introspect", "token="+url.QueryEscape(tok)+"&token_type_hint=access_token",
			"Content-Type", "application/x-www-form-urlencoded", "X-API-Key", caller)
		if r.Status != 200 || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("introspect: %d %v %s", r.Status, r.Header, r.Body)
		}
		return r.JSON(t)
	}
	inactive := func(t *testing.T, what string, m map[string]any) {
		t.Helper()
		if len(m) != 1 || m["active"] != false {
			t.Errorf("%s: %v, want exactly {active:false}", what, m)
		}
	}

	at := introspect(t, alice["access_token"].(string))
	if at["active"] != true || at["token_type"] != "access_token" || at["sub"] != id || at["sid"] != alice["session_id"] ||
		at["exp"] == nil || at["iat"] == nil || len(at["roles"].([]any)) != 1 || at["acr"] != "aal1" || fmt.Sprint(at["amr"]) != "[pwd]" {
		t.Errorf("access token: %v", at)
	}
	rt := introspect(t, alice["refresh_token"].(string))
	if rt["active"] != true || rt["token_type"] != "refresh_token" || rt["sub"] != id || rt["sid"] != alice["session_id"] || rt["exp"] == nil {
		t.Errorf("refresh token: %v", rt)
	}
	// Looking at a refresh token never uses it up.
	introspect(t, alice["refresh_token"].(string))
	next := srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": alice["refresh_token"]})
	if next.Status != 200 {
		t.Fatalf("refresh after introspection: %d %s", next.Status, next.Body)
	}
	inactive(t, "used refresh token", introspect(t, alice["refresh_token"].(string)))
	if m := introspect(t, next.String(t, "refresh_token")); m["active"] != true {
		t.Errorf("successor refresh token: %v", m)
	}

	ak := introspect(t, subject["key"].(string))
	if ak["active"] != true || ak["token_type"] != "api_key" || ak["sub"] != id || ak["api_key_id"] != subject["id"] ||
		ak["scope"] != "read" || ak["exp"] == nil || ak["sid"] != nil || ak["acr"] != nil || ak["amr"] != nil {
		t.Errorf("API key: %v", ak)
	}
	// JSON works as well as the form.
	j := srv.Do(t, "POST", "/v1/introspect", map[string]string{"token": subject["key"].(string)}, "X-API-Key", caller)
	if j.Status != 200 || j.JSON(t)["active"] != true {
		t.Errorf("JSON introspection: %d %s", j.Status, j.Body)
	}

	for name, tok := range map[string]string{
		"garbage": "garbage", "unknown key": "lk_" + strings.Repeat("a", 49), "forged JWT": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
		"unknown refresh": crypt.RandomToken(32), "huge": strings.Repeat("a", 10000),
	} {
		inactive(t, name, introspect(t, tok))
	}

	// Revoked: key, access token after logout, refresh token of an ended session.
	if r := srv.Do(t, "DELETE", "/v1/api-keys/"+subject["id"].(string), nil, auth...); r.Status != 204 {
		t.Fatal(r.Status)
	}
	inactive(t, "revoked key", introspect(t, subject["key"].(string)))
	nextAuth := bearer(next.String(t, "access_token"))
	if r := srv.Do(t, "POST", "/v1/auth/logout", map[string]string{"scope": "local"}, nextAuth...); r.Status != 204 {
		t.Fatal(r.Status)
	}
	inactive(t, "access token after logout", introspect(t, next.String(t, "access_token")))
	inactive(t, "refresh token after logout", introspect(t, next.String(t, "refresh_token")))

	// The caller must be an API key that explicitly holds "introspect".
	bob := signup(t, srv, "intro-bob@example.com")
	bobAuth := bearer(bob["access_token"])
	unscoped := createKey(t, srv, bobAuth, map[string]any{"name": "unscoped"})["key"].(string)
	other := createKey(t, srv, bobAuth, map[string]any{"name": "other", "scopes": []string{"read"}})["key"].(string)
	form := "token=" + url.QueryEscape(bob["access_token"].(string))
	for _, tc := range []struct {
		name string
		hdr  []string
		want int
	}{
		{"no credentials", nil, 401},
		{"bad key", []string{"X-API-Key", "lk_" + strings.Repeat("b", 49)}, 401},
		{"a user's access token", bobAuth, 403},
		{"an unscoped key", []string{"X-API-Key", unscoped}, 403},
		{"a key without introspect", []string{"X-API-Key", other}, 403},
		{"revoked caller", []string{"X-API-Key", subject["key"].(string)}, 401},
	} {
		r := srv.Do(t, "POST", "/v1/introspect", form, append([]string{"Content-Type", "application/x-www-form-urlencoded"}, tc.hdr...)...)
		if r.Status != tc.want || strings.Contains(string(r.Body), `"active"`) {
			t.Errorf("%s: %d, want %d: %s", tc.name, r.Status, tc.want, r.Body)
		}
	}
	for name, tc := range map[string][2]string{
		"no token":       {"application/x-www-form-urlencoded", "token_type_hint=access_token"},
		"repeated token": {"application/x-www-form-urlencoded", "token=a&token=b"},
		"unknown field":  {"application/json", `{"token":"a","extra":1}`},
		"wrong type":     {"text/plain", "token=a"},
	} {
		r := srv.Do(t, "POST", "/v1/introspect", tc[1], "Content-Type", tc[0], "X-API-Key", caller)
		if r.Status != 400 && r.Status != 415 {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	// The token is never read from the URL.
	if r := srv.Do(t, "POST", "/v1/introspect?token="+url.QueryEscape(bob["access_token"].(string)), "",
		"Content-Type", "application/x-www-form-urlencoded", "X-API-Key", caller); r.Status != 400 {
		t.Errorf("token in the URL: %d %s", r.Status, r.Body)
	}
}

func TestIdentityHeader(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "identity.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := apptest.Start(t, "--identity-header-key", keyFile)
	alice := signup(t, srv, "identity@example.com")
	id := callerID(t, srv, bearer(alice["access_token"]))

	// The published key is ours.
	jw := srv.Do(t, "GET", "/.well-known/identity-jwks.json", nil)
	var set struct {
		Keys []struct{ Kty, Crv, X, Kid, Alg string }
	}
	if err := json.Unmarshal(jw.Body, &set); err != nil || jw.Status != 200 || len(set.Keys) != 1 {
		t.Fatalf("identity JWKS: %d %s %v", jw.Status, jw.Body, err)
	}
	x, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].X)
	if set.Keys[0].Kty != "OKP" || set.Keys[0].Crv != "Ed25519" || set.Keys[0].Alg != "EdDSA" || !pub.Equal(ed25519.PublicKey(x)) {
		t.Fatalf("identity JWKS does not publish the key: %s", jw.Body)
	}

	r := srv.Do(t, "GET", "/v1/verify", nil, append(bearer(alice["access_token"]), "X-Auth-Identity", "forged")...)
	raw := r.Header.Get("X-Auth-Identity")
	if r.Status != 200 || raw == "" || raw == "forged" {
		t.Fatalf("no identity header: %d %v", r.Status, r.Header)
	}
	parse := func(now time.Time) (*jwt.Token, jwt.MapClaims, error) {
		claims := jwt.MapClaims{}
		tok, err := jwt.ParseWithClaims(raw, claims, func(tok *jwt.Token) (any, error) {
			if tok.Header["kid"] != set.Keys[0].Kid {
				return nil, jwt.ErrTokenUnverifiable
			}
			return ed25519.PublicKey(x), nil
		}, jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithAudience("upstream"), jwt.WithIssuer(srv.URL),
			jwt.WithExpirationRequired(), jwt.WithTimeFunc(func() time.Time { return now }))
		return tok, claims, err
	}
	tok, claims, err := parse(time.Now())
	if err != nil {
		t.Fatalf("identity header does not verify: %v", err)
	}
	exp, _ := claims.GetExpirationTime()
	iat, _ := claims.GetIssuedAt()
	if tok.Header["typ"] != "identity+jwt" || claims["sub"] != id || claims["sid"] != alice["session_id"] ||
		exp.Sub(iat.Time) != 60*time.Second || len(claims["roles"].([]any)) != 1 {
		t.Errorf("identity claims: %v %v", tok.Header, claims)
	}
	if _, _, err := parse(time.Now().Add(2 * time.Minute)); err == nil {
		t.Error("identity header still valid after its 60 s")
	}
	// Signed by another key: refused.
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	forged, _ := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims).SignedString(other)
	raw = forged
	if _, _, err := parse(time.Now()); err == nil {
		t.Error("an identity header signed by another key verifies")
	}
}

func TestIdentityHeaderKeyIsChecked(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.pem")
	if err := os.WriteFile(bad, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := runCLI(t, "", "serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--identity-header-key", bad)
	if err == nil || !strings.Contains(err.Error(), "--identity-header-key") {
		t.Errorf("a bad identity key: %v", err)
	}
}
