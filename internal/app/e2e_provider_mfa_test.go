package app_test

import (
	"context"
	"fmt"
	"html"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestProviderMFA signs a user with an authenticator app in through the
// provider: authorize, the hosted login page, its second step
// (/login/mfa, with a code from oathtool), and back to the client, whose ID
// token says aal2 with amr otp and mfa.
func TestProviderMFA(t *testing.T) {
	srv, _ := startWithAdmin(t, nil)
	root := loginJSON(t, srv, "root@example.com", adminPassword)
	ctx := context.Background()
	op, err := oidc.NewProvider(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	id, secret := providerClient(t, srv, root["access_token"], map[string]any{"name": "Intranet", "first_party": true,
		"redirect_uris": []string{rpRedirect}, "scopes": []string{"openid", "email", "offline_access"}})
	conf := &oauth2.Config{ClientID: id, ClientSecret: secret, Endpoint: op.Endpoint(), RedirectURL: rpRedirect,
		Scopes: []string{oidc.ScopeOpenID, "email", oidc.ScopeOfflineAccess}}
	idTokens := op.Verifier(&oidc.Config{ClientID: id})
	claimsOf := func(tok *oauth2.Token) (acr, amr string) {
		t.Helper()
		idt, err := idTokens.Verify(ctx, tok.Extra("id_token").(string))
		if err != nil {
			t.Fatal(err)
		}
		var c struct {
			ACR string   `json:"acr"`
			AMR []string `json:"amr"`
		}
		if err := idt.Claims(&c); err != nil {
			t.Fatal(err)
		}
		return c.ACR, fmt.Sprint(c.AMR)
	}

	u := signup(t, srv, "op-mfa@example.com")
	totp, _ := enrollTOTP(t, srv, bearer(u["access_token"]), time.Now().Add(-30*time.Second))

	pkce := oauth2.GenerateVerifier()
	br := newBrowser(t, srv)
	resp, _ := br.visit("GET", conf.AuthCodeURL("m1", oauth2.S256ChallengeOption(pkce), oidc.Nonce("n1")), nil)
	resp, page := br.signIn(resp, "op-mfa@example.com", goodPassword)
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/login/mfa" {
		t.Fatalf("the second step was not asked: %d %s\n%.400s", resp.StatusCode, resp.Request.URL, page)
	}
	// The second step's form ends at the client: its CSP lets it go there.
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' http://127.0.0.1:9;") {
		t.Fatalf("the second step's CSP: %s", csp)
	}
	returnTo := resp.Request.URL.Query().Get("return_to")
	if !strings.HasPrefix(returnTo, "/oauth2/continue?") {
		t.Fatalf("the second step lost the authorization: %s", resp.Request.URL)
	}
	resp, page = br.visit("POST", srv.URL+"/login/mfa", url.Values{"code": {oathtool(t, totp, time.Now())}, "return_to": {returnTo}})
	q := backAtApp(t, resp, page)
	if q.Get("state") != "m1" || q.Get("iss") != srv.URL {
		t.Fatalf("authorization response: %v", q)
	}
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(pkce))
	if err != nil {
		t.Fatal(err)
	}
	if acr, amr := claimsOf(tok); acr != "aal2" || amr != "[pwd otp mfa]" {
		t.Fatalf("ID token after the second step: acr %s amr %s", acr, amr)
	}
	// A refresh's ID token says the same of the sign-in.
	refreshed, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("refresh: %v (refresh token %q)", err, tok.RefreshToken)
	}
	if acr, amr := claimsOf(refreshed); acr != "aal2" || amr != "[pwd otp mfa]" {
		t.Fatalf("ID token of a refresh: acr %s amr %s", acr, amr)
	}

	// A session that proved aal2 meets acr_values=aal2 at once.
	aal2 := oauth2.SetAuthURLParam("acr_values", "aal2")
	resp, page = br.visit("GET", conf.AuthCodeURL("m2", oauth2.S256ChallengeOption(pkce), aal2), nil)
	if q := backAtApp(t, resp, page); q.Get("code") == "" {
		t.Fatalf("acr_values=aal2 with an aal2 session: %v", q)
	}

	// Step-up: a browser signed in with the password only (before the
	// authenticator was added) is asked for a code by acr_values=aal2,
	// and goes back to the client with aal2.
	up := signup(t, srv, "op-stepup@example.com")
	br2 := newBrowser(t, srv)
	resp, _ = br2.visit("GET", srv.URL+"/login", nil)
	if resp, page = br2.signIn(resp, "op-stepup@example.com", goodPassword); resp.Request.URL.Path != "/account" {
		t.Fatalf("password sign-in: %s\n%.300s", resp.Request.URL, page)
	}
	upSecret, _ := enrollTOTP(t, srv, bearer(up["access_token"]), time.Now().Add(-30*time.Second))
	// Without acr_values the aal1 session is enough, and says so.
	resp, page = br2.visit("GET", conf.AuthCodeURL("u0", oauth2.S256ChallengeOption(pkce)), nil)
	tok, err = conf.Exchange(ctx, backAtApp(t, resp, page).Get("code"), oauth2.VerifierOption(pkce))
	if err != nil {
		t.Fatal(err)
	}
	if acr, amr := claimsOf(tok); acr != "aal1" || amr != "[pwd]" {
		t.Fatalf("ID token of the aal1 session: acr %s amr %s", acr, amr)
	}
	// prompt=none cannot ask: interaction_required, back at the client.
	resp, page = br2.visit("GET", conf.AuthCodeURL("u1", oauth2.S256ChallengeOption(pkce), aal2, oauth2.SetAuthURLParam("prompt", "none")), nil)
	if q := backAtApp(t, resp, page); q.Get("error") != "interaction_required" || q.Get("state") != "u1" || q.Get("iss") != srv.URL {
		t.Fatalf("prompt=none with acr_values=aal2: %v", q)
	}
	resp, page = br2.visit("GET", conf.AuthCodeURL("u2", oauth2.S256ChallengeOption(pkce), aal2), nil)
	if resp.StatusCode != 200 || !strings.Contains(page, `id="provider-step-up"`) || !strings.Contains(page, "Intranet") ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "form-action 'self' http://127.0.0.1:9;") {
		t.Fatalf("step-up page: %d %s\n%.600s", resp.StatusCode, resp.Header.Get("Content-Security-Policy"), page)
	}
	back := formValue(t, page, "return_to")
	resp, page = br2.visit("POST", srv.URL+"/account/mfa/verify", url.Values{"code": {wrongTOTP(t, upSecret, time.Now())}, "return_to": {back}})
	if resp.StatusCode != 401 || !strings.Contains(page, `id="provider-step-up"`) || !strings.Contains(page, `id="mfa-error"`) {
		t.Fatalf("a wrong step-up code: %d\n%.600s", resp.StatusCode, page)
	}
	resp, page = br2.visit("POST", srv.URL+"/account/mfa/verify", url.Values{"code": {oathtool(t, upSecret, time.Now())}, "return_to": {back}})
	q = backAtApp(t, resp, page)
	if q.Get("state") != "u2" || q.Get("iss") != srv.URL {
		t.Fatalf("after the step-up: %v", q)
	}
	tok, err = conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(pkce))
	if err != nil {
		t.Fatal(err)
	}
	if acr, amr := claimsOf(tok); acr != "aal2" || amr != "[pwd otp mfa]" {
		t.Fatalf("ID token after the step-up: acr %s amr %s", acr, amr)
	}

	// A user with no second factor cannot meet acr_values=aal2: the
	// client is told unmet_authentication_requirements; aal1 among the
	// values is met.
	signup(t, srv, "op-nofactor@example.com")
	br3 := newBrowser(t, srv)
	resp, _ = br3.visit("GET", srv.URL+"/login", nil)
	br3.signIn(resp, "op-nofactor@example.com", goodPassword)
	resp, page = br3.visit("GET", conf.AuthCodeURL("x1", oauth2.S256ChallengeOption(pkce), aal2), nil)
	if q := backAtApp(t, resp, page); q.Get("error") != "unmet_authentication_requirements" || q.Get("state") != "x1" ||
		q.Get("iss") != srv.URL || q.Get("code") != "" {
		t.Fatalf("acr_values=aal2 without a second factor: %v", q)
	}
	resp, page = br3.visit("GET", conf.AuthCodeURL("x2", oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("acr_values", "aal2 aal1")), nil)
	if q := backAtApp(t, resp, page); q.Get("code") == "" {
		t.Fatalf("acr_values=aal2 aal1 with an aal1 session: %v", q)
	}
}

// formValue reads the value of a page's hidden input.
func formValue(t *testing.T, page, name string) string {
	t.Helper()
	i := strings.Index(page, `name="`+name+`" value="`)
	if i < 0 {
		t.Fatalf("no %s in the page:\n%.600s", name, page)
	}
	rest := page[i+len(`name="`+name+`" value="`):]
	return html.UnescapeString(rest[:strings.Index(rest, `"`)])
}
