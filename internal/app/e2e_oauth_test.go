package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/app"
	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/internal/oauth/oauthtest"
	"github.com/latchkey/latchkey/internal/store"
)

// spaCallback is an app on another origin; the browser is never sent there
// (each hop is followed by hand), so nothing needs to listen on it.
const spaCallback = "http://127.0.0.1:5173/cb"

// oauthWorld is latchkey with two social login providers on loopback: an
// OpenID Connect provider named "idp" and the GitHub preset.
type oauthWorld struct {
	srv     *apptest.Instance
	self    string // latchkey's origin, also its issuer
	idp     *oauthtest.OIDC
	gh      *oauthtest.GitHub
	secrets []string // every code, token and cookie value seen, to look for in logs and URLs
}

// freeAddr picks a loopback port for latchkey up front, so that its own
// origin can be put on the redirect allow-list.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func startOAuthWorld(t *testing.T, extraEnv ...string) *oauthWorld {
	t.Helper()
	w := &oauthWorld{
		idp: oauthtest.NewOIDC(t, "latchkey-client", "oidc-client-secret"),
		gh:  oauthtest.NewGitHub(t, "gh-client", "gh-client-secret"),
	}
	addr := freeAddr(t)
	w.self = "http://" + addr
	env := append([]string{
		"LATCHKEY_OAUTH_IDP_CLIENT_ID=latchkey-client",
		"LATCHKEY_OAUTH_IDP_CLIENT_SECRET=oidc-client-secret",
		"LATCHKEY_OAUTH_IDP_ISSUER=" + w.idp.Issuer,
		"LATCHKEY_OAUTH_GITHUB_CLIENT_ID=gh-client",
		"LATCHKEY_OAUTH_GITHUB_CLIENT_SECRET=gh-client-secret",
		"LATCHKEY_OAUTH_GITHUB_AUTH_URL=" + w.gh.AuthURL(),
		"LATCHKEY_OAUTH_GITHUB_TOKEN_URL=" + w.gh.TokenURL(),
		"LATCHKEY_OAUTH_GITHUB_API_URL=" + w.gh.APIURL(),
	}, extraEnv...)
	w.idp.RequireRedirectURI(w.self + "/v1/oauth/idp/callback")
	w.srv = apptest.StartEnv(t, env, "--addr", addr, "--redirect-allowlist", w.self+"/app,"+spaCallback)
	w.secrets = append(w.secrets, "oidc-client-secret", "gh-client-secret")
	return w
}

// cookieClient keeps cookies and lets the test follow every redirect itself.
func cookieClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type hop struct {
	status   int
	location string
	header   http.Header
	body     []byte
}

func hopGet(t *testing.T, c *http.Client, u string) hop {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return hop{status: resp.StatusCode, location: resp.Header.Get("Location"), header: resp.Header, body: body}
}

func (h hop) problemCode(t *testing.T) string {
	t.Helper()
	var p struct{ Code string }
	if err := json.Unmarshal(h.body, &p); err != nil {
		t.Fatalf("not a problem document (%d): %s", h.status, h.body)
	}
	return p.Code
}

// flow drives a browser through authorize → provider → callback.
// tamper, if set, may change the callback URL before the browser goes
// there. It returns the callback's answer.
func (w *oauthWorld) flow(t *testing.T, c *http.Client, provider, redirectTo, mode string, tamper func(*url.URL)) hop {
	t.Helper()
	q := url.Values{"redirect_to": {redirectTo}}
	if mode != "" {
		q.Set("mode", mode)
	}
	auth := hopGet(t, c, w.srv.URL+"/v1/oauth/"+provider+"/authorize?"+q.Encode())
	if auth.status != http.StatusFound {
		t.Fatalf("authorize: %d %s", auth.status, auth.body)
	}
	for _, p := range []string{"state=", "nonce=", "code_challenge=", "code_challenge_method=S256"} {
		if provider != "github" || p != "nonce=" {
			if !strings.Contains(auth.location, p) {
				t.Errorf("authorize redirect lacks %s: %s", p, auth.location)
			}
		}
	}
	if strings.Contains(auth.location, "code_verifier") {
		t.Error("the PKCE verifier left the server")
	}
	back := hopGet(t, c, auth.location)
	if back.status != http.StatusFound || !strings.HasPrefix(back.location, w.self+"/v1/oauth/"+provider+"/callback") {
		t.Fatalf("provider: %d %s %s", back.status, back.location, back.body)
	}
	cb, err := url.Parse(back.location)
	if err != nil {
		t.Fatal(err)
	}
	if code := cb.Query().Get("code"); code != "" {
		w.secrets = append(w.secrets, code)
	}
	w.secrets = append(w.secrets, cb.Query().Get("state"))
	if tamper != nil {
		tamper(cb)
	}
	res := hopGet(t, c, cb.String())
	for _, ck := range res.header.Values("Set-Cookie") {
		if strings.HasPrefix(ck, "latchkey_session=") {
			v, _, _ := strings.Cut(strings.TrimPrefix(ck, "latchkey_session="), ";")
			w.secrets = append(w.secrets, v)
		}
	}
	return res
}

