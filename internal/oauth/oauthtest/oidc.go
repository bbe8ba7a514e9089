package oauthtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Misbehaviour makes the OpenID Connect provider go wrong in one way.
type Misbehaviour int

const (
	// WrongNonce puts a nonce other than the request's in the id_token.
	WrongNonce Misbehaviour = iota + 1
	// WrongAudience issues the id_token to another client.
	WrongAudience
	// WrongIssuer puts another issuer in the id_token.
	WrongIssuer
	// BadSignature signs the id_token with a key that is not in the JWKS
	// (under the published kid).
	BadSignature
	// ExpiredIDToken issues an id_token that expired an hour ago.
	ExpiredIDToken
	// DenyAccess answers authorize with error=access_denied.
	DenyAccess
	// DiscoveryDown answers discovery with 503.
	DiscoveryDown
)

// OIDC is an OpenID Connect provider on loopback.
type OIDC struct {
	Issuer       string // also the base URL
	ClientID     string
	ClientSecret string

	srv      *httptest.Server
	key      *ecdsa.PrivateKey
	otherKey *ecdsa.PrivateKey
	kid      string
	grants   grants

	mu          sync.Mutex
	user        User
	misbehave   map[Misbehaviour]bool
	redirectURI string // "" accepts any
	tokenCalls  int
}

// NewOIDC starts a provider that knows one client, and stops it when t ends.
// It signs in User{Subject: "user-1", Email: "user@example.test",
// EmailVerified: true, Name: "Test User"} until SetUser says otherwise.
func NewOIDC(t testing.TB, clientID, clientSecret string) *OIDC {
	t.Helper()
	p := &OIDC{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		key:          newKey(t),
		otherKey:     newKey(t),
		kid:          random()[:16],
		user:         User{Subject: "user-1", Email: "user@example.test", EmailVerified: true, Name: "Test User"},
		misbehave:    map[Misbehaviour]bool{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewServer(mux)
	p.Issuer = p.srv.URL
	t.Cleanup(p.srv.Close)
	return p
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// SetUser sets who signs in next.
func (p *OIDC) SetUser(u User) { p.mu.Lock(); p.user = u; p.mu.Unlock() }

// Misbehave turns the given misbehaviours on (and all others off).
func (p *OIDC) Misbehave(ms ...Misbehaviour) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.misbehave = map[Misbehaviour]bool{}
	for _, m := range ms {
		p.misbehave[m] = true
	}
}

// RequireRedirectURI makes authorize and token accept only uri.
func (p *OIDC) RequireRedirectURI(uri string) { p.mu.Lock(); p.redirectURI = uri; p.mu.Unlock() }

// Close stops the provider early: later calls cannot connect.
func (p *OIDC) Close() { p.srv.Close() }

// TokenCalls counts requests to the token endpoint.
func (p *OIDC) TokenCalls() int { p.mu.Lock(); defer p.mu.Unlock(); return p.tokenCalls }

func (p *OIDC) is(m Misbehaviour) bool { p.mu.Lock(); defer p.mu.Unlock(); return p.misbehave[m] }

func (p *OIDC) discovery(w http.ResponseWriter, r *http.Request) {
	if p.is(DiscoveryDown) {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.Issuer,
		"authorization_endpoint":                p.Issuer + "/authorize",
		"token_endpoint":                        p.Issuer + "/token",
		"jwks_uri":                              p.Issuer + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"ES256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"scopes_supported":                      []string{"openid", "email", "profile"},
	})
}

func (p *OIDC) jwks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &p.key.PublicKey, KeyID: p.kid, Algorithm: string(jose.ES256), Use: "sig",
	}}})
}

func (p *OIDC) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirectURI := q.Get("redirect_uri")
	p.mu.Lock()
	wantURI := p.redirectURI
	p.mu.Unlock()
	// Bad client or redirect_uri: show an error, never redirect (RFC 6749 §4.1.2.1).
	if q.Get("client_id") != p.ClientID || redirectURI == "" || (wantURI != "" && redirectURI != wantURI) {
		http.Error(w, "unknown client or redirect_uri", http.StatusBadRequest)
		return
	}
	back := url.Values{"state": {q.Get("state")}, "iss": {p.Issuer}}
	switch {
	case p.is(DenyAccess):
		back.Set("error", "access_denied")
	case q.Get("response_type") != "code":
		back.Set("error", "unsupported_response_type")
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		back.Set("error", "invalid_request")
	case !slices.Contains(strings.Fields(q.Get("scope")), "openid"):
		back.Set("error", "invalid_scope")
	default:
		back.Set("code", p.grants.issue(grant{
			clientID: p.ClientID, redirectURI: redirectURI, challenge: q.Get("code_challenge"),
			nonce: q.Get("nonce"), expires: time.Now().Add(codeLifetime),
		}))
	}
	redirectBack(w, r, redirectURI, back)
}

func (p *OIDC) token(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.tokenCalls++
	p.mu.Unlock()
	if err := r.ParseForm(); err != nil {
		tokenErr(w, http.StatusBadRequest, "invalid_request")
		return
	}
	id, secret := clientCredentials(r)
	if !equal(id, p.ClientID) || !equal(secret, p.ClientSecret) {
		tokenErr(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		tokenErr(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	gr, ok := p.grants.redeem(r.PostForm.Get("code"))
	if !ok || gr.clientID != id || gr.redirectURI != r.PostForm.Get("redirect_uri") ||
		!pkceOK(r.PostForm.Get("code_verifier"), gr.challenge) {
		tokenErr(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	access := random()
	idToken, err := p.idToken(gr, access)
	if err != nil {
		tokenErr(w, http.StatusInternalServerError, "server_error")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": access, "token_type": "Bearer", "expires_in": 3600, "id_token": idToken,
	})
}

func (p *OIDC) idToken(gr grant, accessToken string) (string, error) {
	p.mu.Lock()
	u, bad := p.user, p.misbehave
	p.mu.Unlock()
	now := time.Now()
	sum := sha256.Sum256([]byte(accessToken))
	claims := map[string]any{
		"iss": p.Issuer, "sub": u.Subject, "aud": gr.clientID,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"nonce":   gr.nonce,
		"at_hash": base64.RawURLEncoding.EncodeToString(sum[:16]),
		"email":   u.Email, "email_verified": u.EmailVerified, "name": u.Name,
	}
	if bad[WrongNonce] {
		claims["nonce"] = random()
	}
	if bad[WrongAudience] {
		claims["aud"] = "another-client"
	}
	if bad[WrongIssuer] {
		claims["iss"] = "https://issuer.invalid"
	}
	if bad[ExpiredIDToken] {
		claims["iat"], claims["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
	}
	key := p.key
	if bad[BadSignature] {
		key = p.otherKey
	}
	return sign(key, p.kid, claims)
}

func sign(key *ecdsa.PrivateKey, kid string, claims map[string]any) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

func tokenErr(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
