package app_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/latchkey/latchkey/internal/apptest"
)

// TestProviderRefreshRevokeIntrospect: refresh tokens of clients rotate,
// are bound to their client and revoke their family on reuse (OP-06);
// RFC 7009 revocation and RFC 7662 introspection of client tokens.
func TestProviderRefreshRevokeIntrospect(t *testing.T) {
	srv, _ := startWithAdmin(t, nil) // --refresh-reuse-grace 0s
	root := loginJSON(t, srv, "root@example.com", adminPassword)
	ctx := context.Background()
	op, err := oidc.NewProvider(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	scopes := []string{"openid", "email", "offline_access"}
	newConf := func(name string) *oauth2.Config {
		id, secret := providerClient(t, srv, root["access_token"], map[string]any{"name": name, "first_party": true,
			"redirect_uris": []string{rpRedirect}, "scopes": scopes})
		return &oauth2.Config{ClientID: id, ClientSecret: secret, Endpoint: op.Endpoint(), RedirectURL: rpRedirect, Scopes: scopes}
	}
	a, b := newConf("App A"), newConf("App B")
	br := newBrowser(t, srv)
	pkce := oauth2.GenerateVerifier()
	signIn := func(conf *oauth2.Config) *oauth2.Token {
		t.Helper()
		resp, page := br.visit("GET", conf.AuthCodeURL("s", oauth2.S256ChallengeOption(pkce)), nil)
		if resp.Request.URL.Path == "/login" {
			resp, page = br.signIn(resp, "root@example.com", adminPassword)
		}
		tok, err := conf.Exchange(ctx, backAtApp(t, resp, page).Get("code"), oauth2.VerifierOption(pkce))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	refresh := func(conf *oauth2.Config, rt string) (*oauth2.Token, error) {
		return conf.TokenSource(ctx, &oauth2.Token{RefreshToken: rt, Expiry: time.Now().Add(-time.Hour)}).Token()
	}
	first := signIn(a)
	if first.RefreshToken == "" || len(first.RefreshToken) != 43 {
		t.Fatalf("offline_access gives a refresh token: %q", first.RefreshToken)
	}
	// RT-08: another client's refresh token is refused and left as it was.
	if _, err := refresh(b, first.RefreshToken); !isOAuthError(err, "invalid_grant") {
		t.Fatalf("B with A's refresh token: %v", err)
	}
	second, err := refresh(a, first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken || second.Extra("id_token") == nil {
		t.Fatal("a refresh rotates the refresh token and gives new tokens")
	}
	// Scopes can narrow on refresh, never widen.
	// (x/oauth2 sends no scope when it refreshes: ask directly.)
	wide := srv.Do(t, "POST", "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {second.RefreshToken},
		"scope": {"openid profile"}}.Encode(), "Content-Type", "application/x-www-form-urlencoded", "Authorization", basic(a.ClientID, a.ClientSecret))
	if wide.Status != 400 || wide.String(t, "error") != "invalid_scope" {
		t.Fatalf("widening: %d %s", wide.Status, wide.Body)
	}
	narrowed := srv.Do(t, "POST", "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {second.RefreshToken},
		"scope": {"openid"}}.Encode(), "Content-Type", "application/x-www-form-urlencoded", "Authorization", basic(a.ClientID, a.ClientSecret))
	if narrowed.Status != 200 || jwtPart(t, narrowed.String(t, "access_token"), 1)["scope"] != "openid" {
		t.Fatalf("narrowing: %d %s", narrowed.Status, narrowed.Body)
	}
	// RT-01: the used first token again (no grace configured): refused, and
	// the family is revoked.
	if _, err := refresh(a, first.RefreshToken); !isOAuthError(err, "invalid_grant") {
		t.Fatalf("reused refresh token: %v", err)
	}
	if _, err := op.UserInfo(ctx, oauth2.StaticTokenSource(second)); err == nil {
		t.Fatal("the family's access token survived the reuse")
	}

	// Introspection of client tokens through /v1/introspect (RFC 7662).
	key := createKey(t, srv, bearer(root["access_token"]), map[string]any{"name": "rs", "scopes": []string{"introspect"}})["key"].(string)
	introspect := func(tok string) map[string]any {
		r := srv.Do(t, "POST", "/v1/introspect", url.Values{"token": {tok}}.Encode(), "Content-Type", "application/x-www-form-urlencoded", "X-API-Key", key)
		if r.Status != 200 {
			t.Fatalf("introspect: %d %s", r.Status, r.Body)
		}
		return r.JSON(t)
	}
	live := signIn(b)
	if in := introspect(live.AccessToken); in["active"] != true || in["client_id"] != b.ClientID || in["token_type"] != "access_token" || in["scope"] != strings.Join(scopes, " ") {
		t.Fatalf("introspected access token: %v", in)
	}
	if in := introspect(live.RefreshToken); in["active"] != true || in["token_type"] != "refresh_token" || in["client_id"] != b.ClientID {
		t.Fatalf("introspected refresh token: %v", in)
	}
	// RFC 7009: B revokes its refresh token; the grant's tokens all stop.
	// A cannot revoke B's tokens.
	revoke := func(conf *oauth2.Config, tok string) *apptest.Response {
		return srv.Do(t, "POST", "/oauth2/revoke", url.Values{"token": {tok}}.Encode(), "Content-Type", "application/x-www-form-urlencoded",
			"Authorization", basic(conf.ClientID, conf.ClientSecret))
	}
	if r := revoke(a, live.RefreshToken); r.Status != 200 || introspect(live.AccessToken)["active"] != true {
		t.Fatalf("another client's revocation: %d %s", r.Status, r.Body)
	}
	if r := revoke(b, live.RefreshToken); r.Status != 200 || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if in := introspect(live.AccessToken); in["active"] != false || len(in) != 1 {
		t.Fatalf("a revoked grant's access token: %v", in)
	}
	if _, err := refresh(b, live.RefreshToken); !isOAuthError(err, "invalid_grant") {
		t.Fatalf("refresh after revocation: %v", err)
	}
	// Revoking by the access token ends the grant as well.
	third := signIn(b)
	if r := revoke(b, third.AccessToken); r.Status != 200 || introspect(third.RefreshToken)["active"] != false {
		t.Fatalf("revoking an access token: %d %s", r.Status, r.Body)
	}
	if r := revoke(b, "not-a-token"); r.Status != 200 {
		t.Fatalf("an unknown token: %d %s", r.Status, r.Body)
	}
	if r := srv.Do(t, "POST", "/oauth2/revoke", url.Values{"token": {third.AccessToken}}.Encode(), "Content-Type", "application/x-www-form-urlencoded",
		"Authorization", basic(b.ClientID, "wrong")); r.Status != 401 {
		t.Fatalf("revocation with a wrong secret: %d %s", r.Status, r.Body)
	}
}

// TestProviderClientCredentials: a service's own token (OP-07), with a
// secret and with private_key_jwt, whose assertions work once (OP-08).
func TestProviderClientCredentials(t *testing.T) {
	srv, _ := startWithAdmin(t, nil)
	root := loginJSON(t, srv, "root@example.com", adminPassword)
	ctx := context.Background()
	id, secret := providerClient(t, srv, root["access_token"], map[string]any{"name": "Billing service",
		"grant_types": []string{"client_credentials"}, "scopes": []string{"invoices:read", "invoices:write"}})
	cc := &clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: srv.URL + "/oauth2/token"}
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken != "" || tok.Extra("id_token") != nil {
		t.Fatal("client credentials give neither a refresh token nor an ID token")
	}
	claims := jwtPart(t, tok.AccessToken, 1)
	if claims["sub"] != id || claims["client_id"] != id || claims["scope"] != "invoices:read invoices:write" || claims["sid"] != nil {
		t.Fatalf("client-credentials token: %v", claims)
	}
	narrow := *cc
	narrow.Scopes = []string{"invoices:read"}
	if tok, err := narrow.Token(ctx); err != nil || jwtPart(t, tok.AccessToken, 1)["scope"] != "invoices:read" {
		t.Fatalf("narrowed scope: %v", err)
	}
	for _, bad := range [][]string{{"openid"}, {"admin"}} {
		wide := *cc
		wide.Scopes = bad
		if _, err := wide.Token(ctx); !isOAuthError(err, "invalid_scope") {
			t.Errorf("scope %v: %v", bad, err)
		}
	}
	wrong := *cc
	wrong.ClientSecret = secret[:42] + "x"
	if _, err := wrong.Token(ctx); !isOAuthError(err, "invalid_client") {
		t.Fatalf("a wrong secret: %v", err)
	}
	post := *cc
	post.AuthStyle = oauth2.AuthStyleInParams
	if _, err := post.Token(ctx); err != nil {
		t.Fatalf("client_secret_post: %v", err)
	}
	// A client of the code grant may not use client credentials.
	codeOnly, codeSecret := providerClient(t, srv, root["access_token"], map[string]any{"name": "Web", "redirect_uris": []string{rpRedirect}})
	if _, err := (&clientcredentials.Config{ClientID: codeOnly, ClientSecret: codeSecret, TokenURL: cc.TokenURL}).Token(ctx); !isOAuthError(err, "unauthorized_client") {
		t.Fatalf("a code-grant client: %v", err)
	}
	// The grants latchkey does not offer are refused before op sees them.
	r := srv.Do(t, "POST", "/oauth2/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {"x"}}.Encode(),
		"Content-Type", "application/x-www-form-urlencoded")
	if r.Status != 400 || r.String(t, "error") != "unsupported_grant_type" {
		t.Fatalf("jwt-bearer grant: %d %s", r.Status, r.Body)
	}

	// private_key_jwt: an RS256 key pair of the client's; the assertion
	// works once.
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{{"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
		"n": base64.RawURLEncoding.EncodeToString(priv.N.Bytes()), "e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(priv.E)).Bytes())}}})
	jwtClient, noSecret := providerClient(t, srv, root["access_token"], map[string]any{"name": "Signer", "token_endpoint_auth_method": "private_key_jwt",
		"jwks": string(jwks), "grant_types": []string{"client_credentials"}, "scopes": []string{"reports:read"}})
	if noSecret != "" {
		t.Fatal("a private_key_jwt client got a secret")
	}
	assertion := func(jti string, ttl time.Duration) string {
		now := time.Now()
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{Issuer: jwtClient, Subject: jwtClient, Audience: jwt.ClaimStrings{srv.URL},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(ttl)), ID: jti})
		tok.Header["kid"] = "k1"
		s, err := tok.SignedString(priv)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	exchange := func(a string) *apptest.Response {
		return srv.Do(t, "POST", "/oauth2/token", url.Values{"grant_type": {"client_credentials"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}}.Encode(),
			"Content-Type", "application/x-www-form-urlencoded")
	}
	one := assertion("jti-1", time.Minute)
	if r := exchange(one); r.Status != 200 || jwtPart(t, r.String(t, "access_token"), 1)["sub"] != jwtClient {
		t.Fatalf("private_key_jwt: %d %s", r.Status, r.Body)
	}
	if r := exchange(one); r.Status != 401 || r.String(t, "error") != "invalid_client" {
		t.Fatalf("a replayed assertion: %d %s", r.Status, r.Body)
	}
	if r := exchange(assertion("jti-2", time.Hour)); r.Status != 401 {
		t.Fatalf("a long-lived assertion: %d %s", r.Status, r.Body)
	}
	if r := exchange(assertion("", time.Minute)); r.Status != 401 {
		t.Fatalf("an assertion without jti: %d %s", r.Status, r.Body)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	forged := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{Issuer: jwtClient, Subject: jwtClient, Audience: jwt.ClaimStrings{srv.URL},
		IssuedAt: jwt.NewNumericDate(time.Now()), ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Minute)), ID: "jti-3"})
	forged.Header["kid"] = "k1"
	fs, _ := forged.SignedString(other)
	if r := exchange(fs); r.Status != 401 {
		t.Fatalf("an assertion signed by another key: %d %s", r.Status, r.Body)
	}
	audit := srv.Do(t, "GET", "/v1/admin/audit?type=provider.client_auth_failed", nil, bearer(root["access_token"])...)
	if !strings.Contains(string(audit.Body), jwtClient) || !strings.Contains(string(audit.Body), id) {
		t.Fatalf("failed client authentications are audited: %s", audit.Body)
	}
}