// codeFrom returns the one-time code of a code-delivery redirect.
func (w *oauthWorld) codeFrom(t *testing.T, h hop, target string) string {
	t.Helper()
	if h.status != http.StatusFound || !strings.HasPrefix(h.location, target+"?") || !strings.Contains(h.location, "code=") {
		t.Fatalf("callback: want a redirect to %s?code=…, got %d %q %s", target, h.status, h.location, h.body)
	}
	u, _ := url.Parse(h.location)
	code := u.Query().Get("code")
	if len(code) < 43 {
		t.Fatalf("one-time code too short: %d characters", len(code))
	}
	w.secrets = append(w.secrets, code)
	return code
}

func (w *oauthWorld) exchange(t *testing.T, code string) *apptest.Response {
	t.Helper()
	r := w.srv.Do(t, "POST", "/v1/oauth/token", map[string]string{"code": code})
	if r.Status == 200 {
		w.secrets = append(w.secrets, r.String(t, "access_token"), r.String(t, "refresh_token"))
	}
	return r
}

// me reads /v1/me with the browser's session cookie.
func me(t *testing.T, w *oauthWorld, c *http.Client) map[string]any {
	t.Helper()
	h := hopGet(t, c, w.srv.URL+"/v1/me")
	if h.status != 200 {
		t.Fatalf("/v1/me with the session cookie: %d %s", h.status, h.body)
	}
	var m map[string]any
	if err := json.Unmarshal(h.body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// audit returns the server's audit log, newest first.
func audit(t *testing.T, w *oauthWorld) []latchkey.AuditEvent {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(w.srv.DataDir, "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	events, _, err := st.ListAudit(ctx, latchkey.AuditFilter{Page: latchkey.Page{Limit: 500}})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func hasEvent(events []latchkey.AuditEvent, typ, reasonPrefix string) bool {
	for _, e := range events {
		if e.Type == typ && strings.HasPrefix(e.Reason, reasonPrefix) {
			return true
		}
	}
	return false
}

// checkNoSecretsLeaked looks for every secret seen in the server log and in
// the audit log.
func (w *oauthWorld) checkNoSecretsLeaked(t *testing.T) {
	t.Helper()
	logs := w.srv.Logs()
	var reasons strings.Builder
	for _, e := range audit(t, w) {
		reasons.WriteString(e.Reason + "\n")
	}
	for _, s := range w.secrets {
		if s == "" {
			continue
		}
		if strings.Contains(logs, s) {
			t.Errorf("a secret (%d characters) appears in the server log", len(s))
		}
		if strings.Contains(reasons.String(), s) {
			t.Errorf("a secret (%d characters) appears in the audit log", len(s))
		}
	}
}

func TestOAuthCookieDelivery(t *testing.T) {
	w := startOAuthWorld(t)
	c := cookieClient(t)
	target := w.self + "/app/home?tab=1"
	res := w.flow(t, c, "idp", target, "", nil)
	if res.status != http.StatusFound || res.location != target {
		t.Fatalf("callback: %d %q %s", res.status, res.location, res.body)
	}
	var session, clearedFlow bool
	for _, ck := range res.header.Values("Set-Cookie") {
		session = session || (strings.HasPrefix(ck, "latchkey_session=") && strings.Contains(ck, "HttpOnly"))
		clearedFlow = clearedFlow || (strings.HasPrefix(ck, "latch_oauth=;") && strings.Contains(ck, "Max-Age=0"))
	}
	if !session || !clearedFlow {
		t.Errorf("callback cookies: %q", res.header.Values("Set-Cookie"))
	}
	m := me(t, w, c)
	if m["email"] != "user@example.test" || m["name"] != "Test User" || toJSON(m["roles"]) != `["user"]` {
		t.Errorf("me = %v", m)
	}
	ids, _ := m["identities"].([]any)
	if len(ids) != 1 || ids[0].(map[string]any)["provider"] != "idp" || ids[0].(map[string]any)["email"] != "user@example.test" {
		t.Errorf("identities = %v", m["identities"])
	}
	events := audit(t, w)
	if !hasEvent(events, latchkey.AuditOAuthLogin, "idp") || !hasEvent(events, latchkey.AuditSignup, "oauth:idp") {
		t.Errorf("audit lacks oauth.login / signup: %+v", events)
	}

	// The same subject again is the same user, with one identity.
	c2 := cookieClient(t)
	if res := w.flow(t, c2, "idp", target, "", nil); res.status != http.StatusFound {
		t.Fatalf("second login: %d %s", res.status, res.body)
	}
	m2 := me(t, w, c2)
	if m2["id"] != m["id"] || len(m2["identities"].([]any)) != 1 {
		t.Errorf("second login: %v, first: %v", m2, m)
	}
	w.checkNoSecretsLeaked(t)
}

func toJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestOAuthCodeDelivery(t *testing.T) {
	w := startOAuthWorld(t)
	for _, tc := range []struct{ name, target, mode string }{
		{"cross-origin app", spaCallback + "?from=login", ""},
		{"own origin, code asked for", w.self + "/app/spa", "code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cookieClient(t)
			res := w.flow(t, c, "idp", tc.target, tc.mode, nil)
			code := w.codeFrom(t, res, strings.Split(tc.target, "?")[0])
			if tc.mode == "" && !strings.Contains(res.location, "from=login") {
				t.Errorf("the app's own query was lost: %s", res.location)
			}
			for _, ck := range res.header.Values("Set-Cookie") {
				if strings.HasPrefix(ck, "latchkey_session=") {
					t.Error("code delivery also set a session cookie")
				}
			}
			r := w.exchange(t, code)
			if r.Status != 200 || r.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("exchange: %d %s", r.Status, r.Body)
			}
			me := w.srv.Do(t, "GET", "/v1/me", nil, bearer(r.String(t, "access_token"))...)
			if me.Status != 200 || me.String(t, "email") != "user@example.test" {
				t.Fatalf("me: %d %s", me.Status, me.Body)
			}
			if again := w.exchange(t, code); again.Status != 400 || again.String(t, "code") != "invalid_grant" {
				t.Errorf("replayed code: %d %s", again.Status, again.Body)
			}
		})
	}
	for _, bad := range []any{map[string]string{"code": "nope"}, map[string]string{"code": strings.Repeat("a", 43)}, map[string]string{}} {
		if r := w.srv.Do(t, "POST", "/v1/oauth/token", bad); r.Status != 400 {
			t.Errorf("exchange %v: %d %s", bad, r.Status, r.Body)
		}
	}
	if !hasEvent(audit(t, w), latchkey.AuditLoginFailed, "oauth:code_invalid") {
		t.Error("a refused code exchange was not audited")
	}
	w.checkNoSecretsLeaked(t)
}

func TestOAuthGitHubPreset(t *testing.T) {
	w := startOAuthWorld(t)
	c := cookieClient(t)
	res := w.flow(t, c, "github", spaCallback, "", nil)
	r := w.exchange(t, w.codeFrom(t, res, spaCallback))
	if r.Status != 200 {
		t.Fatalf("exchange: %d %s", r.Status, r.Body)
	}
	me := w.srv.Do(t, "GET", "/v1/me", nil, bearer(r.String(t, "access_token"))...)
	ids, _ := me.JSON(t)["identities"].([]any)
	if me.String(t, "email") != "octo@example.test" || me.String(t, "name") != "Octo Cat" || len(ids) != 1 ||
		ids[0].(map[string]any)["provider"] != "github" {
		t.Errorf("me: %s", me.Body)
	}
	w.checkNoSecretsLeaked(t)
}

func TestOAuthCallbackRefusals(t *testing.T) {
	w := startOAuthWorld(t)
	tests := []struct {
		name       string
		misbehave  oauthtest.Misbehaviour
		tamper     func(*url.URL)
		dropCookie bool
		status     int
		reason     string // audit reason prefix after "oauth:"
	}{
		{name: "bad state", tamper: setQuery("state", strings.Repeat("A", 43)), status: 400, reason: "state mismatch"},
		{name: "no state", tamper: setQuery("state", ""), status: 400, reason: "callback without state"},
		{name: "missing state cookie", dropCookie: true, status: 400, reason: "flow cookie: missing"},
		{name: "bad nonce", misbehave: oauthtest.WrongNonce, status: 401, reason: "id_token nonce"},
		{name: "wrong audience", misbehave: oauthtest.WrongAudience, status: 401, reason: "id_token rejected"},
		{name: "wrong issuer", misbehave: oauthtest.WrongIssuer, status: 401, reason: "id_token rejected"},
		{name: "bad signature", misbehave: oauthtest.BadSignature, status: 401, reason: "id_token rejected"},
		{name: "expired id_token", misbehave: oauthtest.ExpiredIDToken, status: 401, reason: "id_token expired"},
		{name: "access denied", misbehave: oauthtest.DenyAccess, status: 401, reason: "provider returned error \"access_denied\""},
		{name: "replayed provider code", tamper: replayCode(w), status: 401, reason: "token endpoint refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.misbehave != 0 {
				w.idp.Misbehave(tt.misbehave)
				defer w.idp.Misbehave()
			}
			c := cookieClient(t)
			tamper := tt.tamper
			if tt.dropCookie {
				tamper = func(*url.URL) { c.Jar, _ = cookiejar.New(nil) }
			}
			res := w.flow(t, c, "idp", spaCallback, "", tamper)
			if res.status != tt.status || res.location != "" {
				t.Fatalf("callback: %d %q %s", res.status, res.location, res.body)
			}
			for _, ck := range res.header.Values("Set-Cookie") {
				if strings.HasPrefix(ck, "latchkey_session=") {
					t.Error("a refused login set a session cookie")
				}
			}
			if !hasEvent(audit(t, w), latchkey.AuditLoginFailed, "oauth:"+tt.reason) {
				t.Errorf("no login.failed with reason oauth:%s; audit: %v", tt.reason, reasons(audit(t, w)))
			}
		})
	}
	w.checkNoSecretsLeaked(t)
}

