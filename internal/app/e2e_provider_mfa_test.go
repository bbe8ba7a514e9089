package app_test

import (
	"context"
	"fmt"
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
		Scopes: []string{oidc.ScopeOpenID, "email"}}
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
}
