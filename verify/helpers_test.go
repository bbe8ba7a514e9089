package verify_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/internal/testenv"
	"github.com/latchkey/latchkey/verify"
)

// testKey is a signing key as latchkey would hold it.
type testKey struct {
	kid    string
	alg    string
	method jwt.SigningMethod
	priv   crypto.Signer
}

var (
	rsaOnce sync.Once
	rsaPriv *rsa.PrivateKey
)

func newKey(t testing.TB, alg, kid string) *testKey {
	t.Helper()
	k := &testKey{kid: kid, alg: alg, method: jwt.GetSigningMethod(alg)}
	switch alg {
	case "ES256":
		p, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		k.priv = p
	case "EdDSA":
		_, p, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		k.priv = p
	case "RS256":
		// One RSA key for the whole run: generating them is slow.
		rsaOnce.Do(func() {
			var err error
			if rsaPriv, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
				panic(err)
			}
		})
		k.priv = rsaPriv
	default:
		t.Fatalf("unknown alg %s", alg)
	}
	return k
}

// jwk is the key's public JWK, as latchkey publishes it.
func (k *testKey) jwk() map[string]any {
	enc := base64.RawURLEncoding.EncodeToString
	m := map[string]any{"kid": k.kid, "use": "sig", "alg": k.alg}
	switch p := k.priv.Public().(type) {
	case *ecdsa.PublicKey:
		b, _ := p.Bytes()
		m["kty"], m["crv"], m["x"], m["y"] = "EC", "P-256", enc(b[1:33]), enc(b[33:])
	case ed25519.PublicKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", enc(p)
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", enc(p.N.Bytes()), enc(big.NewInt(int64(p.E)).Bytes())
	}
	return m
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// signRaw signs exactly the header and claims JSON given, so tests can
// build tokens no well-behaved library would.
func signRaw(t testing.TB, method jwt.SigningMethod, key any, header, claims string) string {
	t.Helper()
	input := b64(header) + "." + b64(claims)
	sig, err := method.Sign(input, key)
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// claims returns latchkey's usual claims for iss at now; edit the map
// before minting to test a variation.
func claims(iss string, now time.Time) map[string]any {
	return map[string]any{
		"iss": iss, "sub": "user-1", "aud": "latchkey",
		"exp": now.Add(15 * time.Minute).Unix(), "iat": now.Unix(), "nbf": now.Unix(),
		"jti": "jti-1", "sid": "sess-1", "roles": []string{"user"},
	}
}

func header(k *testKey) map[string]any {
	return map[string]any{"alg": k.alg, "typ": "at+jwt", "kid": k.kid}
}

func (k *testKey) mint(t testing.TB, hdr, cl map[string]any) string {
	t.Helper()
	return signRaw(t, k.method, k.priv, mustJSON(hdr), mustJSON(cl))
}

// issuer is an in-test latchkey: it serves a JWKS and an introspection
// endpoint on loopback and counts the calls it receives.
type issuer struct {
	*httptest.Server
	mu         sync.Mutex
	keys       []*testKey
	jwksFetch  atomic.Int64
	introCalls atomic.Int64
	// introKey is the resource server's key the introspection endpoint demands.
	introKey string
	apiKeys  map[string]map[string]any // API key → RFC 7662 answer
	introErr bool                      // answer 500
}

func newIssuer(t testing.TB, keys ...*testKey) *issuer {
	t.Helper()
	is := &issuer{keys: keys, introKey: apiKey("R"), apiKeys: map[string]map[string]any{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		is.jwksFetch.Add(1)
		is.mu.Lock()
		var doc struct {
			Keys []map[string]any `json:"keys"`
		}
		for _, k := range is.keys {
			doc.Keys = append(doc.Keys, k.jwk())
		}
		is.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	})
	mux.HandleFunc("POST /v1/introspect", func(w http.ResponseWriter, r *http.Request) {
		is.introCalls.Add(1)
		is.mu.Lock()
		defer is.mu.Unlock()
		if is.introErr {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		if r.Header.Get("X-API-Key") != is.introKey ||
			r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		form, err := url.ParseQuery(string(body))
		if err != nil || len(r.URL.RawQuery) > 0 {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		ans, ok := is.apiKeys[form.Get("token")]
		if !ok {
			ans = map[string]any{"active": false}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(ans)
	})
	is.Server = httptest.NewServer(mux)
	t.Cleanup(is.Close)
	return is
}

func (is *issuer) setKeys(keys ...*testKey) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.keys = keys
}

// apiKey returns a well-formed API key made of c.
func apiKey(c string) string {
	b := make([]byte, 49)
	for i := range b {
		b[i] = c[0]
	}
	return "lk_" + string(b)
}

var t0 = time.Unix(1_800_000_000, 0)

func newVerifier(t testing.TB, is *issuer, c *testenv.Clock, edit func(*verify.Config)) *verify.Verifier {
	t.Helper()
	cfg := verify.Config{Issuer: is.URL, IntrospectionKey: is.introKey, Clock: c.Now, HTTPClient: is.Client()}
	if edit != nil {
		edit(&cfg)
	}
	v, err := verify.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func bearer(tok string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}