func setQuery(k, v string) func(*url.URL) {
	return func(u *url.URL) {
		q := u.Query()
		q.Set(k, v)
		u.RawQuery = q.Encode()
	}
}

// replayCode finishes one login first with the callback URL, then lets the
// flow send the same URL again with a fresh flow cookie of the same state:
// the provider's code is already used. Simplest faithful form: redeem the
// code at the provider ahead of latchkey by sending the callback twice.
func replayCode(w *oauthWorld) func(*url.URL) {
	return func(u *url.URL) {
		// A first, successful callback with another browser cannot carry this
		// browser's flow cookie; so instead the code is spent at the provider
		// directly, as an attacker who intercepted it would.
		form := url.Values{"grant_type": {"authorization_code"}, "code": {u.Query().Get("code")},
			"redirect_uri": {w.self + "/v1/oauth/idp/callback"}, "code_verifier": {strings.Repeat("x", 43)}}
		req, _ := http.NewRequest("POST", w.idp.Issuer+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("latchkey-client", "oidc-client-secret")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
}

func reasons(events []latchkey.AuditEvent) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Type+":"+e.Reason)
	}
	return out
}

func TestOAuthAuthorizeRefusals(t *testing.T) {
	w := startOAuthWorld(t)
	c := cookieClient(t)
	for _, tc := range []struct{ name, query string }{
		{"missing redirect_to", ""},
		{"off the allow-list", "redirect_to=" + url.QueryEscape("https://evil.test/app")},
		{"path prefix trick", "redirect_to=" + url.QueryEscape(spaCallback+"x")}, // "/cb" does not allow "/cbx"
		{"dot segments", "redirect_to=" + url.QueryEscape(w.self+"/app/../v1/me")},
		{"userinfo", "redirect_to=" + url.QueryEscape("http://127.0.0.1:5173@evil.test/cb")},
		{"scheme-relative", "redirect_to=" + url.QueryEscape("//evil.test/cb")},
		{"twice", "redirect_to=" + url.QueryEscape(spaCallback) + "&redirect_to=" + url.QueryEscape("https://evil.test/")},
		{"own code parameter", "redirect_to=" + url.QueryEscape(spaCallback+"?code=planted")},
		{"cookie for another origin", "mode=cookie&redirect_to=" + url.QueryEscape(spaCallback)},
		{"unknown mode", "mode=token&redirect_to=" + url.QueryEscape(spaCallback)},
		{"link mode", "mode=link&redirect_to=" + url.QueryEscape(w.self+"/account")}, // only the account page starts a link
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := hopGet(t, c, w.srv.URL+"/v1/oauth/idp/authorize?"+tc.query)
			if h.status != 400 || h.location != "" || len(h.header.Values("Set-Cookie")) != 0 {
				t.Errorf("authorize: %d %q %q %s", h.status, h.location, h.header.Values("Set-Cookie"), h.body)
			}
		})
	}
	if h := hopGet(t, c, w.srv.URL+"/v1/oauth/nosuch/authorize?redirect_to="+url.QueryEscape(spaCallback)); h.status != 404 {
		t.Errorf("unknown provider: %d %s", h.status, h.body)
	}
}

