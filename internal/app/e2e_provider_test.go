package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/internal/testenv"
)

// rpRedirect is where the relying parties of these tests say they live;
// nothing listens there: the browser stops at the redirect.
const rpRedirect = "http://127.0.0.1:9/callback"

// providerClient registers a client through the admin API and returns
// its id and secret.
func providerClient(t *testing.T, srv *apptest.Instance, adminToken any, body map[string]any) (string, string) {
	t.Helper()
	r := srv.Do(t, "POST", "/v1/admin/clients", body, bearer(adminToken)...)
	if r.Status != 201 {
		t.Fatalf("create client: %d %s", r.Status, r.Body)
	}
	m := r.JSON(t)
	secret, _ := m["client_secret"].(string)
	return m["client"].(map[string]any)["id"].(string), secret
}

// browser is a person's browser: cookies, and it stops where the provider
// sends it back to the app (rpRedirect) or to a page it must read.
type browser struct {
	t   *testing.T
	srv *apptest.Instance
	c   *http.Client
}

func newBrowser(t *testing.T, srv *apptest.Instance) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), rpRedirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return &browser{t: t, srv: srv, c: c}
}

// visit follows a URL; it returns the final response and its body.
func (b *browser) visit(method, u string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

// signIn posts the hosted login form the browser was sent to.
func (b *browser) signIn(loginPage *http.Response, email, password string) (*http.Response, string) {
	b.t.Helper()
	if loginPage.Request.URL.Path != "/login" {
		b.t.Fatalf("expected the login page, got %s", loginPage.Request.URL)
	}
	return b.visit("POST", b.srv.URL+"/login", url.Values{"email": {email}, "password": {password},
		"return_to": {loginPage.Request.URL.Query().Get("return_to")}})
}

// backAtApp returns the query the provider sent the browser back to the app with.
func backAtApp(t *testing.T, resp *http.Response, page string) url.Values {
	t.Helper()
	loc := resp.Header.Get("Location")
	if (resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther) || !strings.HasPrefix(loc, rpRedirect+"?") {
		t.Fatalf("not sent back to the app: %d %s\n%.400s", resp.StatusCode, loc, page)
	}
	u, _ := url.Parse(loc)
	return u.Query()
}

// consentID reads the request id of a consent page.
func consentID(t *testing.T, page string) string {
	t.Helper()
	i := strings.Index(page, `name="id" value="`)
	if i < 0 {
		t.Fatalf("not a consent page:\n%.600s", page)
	}
	rest := page[i+len(`name="id" value="`):]
	return rest[:strings.Index(rest, `"`)]
}

func TestProviderAuthorizationCode(t *testing.T) {
	for _, b := range []struct {
		name string
		db   func(t *testing.T) []string
	}{
		{"sqlite", func(*testing.T) []string { return nil }},
		{"postgres", func(t *testing.T) []string { return []string{"--database", testenv.PostgresSchema(t)} }},
	} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			providerCodeScenario(t, b.db(t))
		})
	}
}

