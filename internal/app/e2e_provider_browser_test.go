package app_test

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestBrowserProviderSignIn is the whole flow in Chromium: a third-party
// web app (x/oauth2 + go-oidc, on loopback) sends the browser to latchkey,
// the user signs in on the hosted page and agrees on the consent page, and
// the app gets the code back (with iss), exchanges it and shows who signed
// in. The pages' CSP lets their forms lead on to the app (Chrome applies
// form-action to the redirects after a form).
func TestBrowserProviderSignIn(t *testing.T) {
	srv, _ := startWithAdmin(t, nil)
	root := loginJSON(t, srv, "root@example.com", adminPassword)
	ctx := chromium(t)
	op, err := oidc.NewProvider(t.Context(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var conf *oauth2.Config
	verifier, state := oauth2.GenerateVerifier(), "browser-state"
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		c := conf
		mu.Unlock()
		switch r.URL.Path {
		case "/start":
			http.Redirect(w, r, c.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce("n-1")), http.StatusFound)
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
				Email string `json:"email"`
			}
			if err != nil || idt.Nonce != "n-1" || idt.Claims(&claims) != nil {
				http.Error(w, fmt.Sprint("id token: ", err), http.StatusBadGateway)
				return
			}
			fmt.Fprintf(w, `<!doctype html><title>App</title><p id="hello">Hello %s</p>`, html.EscapeString(claims.Email))
		default:
			http.NotFound(w, r)
		}
	}))
	defer app.Close()
	id, secret := providerClient(t, srv, root["access_token"], map[string]any{"name": "Partner App",
		"redirect_uris": []string{app.URL + "/callback"}, "scopes": []string{"openid", "email"}})
	mu.Lock()
	conf = &oauth2.Config{ClientID: id, ClientSecret: secret, Endpoint: op.Endpoint(), RedirectURL: app.URL + "/callback",
		Scopes: []string{oidc.ScopeOpenID, "email"}}
	mu.Unlock()

	run(t, ctx, "open the app", chromedp.Navigate(app.URL+"/start"), chromedp.WaitVisible(chromedp.CSS("#email")))
	if loc := get(t, ctx, "location", chromedp.Location()); !strings.HasPrefix(loc, srv.URL+"/login?return_to=") {
		t.Fatalf("the app sent the browser to %s", loc)
	}
	run(t, ctx, "sign in on latchkey's page",
		chromedp.SendKeys(chromedp.CSS("#email"), "root@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), adminPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#consent-allow")))
	scopes := get(t, ctx, "scopes", chromedp.Text(chromedp.CSS("#consent-scopes")))
	if !strings.Contains(scopes, "email address") {
		t.Fatalf("the consent page lists: %q", scopes)
	}
	screenshots(t, ctx, "consent")
	run(t, ctx, "allow", chromedp.Click(chromedp.CSS("#consent-allow")), chromedp.WaitVisible(chromedp.CSS("#hello")))
	if hello := get(t, ctx, "hello", chromedp.Text(chromedp.CSS("#hello"))); hello != "Hello root@example.com" {
		t.Fatalf("the app says %q", hello)
	}

	// Single sign-on: the next time, no page at all (signed in, agreed).
	run(t, ctx, "again", chromedp.Navigate(app.URL+"/start"), chromedp.WaitVisible(chromedp.CSS("#hello")))
}