func TestOAuthDiscoveryFailureKeepsOthersWorking(t *testing.T) {
	down := oauthtest.NewOIDC(t, "down-client", "down-secret")
	down.Misbehave(oauthtest.DiscoveryDown)
	w := startOAuthWorld(t, "LATCHKEY_OAUTH_DOWN_CLIENT_ID=down-client", "LATCHKEY_OAUTH_DOWN_CLIENT_SECRET=down-secret",
		"LATCHKEY_OAUTH_DOWN_ISSUER="+down.Issuer)
	c := cookieClient(t)
	if h := hopGet(t, c, w.srv.URL+"/v1/oauth/down/authorize?redirect_to="+url.QueryEscape(spaCallback)); h.status != 503 || h.problemCode(t) != "unavailable" {
		t.Errorf("undiscovered provider: %d %s", h.status, h.body)
	}
	if res := w.flow(t, c, "idp", spaCallback, "", nil); res.status != http.StatusFound {
		t.Errorf("the other provider: %d %s", res.status, res.body)
	}
	if !strings.Contains(w.srv.Logs(), "oauth provider discovery failed") {
		t.Error("the failed discovery was not logged")
	}
}

func TestOAuthBadProviderConfigStopsTheStart(t *testing.T) {
	var out, errb strings.Builder
	err := app.Run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir()},
		[]string{"LATCHKEY_OAUTH_ACME_CLIENT_ID=x", "LATCHKEY_OAUTH_ACME_ISSUER=https://sso.example.test"},
		strings.NewReader(""), &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "LATCHKEY_OAUTH_ACME_CLIENT_SECRET") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(out.String(), "listening") {
		t.Error("the server started")
	}
}