func providerCodeScenario(t *testing.T, db []string) {
	srv, _ := startWithAdmin(t, db)
	root := loginJSON(t, srv, "root@example.com", adminPassword)
	ctx := context.Background()

	// Discovery, as the relying party's library reads it.
	disco := srv.Do(t, "GET", "/.well-known/openid-configuration", nil)
	doc := disco.JSON(t)
	if doc["issuer"] != srv.URL || doc["authorization_response_iss_parameter_supported"] != true ||
		doc["jwks_uri"] != srv.URL+"/.well-known/jwks.json" || !slices.Equal(toStrings(doc["code_challenge_methods_supported"]), []string{"S256"}) {
		t.Fatalf("discovery: %s", disco.Body)
	}
	op, err := oidc.NewProvider(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	id, secret := providerClient(t, srv, root["access_token"], map[string]any{"name": "Intranet", "first_party": true,
		"redirect_uris": []string{rpRedirect}, "scopes": []string{"openid", "email", "profile"}})
	conf := &oauth2.Config{ClientID: id, ClientSecret: secret, Endpoint: op.Endpoint(), RedirectURL: rpRedirect,
		Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
	idTokens := op.Verifier(&oidc.Config{ClientID: id})

	// Sign in through the hosted login page; a first-party client asks no consent.
	pkce := oauth2.GenerateVerifier()
	br := newBrowser(t, srv)
	resp, _ := br.visit("GET", conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(pkce), oidc.Nonce("nonce-1")), nil)
	resp, page := br.signIn(resp, "root@example.com", adminPassword)
	q := backAtApp(t, resp, page)
	// OP-04: the response says who sent it.
	if q.Get("state") != "state-1" || q.Get("iss") != srv.URL || q.Get("code") == "" {
		t.Fatalf("authorization response: %v", q)
	}
	code := q.Get("code")

	// A wrong verifier is invalid_grant, and burns the code.
	if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier())); !isOAuthError(err, "invalid_grant") {
		t.Fatalf("wrong verifier: %v", err)
	}
	// A fresh code, exchanged properly.
	resp, page = br.visit("GET", conf.AuthCodeURL("state-2", oauth2.S256ChallengeOption(pkce), oidc.Nonce("nonce-2")), nil)
	code = backAtApp(t, resp, page).Get("code")
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(pkce))
	if err != nil {
		t.Fatal(err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := idTokens.Verify(ctx, rawID)
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Email         string   `json:"email"`
		EmailVerified *bool    `json:"email_verified"`
		Name          string   `json:"name"`
		Nonce         string   `json:"nonce"`
		AuthTime      int64    `json:"auth_time"`
		ACR           string   `json:"acr"`
		AMR           []string `json:"amr"`
		AtHash        string   `json:"at_hash"`
	}
	// OP-05: the ID token's claims, by scope.
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Email != "root@example.com" || claims.EmailVerified == nil || claims.Nonce != "nonce-2" || claims.AuthTime == 0 ||
		claims.ACR != "aal1" || !slices.Equal(claims.AMR, []string{"pwd"}) || claims.AtHash == "" || idt.Issuer != srv.URL {
		t.Fatalf("ID token claims: %+v", claims)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Fatalf("at_hash: %v", err)
	}
	if at := jwtPart(t, tok.AccessToken, 0); at["typ"] != "at+jwt" {
		t.Fatalf("access token header: %v", at)
	}
	if at := jwtPart(t, tok.AccessToken, 1); at["aud"] != id || at["client_id"] != id || at["sub"] != idt.Subject || at["iss"] != srv.URL {
		t.Fatalf("access token claims: %v", at)
	}
	if tok.RefreshToken != "" {
		t.Fatal("no refresh token without offline_access")
	}
	info, err := op.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || info.Email != "root@example.com" || info.Subject != idt.Subject {
		t.Fatalf("userinfo: %+v %v", info, err)
	}
	// An access token of latchkey's own API is no token of this client's.
	if _, err := op.UserInfo(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: root["access_token"].(string)})); err == nil {
		t.Fatal("userinfo accepted a first-party access token")
	}
	// The ID token is no access token either (JWT-20).
	if _, err := op.UserInfo(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: rawID})); err == nil {
		t.Fatal("userinfo accepted an ID token")
	}

	// The token response is never cached.
	form := url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {rpRedirect}, "code_verifier": {pkce}}
	r := srv.Do(t, "POST", "/oauth2/token", form.Encode(), "Content-Type", "application/x-www-form-urlencoded", "Authorization", basic(id, secret))
	if r.Status != 400 || r.Header.Get("Cache-Control") != "no-store" || r.String(t, "error") != "invalid_grant" {
		t.Fatalf("token endpoint: %d %v %s", r.Status, r.Header, r.Body)
	}

	// OP-03: the code a second time is refused and revokes what it issued.
	if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(pkce)); !isOAuthError(err, "invalid_grant") {
		t.Fatalf("reused code: %v", err)
	}
	if _, err := op.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Fatal("the access token of a reused code still works")
	}

	// OP-01: PKCE S256 only; a missing challenge or plain are refused, back at the app.
	for name, opts := range map[string][]oauth2.AuthCodeOption{
		"missing": nil,
		"plain":   {oauth2.SetAuthURLParam("code_challenge", pkce), oauth2.SetAuthURLParam("code_challenge_method", "plain")},
	} {
		resp, page := br.visit("GET", conf.AuthCodeURL("s", opts...), nil)
		q := backAtApp(t, resp, page)
		if q.Get("error") != "invalid_request" || q.Get("iss") != srv.URL || q.Get("state") != "s" {
			t.Errorf("PKCE %s: %v", name, q)
		}
	}
	// OP-02: a redirect URI one character off gets a page, never a redirect.
	bad := strings.Replace(conf.AuthCodeURL("s", oauth2.S256ChallengeOption(pkce)), url.QueryEscape(rpRedirect), url.QueryEscape(rpRedirect+"x"), 1)
	resp, page = br.visit("GET", bad, nil)
	if resp.StatusCode != 400 || resp.Header.Get("Location") != "" || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(page, "redirect_uri") {
		t.Fatalf("mismatched redirect URI: %d %s\n%.300s", resp.StatusCode, resp.Header.Get("Location"), page)
	}

	// A third-party client asks for consent once, remembers it, and loses
	// it (and its tokens) when the user revokes it from /account.
	tp, tpSecret := providerClient(t, srv, root["access_token"], map[string]any{"name": "Partner App", "redirect_uris": []string{rpRedirect},
		"scopes": []string{"openid", "email"}})
	tpConf := *conf
	tpConf.ClientID, tpConf.ClientSecret, tpConf.Scopes = tp, tpSecret, []string{"openid", "email"}
	resp, page = br.visit("GET", tpConf.AuthCodeURL("t1", oauth2.S256ChallengeOption(pkce)), nil)
	if resp.StatusCode != 200 || !strings.Contains(page, "Partner App") ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "form-action 'self' http://127.0.0.1:9;") {
		t.Fatalf("consent page: %d\n%.400s", resp.StatusCode, page)
	}
	reqID := consentID(t, page)
	resp, page = br.visit("POST", srv.URL+"/oauth2/consent", url.Values{"id": {reqID}, "decision": {"deny"}})
	if q := backAtApp(t, resp, page); q.Get("error") != "access_denied" || q.Get("state") != "t1" || q.Get("iss") != srv.URL {
		t.Fatalf("denied consent: %v", q)
	}
	_, page = br.visit("GET", tpConf.AuthCodeURL("t2", oauth2.S256ChallengeOption(pkce)), nil)
	resp, page = br.visit("POST", srv.URL+"/oauth2/consent", url.Values{"id": {consentID(t, page)}, "decision": {"allow"}})
	tpTok, err := tpConf.Exchange(ctx, backAtApp(t, resp, page).Get("code"), oauth2.VerifierOption(pkce))
	if err != nil {
		t.Fatal(err)
	}
	resp, page = br.visit("GET", tpConf.AuthCodeURL("t3", oauth2.S256ChallengeOption(pkce)), nil)
	backAtApp(t, resp, page) // remembered: no consent page
	_, page = br.visit("GET", srv.URL+"/account", nil)
	if !strings.Contains(page, "Partner App") || !strings.Contains(page, "/account/apps/"+tp+"/revoke") {
		t.Fatalf("the account page does not list the app:\n%.300s", page)
	}
	if _, err := op.UserInfo(ctx, oauth2.StaticTokenSource(tpTok)); err != nil {
		t.Fatal(err)
	}
	br.visit("POST", srv.URL+"/account/apps/"+tp+"/revoke", url.Values{})
	if _, err := op.UserInfo(ctx, oauth2.StaticTokenSource(tpTok)); err == nil {
		t.Fatal("the revoked app's token still works")
	}
	resp, _ = br.visit("GET", tpConf.AuthCodeURL("t4", oauth2.S256ChallengeOption(pkce)), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("after revoking, consent is asked again: %d", resp.StatusCode)
	}

	// SSO: signing out of latchkey ends the clients' tokens too.
	resp, page = br.visit("GET", conf.AuthCodeURL("s5", oauth2.S256ChallengeOption(pkce)), nil)
	tok, err = conf.Exchange(ctx, backAtApp(t, resp, page).Get("code"), oauth2.VerifierOption(pkce))
	if err != nil {
		t.Fatal(err)
	}
	br.visit("POST", srv.URL+"/logout", url.Values{})
	if _, err := op.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Fatal("a client's token outlived the latchkey session")
	}
	// prompt=none without a session goes back to the app with login_required.
	resp, page = br.visit("GET", conf.AuthCodeURL("s6", oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("prompt", "none")), nil)
	if q := backAtApp(t, resp, page); q.Get("error") != "login_required" {
		t.Fatalf("prompt=none: %v", q)
	}
	var seen secrets
	seen.add(secret, tpSecret, tok.AccessToken, code, pkce)
	seen.check(t, "the server log", srv.Logs())
	audit := srv.Do(t, "GET", "/v1/admin/audit?limit=100", nil, bearer(loginJSON(t, srv, "root@example.com", adminPassword)["access_token"])...)
	for _, typ := range []string{"provider.code_issued", "provider.token_issued", "provider.code_reuse_detected", "provider.consent", "provider.consent_revoked"} {
		if !strings.Contains(string(audit.Body), `"`+typ+`"`) {
			t.Errorf("no %s in the audit log", typ)
		}
	}
	seen.check(t, "the audit log", string(audit.Body))
}

