package app_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/verify"
)

// TestProviderAudiences: a token for resource A is refused at resource B
// (OP-10, RFC 8707), by /v1/verify, introspection and the verify package;
// an API key bound to an audience is refused by every other service.
func TestProviderAudiences(t *testing.T) {
	srv, _ := startWithAdmin(t, nil)
	root := loginJSON(t, srv, "root@example.com", adminPassword)
	admin := bearer(root["access_token"])
	ctx := context.Background()
	const resA, resB = "https://orders.example.com", "https://billing.example.com"
	for _, res := range []string{resA, resB} {
		if r := srv.Do(t, "POST", "/v1/admin/resources", map[string]string{"id": res, "name": res}, admin...); r.Status != 201 {
			t.Fatalf("register %s: %d %s", res, r.Status, r.Body)
		}
	}
	if r := srv.Do(t, "POST", "/v1/admin/resources", map[string]string{"id": "not a uri", "name": "x"}, admin...); r.Status != 400 {
		t.Fatalf("a bad identifier: %d", r.Status)
	}
	if r := srv.Do(t, "POST", "/v1/admin/clients", map[string]any{"name": "x", "grant_types": []string{"client_credentials"},
		"resources": []string{"https://unknown.example"}}, admin...); r.Status != 400 {
		t.Fatalf("a client with an unregistered resource: %d %s", r.Status, r.Body)
	}
	id, secret := providerClient(t, srv, root["access_token"], map[string]any{"name": "Orders worker",
		"grant_types": []string{"client_credentials"}, "scopes": []string{"orders:read"}, "resources": []string{resA}})
	cc := &clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: srv.URL + "/oauth2/token",
		EndpointParams: url.Values{"resource": {resA}}}
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if aud := jwtPart(t, tok.AccessToken, 1)["aud"]; aud != resA {
		t.Fatalf("aud: %v", aud)
	}
	other := *cc
	other.EndpointParams = url.Values{"resource": {resB}}
	if _, err := other.Token(ctx); !isOAuthError(err, "invalid_target") {
		t.Fatalf("a resource the client may not ask for: %v", err)
	}

	// /v1/verify names the service asking.
	check := func(audience string, headers ...string) *http.Response {
		t.Helper()
		r := srv.Do(t, "GET", "/v1/verify?"+url.Values{"audience": {audience}}.Encode(), nil, headers...)
		return &http.Response{StatusCode: r.Status, Header: r.Header}
	}
	if r := check(resA, bearer(tok.AccessToken)...); r.StatusCode != 200 || r.Header.Get("X-Auth-Client-Id") != id || r.Header.Get("X-Auth-User-Id") != id {
		t.Fatalf("the token at its own service: %d %v", r.StatusCode, r.Header)
	}
	if r := check(resB, bearer(tok.AccessToken)...); r.StatusCode != 401 {
		t.Fatalf("the token at another service: %d", r.StatusCode)
	}
	if r := srv.Do(t, "GET", "/v1/verify", nil, bearer(tok.AccessToken)...); r.Status != 401 {
		t.Fatalf("a client's token at latchkey's own audience: %d", r.Status)
	}
	if r := check(resA, bearer(root["access_token"])...); r.StatusCode != 401 {
		t.Fatalf("latchkey's own token at a resource: %d", r.StatusCode)
	}

	// The verify package, configured for each service.
	for _, c := range []struct {
		aud string
		ok  bool
	}{{resA, true}, {resB, false}} {
		v, err := verify.New(verify.Config{Issuer: srv.URL, Audience: c.aud})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", "/", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		if _, err := v.Authenticate(req); (err == nil) != c.ok {
			t.Errorf("verify for %s: %v", c.aud, err)
		}
	}

	// Introspection by resource servers whose own keys are bound to them.
	keyFor := func(aud string) string {
		k := createKey(t, srv, admin, map[string]any{"name": "rs " + aud, "scopes": []string{"introspect"}})
		if r := srv.Do(t, "PUT", "/v1/api-keys/"+k["id"].(string)+"/audiences", map[string]any{"audiences": []string{aud}}, admin...); r.Status != 200 {
			t.Fatalf("bind: %d %s", r.Status, r.Body)
		}
		return k["key"].(string)
	}
	keyA, keyB := keyFor(resA), keyFor(resB)
	introspect := func(key, token string) bool {
		r := srv.Do(t, "POST", "/v1/introspect", url.Values{"token": {token}}.Encode(), "Content-Type", "application/x-www-form-urlencoded", "X-API-Key", key)
		return r.JSON(t)["active"] == true
	}
	if !introspect(keyA, tok.AccessToken) || introspect(keyB, tok.AccessToken) {
		t.Fatal("introspection must answer only the token's own service")
	}

	// An API key bound to A is refused everywhere else.
	if r := check(resA, "X-API-Key", keyA); r.StatusCode != 200 {
		t.Fatalf("a bound key at its service: %d", r.StatusCode)
	}
	if r := check(resB, "X-API-Key", keyA); r.StatusCode != 401 {
		t.Fatalf("a bound key at another service: %d", r.StatusCode)
	}
	if r := srv.Do(t, "GET", "/v1/verify", nil, "X-API-Key", keyA); r.Status != 401 {
		t.Fatalf("a bound key where the service does not say who it is: %d", r.Status)
	}
	free := createKey(t, srv, admin, map[string]any{"name": "free", "scopes": []string{"introspect"}})["key"].(string)
	if !introspect(keyB, free) || introspect(keyB, keyA) {
		t.Fatal("introspection of keys: a free key is for every service, a bound one for its own")
	}
	if r := srv.Do(t, "PUT", "/v1/api-keys/nope/audiences", map[string]any{"audiences": []string{resA}}, admin...); r.Status != 404 {
		t.Fatalf("binding an unknown key: %d", r.Status)
	}
	if r := srv.Do(t, "PUT", "/v1/api-keys/nope/audiences", map[string]any{"audiences": []string{"https://unknown.example"}}, admin...); r.Status != 400 {
		t.Fatalf("binding to an unregistered audience: %d", r.Status)
	}

	// Deleting the client ends its tokens at once (within the 2 s client cache).
	if r := srv.Do(t, "DELETE", "/v1/admin/clients/"+id, nil, admin...); r.Status != 204 {
		t.Fatalf("delete client: %d", r.Status)
	}
	if introspect(keyA, tok.AccessToken) {
		t.Fatal("a deleted client's token is still active")
	}

	// The code flow: the access token for the resource, the ID token for the client.
	web, webSecret := providerClient(t, srv, root["access_token"], map[string]any{"name": "Orders UI", "first_party": true,
		"redirect_uris": []string{rpRedirect}, "resources": []string{resA}})
	conf := &oauth2.Config{ClientID: web, ClientSecret: webSecret, RedirectURL: rpRedirect, Scopes: []string{"openid"},
		Endpoint: oauth2.Endpoint{AuthURL: srv.URL + "/oauth2/authorize", TokenURL: srv.URL + "/oauth2/token"}}
	pkce := oauth2.GenerateVerifier()
	br := newBrowser(t, srv)
	resp, _ := br.visit("GET", conf.AuthCodeURL("s", oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("resource", resA)), nil)
	resp, page := br.signIn(resp, "root@example.com", adminPassword)
	code := backAtApp(t, resp, page).Get("code")
	utok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(pkce))
	if err != nil {
		t.Fatal(err)
	}
	if idAud := toStrings(jwtPart(t, utok.Extra("id_token"), 1)["aud"]); jwtPart(t, utok.AccessToken, 1)["aud"] != resA || len(idAud) != 1 || idAud[0] != web {
		t.Fatalf("code flow audiences: %v / %v", jwtPart(t, utok.AccessToken, 1)["aud"], jwtPart(t, utok.Extra("id_token"), 1)["aud"])
	}
	resp, _ = br.visit("GET", conf.AuthCodeURL("s", oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("resource", resB)), nil)
	if q := backAtApp(t, resp, ""); q.Get("error") != "invalid_target" {
		t.Fatalf("an authorization request for another resource: %v", q)
	}
}

// TestProviderCORS: a single-page app on a --cors-origins origin may call
// the provider's token, userinfo, revocation, discovery and key endpoints
// from the browser; any other origin gets no CORS headers.
func TestProviderCORS(t *testing.T) {
	srv := apptest.Start(t, "--cors-origins", "https://spa.example.com")
	for _, path := range []string{"/oauth2/token", "/oauth2/userinfo", "/oauth2/revoke", "/.well-known/openid-configuration", "/.well-known/jwks.json"} {
		r := srv.Do(t, "OPTIONS", path, nil, "Origin", "https://spa.example.com", "Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", "content-type")
		if r.Status != 204 || r.Header.Get("Access-Control-Allow-Origin") != "https://spa.example.com" {
			t.Errorf("preflight %s: %d %v", path, r.Status, r.Header)
		}
		r = srv.Do(t, "OPTIONS", path, nil, "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")
		if r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s answered CORS to another origin", path)
		}
	}
	r := srv.Do(t, "GET", "/.well-known/openid-configuration", nil, "Origin", "https://spa.example.com")
	if r.Status != 200 || r.Header.Get("Access-Control-Allow-Origin") != "https://spa.example.com" {
		t.Fatalf("discovery from the SPA: %d %v", r.Status, r.Header)
	}
}