func TestOAuthLinking(t *testing.T) {
	w := startOAuthWorld(t)

	// An unverified email that matches an account neither links nor signs in.
	alice := signup(t, w.srv, "alice@example.test")
	w.idp.SetUser(oauthtest.User{Subject: "sub-alice-unverified", Email: "Alice@Example.test", EmailVerified: false, Name: "Mallory"})
	res := w.flow(t, cookieClient(t), "idp", spaCallback, "", nil)
	if res.status != http.StatusConflict || res.location != "" || res.problemCode(t) != "conflict" {
		t.Fatalf("unverified email: %d %q %s", res.status, res.location, res.body)
	}
	am := w.srv.Do(t, "GET", "/v1/me", nil, bearer(alice["access_token"])...)
	if ids := am.JSON(t)["identities"].([]any); len(ids) != 0 {
		t.Errorf("the unverified identity was linked: %v", ids)
	}
	if !hasEvent(audit(t, w), latchkey.AuditLoginFailed, "oauth:unverified_email") {
		t.Errorf("not audited: %v", reasons(audit(t, w)))
	}

	// A verified email links to the existing account whose address is
	// proven too.
	bob := signup(t, w.srv, "bob@example.test")
	markEmailVerified(t, w, "bob@example.test")
	bobIdentities := func() int { // through a bearer session of bob's; identities are cached per user
		return len(w.srv.Do(t, "GET", "/v1/me", nil, bearer(bob["access_token"])...).JSON(t)["identities"].([]any))
	}
	if n := bobIdentities(); n != 0 {
		t.Fatalf("bob starts with %d identities", n)
	}
	w.idp.SetUser(oauthtest.User{Subject: "sub-bob", Email: "bob@example.test", EmailVerified: true, Name: "Bob"})
	c := cookieClient(t)
	if res := w.flow(t, c, "idp", w.self+"/app", "", nil); res.status != http.StatusFound {
		t.Fatalf("verified email: %d %s", res.status, res.body)
	}
	bm := me(t, w, c)
	bobID := bob["user"].(map[string]any)["id"]
	if bm["id"] != bobID || len(bm["identities"].([]any)) != 1 {
		t.Fatalf("not linked to bob: %v", bm)
	}
	if !hasEvent(audit(t, w), latchkey.AuditOAuthLinked, "idp") {
		t.Errorf("no oauth.linked: %v", reasons(audit(t, w)))
	}
	// The link ended bob's earlier session; a new one sees the link.
	bob = passwordLogin(t, w.srv, "bob@example.test")
	if n := bobIdentities(); n != 1 {
		t.Errorf("after linking, bob's new session lists %d identities (a stale cache?)", n)
	}

	// Bob has a password: he may unlink his only identity.
	identity := bm["identities"].([]any)[0].(map[string]any)["id"].(string)
	if r := w.srv.Do(t, "DELETE", "/v1/me/identities/"+identity, nil, bearer(bob["access_token"])...); r.Status != 204 {
		t.Fatalf("unlink: %d %s", r.Status, r.Body)
	}
	if r := w.srv.Do(t, "DELETE", "/v1/me/identities/"+identity, nil, bearer(bob["access_token"])...); r.Status != 404 {
		t.Errorf("unlink twice: %d %s", r.Status, r.Body)
	}
	if n := bobIdentities(); n != 0 {
		t.Errorf("after unlinking, /v1/me lists %d identities (a stale cache?)", n)
	}

	// A user made by social login has no password: the last identity stays.
	w.idp.SetUser(oauthtest.User{Subject: "sub-carol", Email: "carol@example.test", EmailVerified: true, Name: "Carol"})
	res = w.flow(t, cookieClient(t), "idp", spaCallback, "", nil)
	tok := w.exchange(t, w.codeFrom(t, res, spaCallback))
	cm := w.srv.Do(t, "GET", "/v1/me", nil, bearer(tok.String(t, "access_token"))...)
	carolIdentity := cm.JSON(t)["identities"].([]any)[0].(map[string]any)["id"].(string)
	if r := w.srv.Do(t, "DELETE", "/v1/me/identities/"+carolIdentity, nil, bearer(tok.String(t, "access_token"))...); r.Status != 409 {
		t.Errorf("unlinking the last login method: %d %s", r.Status, r.Body)
	}
	// Nor may anyone unlink another user's identity.
	if r := w.srv.Do(t, "DELETE", "/v1/me/identities/"+carolIdentity, nil, bearer(alice["access_token"])...); r.Status != 404 {
		t.Errorf("unlinking another user's identity: %d %s", r.Status, r.Body)
	}
	w.checkNoSecretsLeaked(t)
}

// The hosted login page offers one button per configured provider, linking
// to its authorize endpoint with the page's (checked) return_to.
func TestLoginPageShowsProviders(t *testing.T) {
	w := startOAuthWorld(t)
	page := w.srv.Do(t, "GET", "/login?return_to=/account", nil)
	if page.Status != 200 {
		t.Fatalf("login page: %d", page.Status)
	}
	body := string(page.Body)
	for _, name := range []string{"idp", "github"} {
		if !strings.Contains(body, "/v1/oauth/"+name+"/authorize?") {
			t.Errorf("no button for %s on the login page", name)
		}
	}
	if evil := w.srv.Do(t, "GET", "/login?return_to=//evil.test", nil); strings.Contains(string(evil.Body), "evil.test") {
		t.Error("an unsafe return_to reached the provider links")
	}
}

