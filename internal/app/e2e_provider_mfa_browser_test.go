package app_test

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestBrowserProviderMFA is the provider's sign-in with a second factor in
// Chromium: a first-party app sends the browser to latchkey, the user
// signs in with the password and a code from oathtool on /login/mfa, and
// that page's form leads straight back to the app (Chrome applies its
// form-action to the redirects), whose ID token says aal2.
func TestBrowserProviderMFA(t *testing.T) {
	srv, _ := startWithAdmin(t, nil)
	root := loginJSON(t, srv, "root@example.com", adminPassword)
	u := signup(t, srv, "browser-op-mfa@example.com")
	secret, _ := enrollTOTP(t, srv, bearer(u["access_token"]), time.Now().Add(-30*time.Second))
	ctx := chromium(t)
	op, err := oidc.NewProvider(t.Context(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var conf *oauth2.Config
	verifier, state := oauth2.GenerateVerifier(), "browser-mfa-state"
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		c := conf
		mu.Unlock()
		switch r.URL.Path {
		case "/start":
			http.Redirect(w, r, c.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), http.StatusFound)
		case "/callback":
			q := r.URL.Query()
			if q.Get("state") != state || q.Get("iss") != srv.URL {
				http.Error(w, "bad state or iss: "+q.Encode(), http.StatusBadRequest)
				return
			}
			tok, err := c.Exchange(r.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			idt, err := op.Verifier(&oidc.Config{ClientID: c.ClientID}).Verify(r.Context(), tok.Extra("id_token").(string))
			var claims struct {
				Email string   `json:"email"`
				ACR   string   `json:"acr"`
				AMR   []string `json:"amr"`
			}
			if err != nil || idt.Claims(&claims) != nil {
				http.Error(w, fmt.Sprint("id token: ", err), http.StatusBadGateway)
				return
			}
			fmt.Fprintf(w, `<!doctype html><title>App</title><p id="hello">Hello %s %s %s</p>`,
				html.EscapeString(claims.Email), html.EscapeString(claims.ACR), html.EscapeString(strings.Join(claims.AMR, ",")))
		default:
			http.NotFound(w, r)
		}
	}))
	defer app.Close()
	id, clientSecret := providerClient(t, srv, root["access_token"], map[string]any{"name": "Intranet", "first_party": true,
		"redirect_uris": []string{app.URL + "/callback"}, "scopes": []string{"openid", "email"}})
	mu.Lock()
	conf = &oauth2.Config{ClientID: id, ClientSecret: clientSecret, Endpoint: op.Endpoint(), RedirectURL: app.URL + "/callback",
		Scopes: []string{oidc.ScopeOpenID, "email"}}
	mu.Unlock()

	run(t, ctx, "open the app", chromedp.Navigate(app.URL+"/start"), chromedp.WaitVisible(chromedp.CSS("#email")))
	run(t, ctx, "sign in with the password",
		chromedp.SendKeys(chromedp.CSS("#email"), "browser-op-mfa@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), goodPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#mfa-code")))
	if loc := get(t, ctx, "location", chromedp.Location()); !strings.HasPrefix(loc, srv.URL+"/login/mfa?return_to=") {
		t.Fatalf("the second step is at %s", loc)
	}
	run(t, ctx, "the code",
		chromedp.SendKeys(chromedp.CSS("#mfa-code"), oathtool(t, secret, time.Now())),
		chromedp.Click(chromedp.CSS("#mfa-submit")),
		chromedp.WaitVisible(chromedp.CSS("#hello")))
	if hello := get(t, ctx, "hello", chromedp.Text(chromedp.CSS("#hello"))); hello != "Hello browser-op-mfa@example.com aal2 pwd,otp,mfa" {
		t.Fatalf("the app says %q", hello)
	}
}
