package app_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/internal/jwttest"
)

var b64 = jwttest.B64

// ourPublicKey reads the server's current ES256 key from its JWKS.
func ourPublicKey(t *testing.T, srv *apptest.Instance, kid string) *ecdsa.PublicKey {
	t.Helper()
	var set struct {
		Keys []struct{ Kid, Kty, Crv, X, Y string }
	}
	if err := json.Unmarshal(srv.Do(t, "GET", "/.well-known/jwks.json", nil).Body, &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if k.Kid == kid {
			x, _ := b64.DecodeString(k.X)
			y, _ := b64.DecodeString(k.Y)
			pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
			if err != nil {
				t.Fatalf("JWKS key %s: %v", kid, err)
			}
			return pub
		}
	}
	t.Fatalf("kid %s not in the JWKS", kid)
	return nil
}

// TestForgedTokensAreRefused sends the access-token attacks of
// docs/threat-model.md (JWT-01 to JWT-30) to a real server; every one must be a 401 and the real token must keep
// working afterwards.
func TestForgedTokensAreRefused(t *testing.T) {
	srv := apptest.Start(t)
	victim := signup(t, srv, "victim@example.com")
	at := victim["access_token"].(string)
	parts := strings.Split(at, ".")
	var header, claims map[string]any
	hb, _ := b64.DecodeString(parts[0])
	cb, _ := b64.DecodeString(parts[1])
	_ = json.Unmarshal(hb, &header)
	_ = json.Unmarshal(cb, &claims)
	kid := header["kid"].(string)
	if header["typ"] != "at+jwt" || header["alg"] != "ES256" || kid == "" {
		t.Fatalf("header = %v", header)
	}
	for _, c := range []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "sid", "roles"} {
		if _, ok := claims[c]; !ok {
			t.Errorf("claim %s missing", c)
		}
	}
	if _, ok := claims["email"]; ok {
		t.Error("the access token carries the email")
	}
	pub := ourPublicKey(t, srv, kid)

	forged := map[string]any{}
	for k, v := range claims {
		forged[k] = v
	}
	forged["roles"] = []string{"admin"}
	forged["exp"] = time.Now().Add(24 * time.Hour).Unix()
	forgedJSON := jwttest.JSON(forged)
	payload := jwttest.Seg(forgedJSON)

	hits := atomic.Int32{}
	listener := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer listener.Close()

	attackerKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signES := func(h map[string]any, key *ecdsa.PrivateKey) string {
		return jwttest.Sign(t, key, jwttest.JSON(h), forgedJSON)
	}
	hs256 := func(secret []byte, kid string) string {
		return jwttest.HMAC(jwttest.JSON(map[string]any{"alg": "HS256", "kid": kid, "typ": "at+jwt"}), forgedJSON, secret)
	}
	der, _ := x509.MarshalPKIXPublicKey(pub)
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	jwkJSON := []byte(jwttest.JSON(jwttest.JWK(kid, "ES256", pub)))
	attackerJWK := jwttest.JWK("", "", &attackerKey.PublicKey)

	attacks := map[string]string{
		"alg none":            jwttest.Seg(jwttest.JSON(map[string]any{"alg": "none", "typ": "at+jwt", "kid": kid})) + "." + payload + ".",
		"alg NONE":            jwttest.Seg(jwttest.JSON(map[string]any{"alg": "NONE", "typ": "at+jwt", "kid": kid})) + "." + payload + ".",
		"alg nOnE sig":        jwttest.Seg(jwttest.JSON(map[string]any{"alg": "nOnE", "typ": "at+jwt", "kid": kid})) + "." + payload + "." + parts[2],
		"signature removed":   parts[0] + "." + parts[1] + ".",
		"two segments":        parts[0] + "." + parts[1],
		"tampered payload":    parts[0] + "." + payload + "." + parts[2],
		"hs256 pem":           hs256(pemBytes, kid),
		"hs256 der":           hs256(der, kid),
		"hs256 jwk":           hs256(jwkJSON, kid),
		"hs256 empty":         hs256([]byte{0}, kid),
		"hs256 secret":        hs256([]byte("secret"), kid),
		"foreign key our kid": signES(map[string]any{"alg": "ES256", "typ": "at+jwt", "kid": kid}, attackerKey),
		"embedded jwk":        signES(map[string]any{"alg": "ES256", "typ": "at+jwt", "kid": kid, "jwk": attackerJWK}, attackerKey),
		"jku":                 signES(map[string]any{"alg": "ES256", "typ": "at+jwt", "kid": "attacker", "jku": listener.URL + "/jwks.json"}, attackerKey),
		"x5u":                 signES(map[string]any{"alg": "ES256", "typ": "at+jwt", "kid": "attacker", "x5u": listener.URL + "/cert.pem"}, attackerKey),
		"kid traversal":       hs256([]byte{}, "../../../../../../dev/null"),
		"kid sql":             hs256([]byte("1"), "x' UNION SELECT '1';--"),
		"zero signature":      jwttest.Seg(jwttest.JSON(header)) + "." + payload + "." + b64.EncodeToString(make([]byte, 64)),
		"typ JWT":             signES(map[string]any{"alg": "ES256", "typ": "JWT", "kid": kid}, attackerKey),
		"100000 dots":         strings.Repeat(".", 100000),
		"five segments":       at + ".a.b",
	}
	for name, tok := range attacks {
		t.Run(name, func(t *testing.T) {
			r := srv.Do(t, "GET", "/v1/me", nil, "Authorization", "Bearer "+tok)
			if r.Status == http.StatusRequestHeaderFieldsTooLarge && len(tok) > 64<<10 {
				return // cut off before any parsing (JWT-24)
			}
			if r.Status != 401 {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			if !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
			}
		})
	}
	if hits.Load() != 0 {
		t.Errorf("the server fetched a URL named in a token (%d requests)", hits.Load())
	}
	// The real token survives the barrage (jwt_tool persistence check).
	if r := srv.Do(t, "GET", "/v1/me", nil, "Authorization", "Bearer "+at); r.Status != 200 {
		t.Fatalf("the genuine token stopped working: %d", r.Status)
	}
	// A refresh token is not an access token, nor the reverse (RT-11).
	if r := srv.Do(t, "GET", "/v1/me", nil, "Authorization", "Bearer "+victim["refresh_token"].(string)); r.Status != 401 {
		t.Errorf("refresh token as bearer: %d", r.Status)
	}
	if r := srv.Do(t, "POST", "/v1/auth/refresh", map[string]string{"refresh_token": at}); r.Status != 400 {
		t.Errorf("access token as refresh token: %d", r.Status)
	}
}

// A token latchkey signed under another spelling of its URL (here, the
// same data directory served first as http://localhost:…) is refused with
// the one client message, and the log says which issuer was expected and
// which was received, never the token.
func TestIssuerMismatchIsLogged(t *testing.T) {
	dir := t.TempDir()
	const other = "http://localhost:8080"
	first := apptest.StartIn(t, dir, "--issuer", other)
	at := signup(t, first, "issuer@example.com")["access_token"].(string)
	first.Stop(t)
	srv := apptest.StartIn(t, dir)
	r := srv.Do(t, "GET", "/v1/me", nil, bearer(at)...)
	if r.Status != http.StatusUnauthorized || strings.Contains(string(r.Body), other) {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	logs := srv.Logs()
	named := false
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, `"level":"WARN"`) && strings.Contains(line, "issuer mismatch") &&
			strings.Contains(line, `"received_issuer":"`+other+`"`) && strings.Contains(line, `"expected_issuer":"`+srv.URL+`"`) {
			named = true
		}
	}
	if !named {
		t.Fatalf("no refusal in the log names both issuers:\n%s", logs)
	}
	if strings.Contains(logs, at[strings.LastIndexByte(at, '.')+1:]) {
		t.Fatal("the token reached the log")
	}
}