// Providers may come from the config file too (the file holds the same
// settings as the flags); the environment wins where both name one.
func TestOAuthProviderFromConfigFile(t *testing.T) {
	idp := oauthtest.NewOIDC(t, "file-client", "file-secret")
	file := filepath.Join(t.TempDir(), "latchkey.yaml")
	cfg := fmt.Sprintf("oauth:\n  filed:\n    client_id: file-client\n    client_secret: file-secret\n    issuer: %s\n", idp.Issuer)
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := apptest.StartEnv(t, []string{"LATCHKEY_OAUTH_FILED_CLIENT_ID=env-client"}, "--config", file)
	body := string(srv.Do(t, "GET", "/login", nil).Body)
	m := regexp.MustCompile(`href="(/v1/oauth/filed/authorize\?[^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the provider from the config file has no button on the login page:\n%s", body)
	}
	// The button works as it is: it comes back to latchkey's own account page.
	r := srv.Do(t, "GET", html.UnescapeString(m[1]), nil)
	if r.Status != http.StatusFound {
		t.Fatalf("authorize: %d %s", r.Status, r.Body)
	}
	if loc := r.Header.Get("Location"); !strings.Contains(loc, "client_id=env-client") {
		t.Errorf("the environment should win over the file: %s", loc)
	}
}

// markEmailVerified records that the account's address was proven, as a
// confirmed verification mail does.
func markEmailVerified(t *testing.T, w *oauthWorld, email string) {
	t.Helper()
	ctx := context.Background()
	st, u := storedUser(t, w, email)
	now := time.Now().UTC()
	if _, err := st.UpdateUser(ctx, u.ID, latchkey.UserPatch{EmailVerifiedAt: &latchkey.TimePatch{At: &now}, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
}

// storedUser opens the world's SQLite database (closed when the test ends)
// and reads the user with email.
func storedUser(t *testing.T, w *oauthWorld, email string) (store.Store, *latchkey.User) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(w.srv.DataDir, "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	u, err := st.UserByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	return st, u
}

// passwordLogin signs in with the password and returns the token response.
func passwordLogin(t *testing.T, srv *apptest.Instance, email string) map[string]any {
	t.Helper()
	return loginJSON(t, srv, email, goodPassword)
}

func sessionCount(t *testing.T, srv *apptest.Instance, tok map[string]any) int {
	t.Helper()
	r := srv.Do(t, "GET", "/v1/sessions", nil, bearer(tok["access_token"])...)
	if r.Status != http.StatusOK {
		t.Fatalf("sessions: %d %s", r.Status, r.Body)
	}
	return len(r.JSON(t)["sessions"].([]any))
}

// Pre-account takeover (EM-07): a squatter signs up with the victim's
// address and a password of their own. When the victim later signs in with
// a provider that has verified the address, the identity is not linked to
// the squatter's account, no session of it starts, and no second account
// is made: the victim is told to sign in to the account and link the
// provider from there.
func TestOAuthSocialLoginRefusesUnprovenAccount(t *testing.T) {
	w := startOAuthWorld(t)
	squatter := signup(t, w.srv, "victim@example.test")
	w.idp.SetUser(oauthtest.User{Subject: "sub-victim", Email: "Victim@example.test", EmailVerified: true, Name: "Victim"})

	for _, tc := range []struct{ name, target string }{{"cookie", w.self + "/app"}, {"code", spaCallback}} {
		t.Run(tc.name, func(t *testing.T) {
			res := w.flow(t, cookieClient(t), "idp", tc.target, "", nil)
			if res.status != http.StatusConflict || res.location != "" || res.problemCode(t) != "conflict" {
				t.Fatalf("callback: %d %q %s", res.status, res.location, res.body)
			}
			if body := string(res.body); !strings.Contains(body, "account page") || strings.Contains(body, "password") {
				t.Errorf("the refusal should point to the account page and say nothing of how the account signs in: %s", body)
			}
			for _, ck := range res.header.Values("Set-Cookie") {
				if strings.HasPrefix(ck, "latchkey_session=") {
					t.Error("the refused sign-in set a session cookie")
				}
			}
		})
	}
	am := w.srv.Do(t, "GET", "/v1/me", nil, bearer(squatter["access_token"])...)
	if ids := am.JSON(t)["identities"].([]any); len(ids) != 0 {
		t.Errorf("the identity was linked to the squatter's account: %v", ids)
	}
	if n := sessionCount(t, w.srv, squatter); n != 1 {
		t.Errorf("the squatter's account has %d sessions, want only its sign-up's", n)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(w.srv.DataDir, "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if users, _, err := st.ListUsers(ctx, latchkey.UserFilter{Query: "victim@", Page: latchkey.Page{Limit: 10}}); err != nil || len(users) != 1 {
		t.Errorf("accounts for the address: %d (%v)", len(users), err)
	}
	if _, err := st.IdentityByProviderSubject(ctx, "idp", "sub-victim"); !latchkey.IsCode(err, latchkey.ENotFound) {
		t.Errorf("the identity was stored: %v", err)
	}
	if !hasEvent(audit(t, w), latchkey.AuditLoginFailed, "oauth:link_requires_verified_email") {
		t.Errorf("not audited: %v", reasons(audit(t, w)))
	}
	w.checkNoSecretsLeaked(t)
}

// A provider-verified address that matches an account whose address is
// proven links the identity, and ends the sessions the account had before:
// only the linking sign-in's own session carries on.
func TestOAuthSocialAutoLinkEndsEarlierSessions(t *testing.T) {
	w := startOAuthWorld(t)
	bob := signup(t, w.srv, "bob@example.test")
	markEmailVerified(t, w, "bob@example.test")
	w.idp.SetUser(oauthtest.User{Subject: "sub-bob", Email: "bob@example.test", EmailVerified: true, Name: "Bob"})
	if r := w.srv.Do(t, "GET", "/v1/me", nil, bearer(bob["access_token"])...); r.Status != http.StatusOK {
		t.Fatalf("bob's session before the link: %d", r.Status)
	}

	c := cookieClient(t)
	if res := w.flow(t, c, "idp", w.self+"/app", "", nil); res.status != http.StatusFound {
		t.Fatalf("callback: %d %s", res.status, res.body)
	}
	m := me(t, w, c)
	if m["id"] != bob["user"].(map[string]any)["id"] || len(m["identities"].([]any)) != 1 {
		t.Fatalf("not linked to bob: %v", m)
	}
	if r := w.srv.Do(t, "GET", "/v1/me", nil, bearer(bob["access_token"])...); r.Status != http.StatusUnauthorized {
		t.Errorf("bob's session from before the link: %d, want 401", r.Status)
	}
	if r := w.srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": bob["refresh_token"]}); r.Status != http.StatusBadRequest {
		t.Errorf("refreshing the session from before the link: %d, want 400", r.Status)
	}
	events := audit(t, w)
	if !hasEvent(events, latchkey.AuditSessionRevoked, "identity_linked:idp") || !hasEvent(events, latchkey.AuditOAuthLinked, "idp") {
		t.Errorf("audit: %v", reasons(events))
	}
	// The linked identity signs in again without ending the session it made.
	c2 := cookieClient(t)
	if res := w.flow(t, c2, "idp", w.self+"/app", "", nil); res.status != http.StatusFound {
		t.Fatalf("second sign-in: %d %s", res.status, res.body)
	}
	me(t, w, c)
	me(t, w, c2)
	w.checkNoSecretsLeaked(t)
}

// pagePost submits a hosted page's form from the page itself.
func pagePost(t *testing.T, c *http.Client, u string, form url.Values) hop {
	t.Helper()
	req, err := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return hop{status: resp.StatusCode, location: resp.Header.Get("Location"), header: resp.Header, body: body}
}

// linkFlow presses "Link <provider>" on the account page and follows the
// browser through the provider back to latchkey; it returns the callback's
// answer.
func (w *oauthWorld) linkFlow(t *testing.T, c *http.Client, provider string) hop {
	t.Helper()
	start := pagePost(t, c, w.srv.URL+"/account/identities/"+provider+"/link", nil)
	if start.status != http.StatusSeeOther || !strings.HasPrefix(start.location, w.idp.Issuer+"/authorize?") {
		t.Fatalf("link: %d %q %s", start.status, start.location, start.body)
	}
	for _, p := range []string{"state=", "nonce=", "code_challenge=", "code_challenge_method=S256"} {
		if !strings.Contains(start.location, p) {
			t.Errorf("the link's authorize redirect lacks %s", p)
		}
	}
	back := hopGet(t, c, start.location)
	if back.status != http.StatusFound || !strings.HasPrefix(back.location, w.self+"/v1/oauth/"+provider+"/callback") {
		t.Fatalf("provider: %d %s %s", back.status, back.location, back.body)
	}
	return hopGet(t, c, back.location)
}

// backdateSignIn makes the browser's newest session of email look signed
// in an hour ago, as if it had been idle for long.
func backdateSignIn(t *testing.T, w *oauthWorld, email string) {
	t.Helper()
	ctx := context.Background()
	st, u := storedUser(t, w, email)
	live, err := st.ListSessions(ctx, u.ID, time.Now())
	if err != nil || len(live) == 0 {
		t.Fatalf("sessions: %v %v", live, err)
	}
	if err := st.SetSessionAuth(ctx, live[0].ID, time.Now().Add(-time.Hour), live[0].AMR); err != nil {
		t.Fatal(err)
	}
}

// Linking from the account page: a stale session is sent to confirm its
// password first; a fresh one links the identity to its own account (whatever
// address the provider gives), ends the account's other sessions and comes
// back to the account page; an identity of another account is refused; a
// browser that signed out meanwhile links nothing; the page unlinks.
func TestOAuthLinkFromAccountPage(t *testing.T) {
	w := startOAuthWorld(t)
	alice := signup(t, w.srv, "alice@example.test") // an address nobody proved
	c := cookieClient(t)
	if h := pagePost(t, c, w.srv.URL+"/login", url.Values{"email": {"alice@example.test"}, "password": {goodPassword}}); h.status != http.StatusSeeOther {
		t.Fatalf("sign in: %d %s", h.status, h.body)
	}
	page := hopGet(t, c, w.srv.URL+"/account")
	for _, want := range []string{`action="/account/identities/idp/link"`, `action="/account/identities/github/link"`, `id="no-identities"`} {
		if !strings.Contains(string(page.body), want) {
			t.Errorf("account page lacks %s", want)
		}
	}
	// The "Link" forms redirect to the providers, which the page's CSP must
	// allow as form targets.
	csp := page.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "form-action 'self' "+w.gh.URL+" "+w.idp.Issuer+";") {
		t.Errorf("account page CSP: %s", csp)
	}

	// A stale session confirms its password first.
	backdateSignIn(t, w, "alice@example.test")
	stale := pagePost(t, c, w.srv.URL+"/account/identities/idp/link", nil)
	if stale.status != http.StatusSeeOther || !strings.HasPrefix(stale.location, "/account?done=reauth-needed") {
		t.Fatalf("stale session: %d %q", stale.status, stale.location)
	}
	if len(stale.header.Values("Set-Cookie")) != 0 {
		t.Errorf("a refused link set cookies: %q", stale.header.Values("Set-Cookie"))
	}
	if h := pagePost(t, c, w.srv.URL+"/account/reauthenticate", url.Values{"password": {goodPassword}}); h.status != http.StatusSeeOther {
		t.Fatalf("reauthenticate: %d %s", h.status, h.body)
	}

	// Fresh: linked to alice, although the provider knows her by another
	// address.
	w.idp.SetUser(oauthtest.User{Subject: "sub-alice", Email: "alice.private@example.test", EmailVerified: true, Name: "Alice"})
	res := w.linkFlow(t, c, "idp")
	if res.status != http.StatusSeeOther || res.location != "/account?done=identity-linked" {
		t.Fatalf("link callback: %d %q %s", res.status, res.location, res.body)
	}
	m := me(t, w, c)
	ids, _ := m["identities"].([]any)
	if m["id"] != alice["user"].(map[string]any)["id"] || len(ids) != 1 || ids[0].(map[string]any)["provider"] != "idp" {
		t.Fatalf("after linking: %v", m)
	}
	identity := ids[0].(map[string]any)["id"].(string)
	page = hopGet(t, c, w.srv.URL+"/account?done=identity-linked")
	body := string(page.body)
	if !strings.Contains(body, "The sign-in provider was linked") || !strings.Contains(body, `action="/account/identities/`+identity+`/unlink"`) ||
		strings.Contains(body, `action="/account/identities/idp/link"`) || !strings.Contains(body, `action="/account/identities/github/link"`) {
		t.Errorf("account page after linking: %s", body)
	}
	if r := w.srv.Do(t, "GET", "/v1/me", nil, bearer(alice["access_token"])...); r.Status != http.StatusUnauthorized {
		t.Errorf("alice's other session survived the link: %d", r.Status)
	}
	events := audit(t, w)
	if !hasEvent(events, latchkey.AuditOAuthLinked, "idp") || !hasEvent(events, latchkey.AuditSessionRevoked, "identity_linked:idp") {
		t.Errorf("audit: %v", reasons(events))
	}
	// The provider now signs alice in.
	other := cookieClient(t)
	if res := w.flow(t, other, "idp", w.self+"/app", "", nil); res.status != http.StatusFound {
		t.Fatalf("sign-in through the linked identity: %d %s", res.status, res.body)
	}
	if got := me(t, w, other)["id"]; got != m["id"] {
		t.Errorf("the linked identity signs in to %v, want alice", got)
	}

	// An identity that opens another account is not moved.
	w.idp.SetUser(oauthtest.User{Subject: "sub-carol", Email: "carol@example.test", EmailVerified: true, Name: "Carol"})
	carol := cookieClient(t)
	if res := w.flow(t, carol, "idp", w.self+"/app", "", nil); res.status != http.StatusFound {
		t.Fatalf("carol's sign-up: %d %s", res.status, res.body)
	}
	taken := w.linkFlow(t, c, "idp")
	if taken.status != http.StatusConflict || !strings.Contains(string(taken.body), "already linked to another account") {
		t.Errorf("identity of another account: %d %s", taken.status, taken.body)
	}
	if n := len(me(t, w, c)["identities"].([]any)); n != 1 {
		t.Errorf("alice has %d identities", n)
	}
	if ci := me(t, w, carol)["identities"].([]any); len(ci) != 1 {
		t.Errorf("carol lost her identity: %v", ci)
	}
	if !hasEvent(audit(t, w), latchkey.AuditOAuthLinked, "identity_linked_elsewhere:idp") {
		t.Errorf("refusal not audited: %v", reasons(audit(t, w)))
	}
	// Carol has no password: the page will not unlink her only way in.
	carolIdentity := me(t, w, carol)["identities"].([]any)[0].(map[string]any)["id"].(string)
	if h := pagePost(t, carol, w.srv.URL+"/account/identities/"+carolIdentity+"/unlink", nil); h.status != http.StatusConflict ||
		!strings.Contains(string(h.body), "only way to sign in") {
		t.Errorf("unlinking the last way in: %d %s", h.status, h.body)
	}

	// A browser that signed out while at the provider links nothing.
	w.idp.SetUser(oauthtest.User{Subject: "sub-alice-2", Email: "alice@example.test", EmailVerified: true})
	start := pagePost(t, c, w.srv.URL+"/account/identities/idp/link", nil)
	if start.status != http.StatusSeeOther {
		t.Fatalf("link: %d %s", start.status, start.body)
	}
	if h := pagePost(t, c, w.srv.URL+"/logout", nil); h.status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", h.status)
	}
	back := hopGet(t, c, start.location)
	gone := hopGet(t, c, back.location)
	if gone.status != http.StatusUnauthorized || gone.location != "" {
		t.Errorf("link after signing out: %d %q %s", gone.status, gone.location, gone.body)
	}
	if !hasEvent(audit(t, w), latchkey.AuditOAuthLinked, "link_session_mismatch:idp") {
		t.Errorf("refusal not audited: %v", reasons(audit(t, w)))
	}

	// Unlink from the page (alice has a password, so it is not her last way in).
	if h := pagePost(t, c, w.srv.URL+"/login", url.Values{"email": {"alice@example.test"}, "password": {goodPassword}}); h.status != http.StatusSeeOther {
		t.Fatalf("sign in again: %d", h.status)
	}
	if n := len(me(t, w, c)["identities"].([]any)); n != 1 {
		t.Fatalf("a link happened after signing out: %d identities", n)
	}
	un := pagePost(t, c, w.srv.URL+"/account/identities/"+identity+"/unlink", nil)
	if un.status != http.StatusSeeOther || un.location != "/account?done=identity-unlinked" {
		t.Fatalf("unlink: %d %q %s", un.status, un.location, un.body)
	}
	if n := len(me(t, w, c)["identities"].([]any)); n != 0 {
		t.Errorf("after unlinking: %d identities", n)
	}
	w.checkNoSecretsLeaked(t)
}
