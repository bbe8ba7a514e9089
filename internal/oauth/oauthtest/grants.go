package oauthtest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// User is who the provider signs in.
type User struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
}

// grant is an issued authorization code.
type grant struct {
	clientID    string
	redirectURI string
	challenge   string // PKCE S256; "" when the client sent none (GitHub only)
	nonce       string
	expires     time.Time
}

// codeLifetime follows RFC 6749 §4.1.2's advice (short), and P3 of the
// checklist.
const codeLifetime = time.Minute

// grants keeps codes until first use; a second use finds nothing.
type grants struct {
	mu    sync.Mutex
	codes map[string]grant
}

func (g *grants) issue(gr grant) string {
	code := random()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.codes == nil {
		g.codes = map[string]grant{}
	}
	g.codes[code] = gr
	return code
}

// redeem removes code whatever happens next: a code is good for one try.
func (g *grants) redeem(code string) (grant, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	gr, ok := g.codes[code]
	delete(g.codes, code)
	if !ok || time.Now().After(gr.expires) {
		return grant{}, false
	}
	return gr, true
}

func random() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// pkceOK checks an RFC 7636 S256 verifier against its challenge.
func pkceOK(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}

// clientCredentials reads client_secret_basic or client_secret_post.
func clientCredentials(r *http.Request) (id, secret string) {
	if id, secret, ok := r.BasicAuth(); ok {
		uid, err1 := url.QueryUnescape(id)
		usec, err2 := url.QueryUnescape(secret)
		if err1 == nil && err2 == nil {
			return uid, usec
		}
		return id, secret
	}
	return r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// redirectBack sends the browser to redirectURI with params added.
func redirectBack(w http.ResponseWriter, r *http.Request, redirectURI string, params url.Values) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	q := u.Query()
	for k, vs := range params {
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}
