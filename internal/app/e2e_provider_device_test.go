package app_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestProviderDeviceFlow: a CLI signs in with the device flow (RFC 8628)
// through x/oauth2's DeviceAuth, the user agreeing on /device (OP-09).
func TestProviderDeviceFlow(t *testing.T) {
	srv, _ := startWithAdmin(t, nil)
	root := loginJSON(t, srv, "root@example.com", adminPassword)
	ctx := context.Background()
	op, err := oidc.NewProvider(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var disco struct {
		DeviceEndpoint string `json:"device_authorization_endpoint"`
	}
	if err := op.Claims(&disco); err != nil || disco.DeviceEndpoint != srv.URL+"/oauth2/device_authorization" {
		t.Fatalf("discovery: %+v %v", disco, err)
	}
	id, _ := providerClient(t, srv, root["access_token"], map[string]any{"name": "latchkey CLI", "type": "public",
		"grant_types": []string{"urn:ietf:params:oauth:grant-type:device_code", "refresh_token"}, "scopes": []string{"openid", "email", "offline_access"}})
	conf := &oauth2.Config{ClientID: id, Endpoint: oauth2.Endpoint{DeviceAuthURL: disco.DeviceEndpoint, TokenURL: op.Endpoint().TokenURL},
		Scopes: []string{"openid", "email", "offline_access"}}
	da, err := conf.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`).MatchString(da.UserCode) ||
		da.VerificationURI != srv.URL+"/device" || da.Interval != 5 || len(da.DeviceCode) < 22 {
		t.Fatalf("device authorization: %+v", da)
	}
	poll := func() string {
		r := srv.Do(t, "POST", "/oauth2/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
			"device_code": {da.DeviceCode}, "client_id": {id}}.Encode(), "Content-Type", "application/x-www-form-urlencoded")
		return r.String(t, "error")
	}
	if e := poll(); e != "authorization_pending" {
		t.Fatalf("first poll: %s", e)
	}
	if e := poll(); e != "slow_down" {
		t.Fatalf("polled too fast: %s", e)
	}

	// The user opens the verification URI, signs in, sees the app, allows.
	br := newBrowser(t, srv)
	resp, _ := br.visit("GET", da.VerificationURIComplete, nil)
	resp, page := br.signIn(resp, "root@example.com", adminPassword)
	if resp.Request.URL.Path != "/device" || !strings.Contains(page, da.UserCode) {
		t.Fatalf("the device page after sign-in: %s\n%.300s", resp.Request.URL, page)
	}
	_, page = br.visit("POST", srv.URL+"/device", url.Values{"user_code": {"ZZZZ-ZZZZ"}})
	if !strings.Contains(page, "device-error") {
		t.Fatalf("a wrong code:\n%.300s", page)
	}
	_, page = br.visit("POST", srv.URL+"/device", url.Values{"user_code": {strings.ToLower(da.UserCode)}})
	if !strings.Contains(page, "latchkey CLI") || !strings.Contains(page, `id="device-allow"`) {
		t.Fatalf("the confirmation:\n%.500s", page)
	}
	_, page = br.visit("POST", srv.URL+"/device/approve", url.Values{"user_code": {da.UserCode}, "decision": {"allow"}})
	if !strings.Contains(page, "Your device is signed in") {
		t.Fatalf("approval:\n%.300s", page)
	}
	// The CLI's library polls (after the interval) and gets its tokens.
	tok, err := conf.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatal(err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := op.Verifier(&oidc.Config{ClientID: id}).Verify(ctx, rawID)
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("device tokens: %v %q", err, tok.RefreshToken)
	}
	var dc struct {
		ACR string   `json:"acr"`
		AMR []string `json:"amr"`
	}
	if err := idt.Claims(&dc); err != nil || dc.ACR != "aal1" || len(dc.AMR) == 0 {
		t.Fatalf("the device's ID token: %+v %v", dc, err)
	}
	if info, err := op.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err != nil || info.Subject != idt.Subject || info.Email != "root@example.com" {
		t.Fatalf("userinfo: %+v %v", info, err)
	}
	// A device code works once.
	if e := poll(); e == "" {
		t.Fatal("a used device code gave tokens again")
	}

	// A refused device gets access_denied.
	da2, err := conf.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	br.visit("POST", srv.URL+"/device/approve", url.Values{"user_code": {da2.UserCode}, "decision": {"deny"}})
	if _, err := conf.DeviceAccessToken(ctx, da2); !isOAuthError(err, "access_denied") {
		t.Fatalf("a refused device: %v", err)
	}
}
