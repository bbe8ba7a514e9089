package oauth_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/oauth"
	"github.com/latchkey/latchkey/internal/oauth/oauthtest"
	"github.com/latchkey/latchkey/internal/testenv"
)

// gcmSealer is a real AES-256-GCM sealer, as the server's master key gives.
type gcmSealer struct{ aead cipher.AEAD }

func newSealer(t testing.TB) *gcmSealer {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return &gcmSealer{aead: aead}
}

func (s *gcmSealer) Seal(plaintext, ad []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plaintext, ad), nil
}

func (s *gcmSealer) Open(sealed, ad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed value too short")
	}
	return s.aead.Open(nil, sealed[:n], sealed[n:], ad)
}

// app stands in for latchkey's routes: /start/{provider} is the authorize
// route and /v1/oauth/{provider}/callback the callback, wired the way the
// server is meant to wire them. It answers the callback with the profile
// (200) or the error's code and reason.
type app struct {
	srv    *httptest.Server
	reg    *oauth.Registry
	sealer oauth.Sealer
	clock  *testenv.Clock
	logs   *testenv.LogBuffer
}

type outcome struct {
	Status  int
	Code    string         `json:"code"`
	Reason  string         `json:"reason"`
	Profile *oauth.Profile `json:"profile"`
}

func newApp(t *testing.T, cfgs []oauth.ProviderConfig, opts ...oauth.Option) *app {
	t.Helper()
	a := &app{sealer: newSealer(t), clock: testenv.NewClock(time.Now()), logs: &testenv.LogBuffer{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /start/{provider}", a.start)
	mux.HandleFunc("GET /v1/oauth/{provider}/callback", a.callback)
	a.srv = httptest.NewServer(mux)
	t.Cleanup(a.srv.Close)
	logger := slog.New(slog.NewTextHandler(a.logs, nil))
	opts = append([]oauth.Option{oauth.WithClock(a.clock.Now), oauth.WithRetryInterval(30 * time.Second)}, opts...)
	a.reg = oauth.NewRegistry(context.Background(), cfgs, a.srv.URL, http.DefaultClient, logger, opts...)
	return a
}

func (a *app) start(w http.ResponseWriter, r *http.Request) {
	p, err := a.reg.Provider(r.PathValue("provider"))
	if err != nil {
		a.fail(w, err)
		return
	}
	f := oauth.NewFlow(p.Name(), r.URL.Query().Get("redirect_to"))
	v, err := oauth.EncodeFlowCookie(f, a.sealer, a.clock.Now())
	if err != nil {
		a.fail(w, err)
		return
	}
	http.SetCookie(w, oauth.NewFlowCookie(v, false))
	http.Redirect(w, r, p.AuthCodeURL(f), http.StatusFound)
}

func (a *app) callback(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, oauth.ClearFlowCookie(false))
	p, err := a.reg.Provider(r.PathValue("provider"))
	if err != nil {
		a.fail(w, err)
		return
	}
	c, err := r.Cookie(oauth.FlowCookieNameInsecure)
	v := ""
	if err == nil {
		v = c.Value
	}
	f, err := oauth.DecodeFlowCookie(v, a.sealer, a.clock.Now())
	if err != nil {
		a.fail(w, err)
		return
	}
	code, err := p.CallbackCode(f, r.URL.Query())
	if err != nil {
		a.fail(w, err)
		return
	}
	prof, err := p.Exchange(r.Context(), f, code)
	if err != nil {
		a.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(outcome{Profile: prof})
}

func (a *app) fail(w http.ResponseWriter, err error) {
	reason := ""
	if e := errors.Unwrap(err); e != nil {
		reason = e.Error()
	}
	status := map[string]int{
		latchkey.EInvalidRequest: 400, latchkey.EInvalidCredentials: 401,
		latchkey.ENotFound: 404, latchkey.EUnavailable: 503,
	}[latchkey.ErrorCode(err)]
	if status == 0 {
		status = 500
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(outcome{Code: latchkey.ErrorCode(err), Reason: reason})
}

// noRedirects is a browser that lets the test see every hop.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// login drives the browser through start → provider → callback and
// returns the callback's outcome. tamper, if not nil, may change the
// callback request (its URL and the flow cookie) before it is sent.
func (a *app) login(t *testing.T, provider string, tamper func(cb *url.URL, cookie *http.Cookie)) outcome {
	t.Helper()
	resp := get(t, a.srv.URL+"/start/"+provider+"?redirect_to="+url.QueryEscape("https://app.example.test/home"), nil)
	if resp.StatusCode != http.StatusFound {
		return decodeOutcome(t, resp)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == oauth.FlowCookieNameInsecure {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("start set no flow cookie")
	}
	resp.Body.Close()
	resp = get(t, resp.Header.Get("Location"), nil) // the provider's authorize
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("provider authorize: HTTP %d", resp.StatusCode)
	}
	resp.Body.Close()
	cb, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if tamper != nil {
		tamper(cb, cookie)
	}
	return decodeOutcome(t, get(t, cb.String(), cookie))
}

func get(t *testing.T, u string, cookie *http.Cookie) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != nil && cookie.Value != "" {
		req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func decodeOutcome(t *testing.T, resp *http.Response) outcome {
	t.Helper()
	defer resp.Body.Close()
	var o outcome
	if err := json.NewDecoder(resp.Body).Decode(&o); err != nil {
		t.Fatalf("callback answered HTTP %d without JSON: %v", resp.StatusCode, err)
	}
	o.Status = resp.StatusCode
	return o
}

// Configurations pointing at the loopback providers.
func oidcConfig(name string, p *oauthtest.OIDC) oauth.ProviderConfig {
	return oauth.ProviderConfig{
		Name: name, Kind: oauth.KindOIDC, ClientID: p.ClientID, ClientSecret: latchkey.Secret(p.ClientSecret),
		Issuer: p.Issuer, Scopes: []string{"openid", "email", "profile"},
	}
}

func githubConfig(g *oauthtest.GitHub) oauth.ProviderConfig {
	return oauth.ProviderConfig{
		Name: "github", Kind: oauth.KindGitHub, ClientID: g.ClientID, ClientSecret: latchkey.Secret(g.ClientSecret),
		AuthURL: g.AuthURL(), TokenURL: g.TokenURL(), APIURL: g.APIURL(), Scopes: []string{"read:user", "user:email"},
	}
}

// authorizeDirect sends the browser to p's authorize URL for f and returns
// the query the provider redirects back with.
func authorizeDirect(t *testing.T, p *oauth.Provider, f oauth.Flow) url.Values {
	t.Helper()
	resp := get(t, p.AuthCodeURL(f), nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: HTTP %d", resp.StatusCode)
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func mustProvider(t *testing.T, a *app, name string) *oauth.Provider {
	t.Helper()
	p, err := a.reg.Provider(name)
	if err != nil {
		t.Fatalf("Provider(%q): %v", name, err)
	}
	return p
}