func basic(id, secret string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return req.Header.Get("Authorization")
}

func toStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// isOAuthError reports whether err is the token endpoint's answer code.
func isOAuthError(err error, code string) bool {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return false
	}
	if re.ErrorCode != "" {
		return re.ErrorCode == code
	}
	var body struct {
		Error string `json:"error"`
	}
	return json.Unmarshal(re.Body, &body) == nil && body.Error == code
}

// TestProviderRedirectURIExact: a redirect URI is the registered one,
// character for character (OP-02): not another loopback port (fosite's
// CVE-2020-15233), not another case (CVE-2020-15234), nothing added.
func TestProviderRedirectURIExact(t *testing.T) {
	srv, _ := startWithAdmin(t, nil)
	root := loginJSON(t, srv, "root@example.com", adminPassword)
	id, _ := providerClient(t, srv, root["access_token"], map[string]any{"name": "Native", "type": "public",
		"redirect_uris": []string{"http://127.0.0.1:9/callback"}})
	pkce := oauth2.GenerateVerifier()
	br := newBrowser(t, srv)
	for _, uri := range []string{"http://127.0.0.1:10/callback", "http://localhost:9/callback", "HTTP://127.0.0.1:9/callback",
		"http://127.0.0.1:9/Callback", "http://127.0.0.1:9/callback/", "http://127.0.0.1:9/callback?x=1", "http://127.0.0.1:9/callback#x"} {
		conf := &oauth2.Config{ClientID: id, RedirectURL: uri, Scopes: []string{"openid"},
			Endpoint: oauth2.Endpoint{AuthURL: srv.URL + "/oauth2/authorize"}}
		resp, page := br.visit("GET", conf.AuthCodeURL("s", oauth2.S256ChallengeOption(pkce)), nil)
		if resp.StatusCode != 400 || resp.Header.Get("Location") != "" || !strings.Contains(page, "redirect_uri") {
			t.Errorf("%s: %d %s", uri, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}
