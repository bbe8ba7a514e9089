package verify_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/jwttest"
	"github.com/latchkey/latchkey/internal/testenv"
	"github.com/latchkey/latchkey/verify"
)

// claims returns latchkey's usual claims for iss at now; edit the map
// before minting to test a variation.
func claims(iss string, now time.Time) map[string]any {
	return map[string]any{
		"iss": iss, "sub": "user-1", "aud": "latchkey",
		"exp": now.Add(15 * time.Minute).Unix(), "iat": now.Unix(), "nbf": now.Unix(),
		"jti": "jti-1", "sid": "sess-1", "roles": []string{"user"},
	}
}

// issuer is an in-test latchkey: it serves a JWKS and an introspection
// endpoint on loopback and counts the calls it receives.
type issuer struct {
	*httptest.Server
	mu         sync.Mutex
	keys       []*jwttest.Key
	jwksFetch  atomic.Int64
	introCalls atomic.Int64
	// introKey is the resource server's key the introspection endpoint demands.
	introKey string
	apiKeys  map[string]map[string]any // API key → RFC 7662 answer
	introErr bool                      // answer 500
}

func newIssuer(t testing.TB, keys ...*jwttest.Key) *issuer {
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
			doc.Keys = append(doc.Keys, k.JWK())
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

func (is *issuer) setKeys(keys ...*jwttest.Key) {
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
