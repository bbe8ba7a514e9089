package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/internal/testenv"
)

// chromium starts Debian's headless Chromium for one test. Without it the
// test is skipped, or fails when LATCHKEY_TEST_REQUIRE_SERVICES=1 (CI).
func chromium(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if testenv.Required() {
			t.Fatalf("chromium is not installed, and LATCHKEY_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("chromium is not installed; apt-get install chromium")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// waitForLocation polls the page's URL until it contains want. A read
// that meets the page in the middle of navigating is tried again.
func waitForLocation(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err == nil && strings.Contains(loc, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page stayed at %s (%v), want a URL containing %q", loc, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// get runs one action that returns a value.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// screenshots saves docs/screenshots/<name>.png (desktop) and
// <name>-phone.png when LATCHKEY_UPDATE_SCREENSHOTS=1.
func screenshots(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if os.Getenv("LATCHKEY_UPDATE_SCREENSHOTS") != "1" {
		return
	}
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, v := range []struct {
		suffix string
		w, h   int64
	}{{"", 1280, 800}, {"-phone", 390, 844}} {
		run(t, ctx, "viewport "+name+v.suffix, chromedp.EmulateViewport(v.w, v.h))
		png := get(t, ctx, "screenshot "+name+v.suffix, chromedp.FullScreenshot(100))
		if err := os.WriteFile(filepath.Join(dir, name+v.suffix+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run(t, ctx, "reset viewport", chromedp.EmulateViewport(1280, 800))
}

func TestBrowserAccountWalkthrough(t *testing.T) {
	srv := apptest.Start(t)
	ctx := chromium(t)
	signup(t, srv, "browser@example.com")
	// Another device's session, to revoke from the page.
	other := webLogin(t, srv, "browser@example.com", "User-Agent", "Other device/1.0")
	otherID := srv.Do(t, "GET", "/v1/me", nil, withCookie(other)...).String(t, "session_id")
	if otherID == "" {
		t.Fatal("no session id for the other device")
	}

	var loc string
	run(t, ctx, "open the login page", chromedp.Navigate(srv.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("#email")))
	screenshots(t, ctx, "login")
	run(t, ctx, "sign in",
		chromedp.SendKeys(chromedp.CSS("#email"), "browser@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), goodPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#account-email")))
	loc = get(t, ctx, "location", chromedp.Location())
	if loc != srv.URL+"/account" {
		t.Fatalf("after sign-in the browser is at %s", loc)
	}

	// Create an API key: shown once, then never again.
	var key, body string
	run(t, ctx, "create an API key",
		chromedp.SendKeys(chromedp.CSS("#key-name"), "deploy bot"),
		chromedp.Click(chromedp.CSS("#create-key")),
		chromedp.WaitVisible(chromedp.CSS("#new-key")))
	key = get(t, ctx, "value", chromedp.Value(chromedp.CSS("#new-key")))
	if !strings.HasPrefix(key, "lk_") {
		t.Fatalf("new key = %q", key)
	}
	if r := srv.Do(t, "GET", "/v1/me", nil, "X-API-Key", key); r.Status == http.StatusInternalServerError {
		t.Errorf("using the new key: %d", r.Status)
	}
	run(t, ctx, "back to the account page", chromedp.Navigate(srv.URL+"/account"),
		chromedp.WaitVisible(chromedp.CSS("#api-keys")))
	body = get(t, ctx, "html", chromedp.OuterHTML(chromedp.CSS("html")))
	if strings.Contains(body, key) || !strings.Contains(body, "deploy bot") {
		t.Fatalf("the account page shows the key again, or not its name")
	}
	screenshots(t, ctx, "account")

	// Revoke the other device's session.
	run(t, ctx, "revoke the other session",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`li[data-session=%q] button`, otherID))),
		chromedp.WaitVisible(chromedp.CSS("p.alert.ok")))
	body = get(t, ctx, "html", chromedp.OuterHTML(chromedp.CSS("html")))
	if strings.Contains(body, otherID) {
		t.Error("the revoked session is still listed")
	}
	if r := srv.Do(t, "GET", "/v1/me", nil, withCookie(other)...); r.Status != http.StatusUnauthorized {
		t.Errorf("the revoked session still works: %d", r.Status)
	}

	// Change the password.
	const newPassword = "a brand new passphrase"
	var notice string
	run(t, ctx, "change the password",
		chromedp.SendKeys(chromedp.CSS("#current-password"), goodPassword),
		chromedp.SendKeys(chromedp.CSS("#new-password"), newPassword),
		chromedp.Click(chromedp.CSS("#change-password")))
	// The revoke notice is still on screen until the new page loads: wait
	// for the redirect that only a finished change produces.
	waitForLocation(t, ctx, "done=password")
	notice = get(t, ctx, "text", chromedp.Text(chromedp.CSS("p.alert.ok")))
	if !strings.Contains(notice, "password was changed") {
		t.Errorf("notice after changing the password: %q", notice)
	}
	if r := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "browser@example.com", "password": newPassword}); r.Status != 200 {
		t.Errorf("login with the new password: %d", r.Status)
	}

	// Sign out.
	run(t, ctx, "sign out", chromedp.Click(chromedp.CSS("#sign-out")), chromedp.WaitVisible(chromedp.CSS("#email")))
	loc = get(t, ctx, "location", chromedp.Location())
	if loc != srv.URL+"/login" {
		t.Errorf("after sign-out the browser is at %s", loc)
	}
	run(t, ctx, "account after sign-out", chromedp.Navigate(srv.URL+"/account"), chromedp.WaitVisible(chromedp.CSS("#email")))
	loc = get(t, ctx, "location", chromedp.Location())
	if !strings.HasPrefix(loc, srv.URL+"/login?return_to=") {
		t.Errorf("/account after sign-out went to %s", loc)
	}
}

// attackerSite serves a page on another origin (another loopback port)
// that submits a form to latchkey as soon as it loads.
func attackerSite(t *testing.T, action string, fields url.Values) string {
	t.Helper()
	var inputs strings.Builder
	for k, vs := range fields {
		for _, v := range vs {
			fmt.Fprintf(&inputs, `<input type="hidden" name=%q value=%q>`, k, v)
		}
	}
	page := `<!doctype html><html><body><form id="f" method="post" action="` + action + `">` + inputs.String() +
		`</form><script>document.getElementById("f").submit()</script></body></html>`
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	}))
	t.Cleanup(evil.Close)
	return evil.URL
}

func TestBrowserCrossOriginFormsRefused(t *testing.T) {
	srv := apptest.Start(t)
	ctx := chromium(t)
	signup(t, srv, "victim@example.com")
	signup(t, srv, "attacker@example.com")

	var loc, title string
	run(t, ctx, "sign in", chromedp.Navigate(srv.URL+"/login"),
		chromedp.SendKeys(chromedp.CSS("#email"), "victim@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), goodPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#account-email")))

	// Another origin makes the browser post to /logout: refused.
	evil := attackerSite(t, srv.URL+"/logout", nil)
	run(t, ctx, "cross-origin logout", chromedp.Navigate(evil), chromedp.WaitVisible(chromedp.CSS("#error-title")))
	title = get(t, ctx, "text", chromedp.Text(chromedp.CSS("#error-title")))
	loc = get(t, ctx, "location", chromedp.Location())
	if title != "Forbidden" || !strings.HasPrefix(loc, srv.URL+"/logout") {
		t.Errorf("cross-origin logout: at %s, page %q", loc, title)
	}
	var email string
	run(t, ctx, "still signed in", chromedp.Navigate(srv.URL+"/account"), chromedp.WaitVisible(chromedp.CSS("#account-email")))
	email = get(t, ctx, "text", chromedp.Text(chromedp.CSS("#account-email")))
	if email != "victim@example.com" {
		t.Fatalf("signed in as %q after the forged logout", email)
	}

	// Sign out for real, then another origin tries to sign the browser in
	// to the attacker's account (login CSRF): refused.
	run(t, ctx, "sign out", chromedp.Click(chromedp.CSS("#sign-out")), chromedp.WaitVisible(chromedp.CSS("#email")))
	evil = attackerSite(t, srv.URL+"/login", url.Values{"email": {"attacker@example.com"}, "password": {goodPassword}})
	run(t, ctx, "cross-origin login", chromedp.Navigate(evil), chromedp.WaitVisible(chromedp.CSS("#error-title")))
	title = get(t, ctx, "text", chromedp.Text(chromedp.CSS("#error-title")))
	if title != "Forbidden" {
		t.Errorf("cross-origin login page: %q", title)
	}
	run(t, ctx, "not signed in", chromedp.Navigate(srv.URL+"/account"), chromedp.WaitVisible(chromedp.CSS("#email")))
	loc = get(t, ctx, "location", chromedp.Location())
	if !strings.HasPrefix(loc, srv.URL+"/login") {
		t.Errorf("after the forged login the browser reached %s", loc)
	}
}

// TestBrowserReauthentication: once the sign-in is older than the
// re-authentication window, the account page asks for the password before
// a sensitive form (a new API key) works again.
func TestBrowserReauthentication(t *testing.T) {
	srv := apptest.Start(t, "--reauth-window", reauthWindow.String())
	ctx := chromium(t)
	signup(t, srv, "sudo-browser@example.com")
	run(t, ctx, "sign in", chromedp.Navigate(srv.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "sudo-browser@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), goodPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#account-email")))
	time.Sleep(reauthWindow + 200*time.Millisecond)

	// A stale session's new key is refused, and the page asks for the password.
	run(t, ctx, "create a key with a stale session",
		chromedp.SendKeys(chromedp.CSS("#key-name"), "too late"),
		chromedp.Click(chromedp.CSS("#create-key")),
		chromedp.WaitVisible(chromedp.CSS("#reauth-password")))
	loc := get(t, ctx, "location", chromedp.Location())
	notice := get(t, ctx, "notice", chromedp.Text(chromedp.CSS(`p[role=status]`)))
	if !strings.Contains(loc, "done=reauth-needed") || !strings.Contains(notice, "confirm your password") {
		t.Fatalf("after a stale create: at %s, notice %q", loc, notice)
	}
	// A wrong password is refused on the page; the right one lets the form work.
	run(t, ctx, "wrong password", chromedp.SendKeys(chromedp.CSS("#reauth-password"), "not my password"),
		chromedp.Click(chromedp.CSS("#reauth-submit")), chromedp.WaitVisible(chromedp.CSS("#reauth-error")))
	run(t, ctx, "right password", chromedp.SendKeys(chromedp.CSS("#reauth-password"), goodPassword),
		chromedp.Click(chromedp.CSS("#reauth-submit")))
	waitForLocation(t, ctx, srv.URL+"/account?done=reauthenticated")
	run(t, ctx, "the account page", chromedp.WaitVisible(chromedp.CSS("#key-name")))
	if html := get(t, ctx, "html", chromedp.OuterHTML(chromedp.CSS("html"))); strings.Contains(html, "reauth-password") {
		t.Error("the page still asks for the password right after confirming it")
	}
	run(t, ctx, "create a key", chromedp.SendKeys(chromedp.CSS("#key-name"), "after confirming"),
		chromedp.Click(chromedp.CSS("#create-key")), chromedp.WaitVisible(chromedp.CSS("#new-key")))
	if key := get(t, ctx, "value", chromedp.Value(chromedp.CSS("#new-key"))); !strings.HasPrefix(key, "lk_") {
		t.Fatalf("new key = %q", key)
	}
}

// TestBrowserPasswordReset: a forgotten password is reset through the
// hosted pages and the mailed link; a mail scanner's GET and HEAD of the
// link use nothing up, and the used link cannot be used again.
func TestBrowserPasswordReset(t *testing.T) {
	srv := apptest.Start(t)
	box := &mailbox{srv: srv}
	ctx := chromium(t)
	signup(t, srv, "forgetful@example.com")

	run(t, ctx, "ask for a reset", chromedp.Navigate(srv.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("#forgot-password")),
		chromedp.Click(chromedp.CSS("#forgot-password")), chromedp.WaitVisible(chromedp.CSS(`form[action="/forgot-password"]`)),
		chromedp.SendKeys(chromedp.CSS("#email"), "forgetful@example.com"),
		chromedp.Click(chromedp.CSS("#request-submit")), chromedp.WaitVisible(chromedp.CSS("#request-done")))
	link, _, _ := box.await(t, "password-reset", "forgetful@example.com")
	if !strings.HasPrefix(link, srv.URL+"/reset-password?token=") {
		t.Fatalf("the link %q is not on latchkey's public URL", link)
	}
	// A mail scanner follows the link first: nothing is used up.
	path := strings.TrimPrefix(link, srv.URL)
	for _, method := range []string{"HEAD", "GET", "GET"} {
		if r := srv.Do(t, method, path, nil); r.Status != http.StatusOK || r.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Fatalf("%s of the link: %d %v", method, r.Status, r.Header)
		}
	}

	run(t, ctx, "open the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#new-password")),
		chromedp.SendKeys(chromedp.CSS("#new-password"), "a brand new passphrase"),
		chromedp.Click(chromedp.CSS("#action-submit")), chromedp.WaitVisible(chromedp.CSS("#action-done")))
	run(t, ctx, "sign in with the new password", chromedp.Click(chromedp.CSS("#action-next")),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "forgetful@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), "a brand new passphrase"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#account-email")))
	if r := login(t, srv, "forgetful@example.com", goodPassword); r.Status != http.StatusUnauthorized {
		t.Errorf("the old password still works: %d", r.Status)
	}

	// The link is used up: the page says so, and nothing changes.
	run(t, ctx, "the used link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#new-password")),
		chromedp.SendKeys(chromedp.CSS("#new-password"), "yet another passphrase"),
		chromedp.Click(chromedp.CSS("#action-submit")), chromedp.WaitVisible(chromedp.CSS("#action-error")))
	if r := login(t, srv, "forgetful@example.com", "a brand new passphrase"); r.Status != http.StatusOK {
		t.Errorf("a used link changed the password: %d", r.Status)
	}
	// Another site cannot submit the page's form.
	r := srv.Do(t, "POST", "/reset-password", "token=x&new_password=whatever+it+is", "Content-Type", "application/x-www-form-urlencoded",
		"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if r.Status != http.StatusForbidden {
		t.Errorf("a cross-site reset form: %d", r.Status)
	}
}

// TestBrowserEmailChange: the account page asks for a new address; the
// confirmation link, opened in the signed-in browser, moves the account;
// the old address's notice carries the way back.
func TestBrowserEmailChange(t *testing.T) {
	srv := apptest.Start(t)
	box := &mailbox{srv: srv}
	ctx := chromium(t)
	signup(t, srv, "mover@example.com")
	box.await(t, "verify-email", "mover@example.com") // sign-up's own mail
	run(t, ctx, "sign in", chromedp.Navigate(srv.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "mover@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), goodPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#new-email")))
	run(t, ctx, "ask for the change", chromedp.SendKeys(chromedp.CSS("#new-email"), "moved@example.com"),
		chromedp.Click(chromedp.CSS("#change-email")))
	waitForLocation(t, ctx, "done=email-change")

	confirm, _, _ := box.await(t, "email-change", "moved@example.com")
	if notice, _, _ := box.await(t, "email-change-notice", "mover@example.com"); !strings.Contains(notice, "/cancel-email-change?token=") {
		t.Fatalf("the old address's notice: %q", notice)
	}
	run(t, ctx, "confirm from the link", chromedp.Navigate(confirm), chromedp.WaitVisible(chromedp.CSS("#action-submit")),
		chromedp.Click(chromedp.CSS("#action-submit")), chromedp.WaitVisible(chromedp.CSS("#action-done")))
	if done := get(t, ctx, "done", chromedp.Text(chromedp.CSS("#action-done"))); !strings.Contains(done, "moved@example.com") {
		t.Errorf("done page: %q", done)
	}
	run(t, ctx, "the account page", chromedp.Click(chromedp.CSS("#action-next")), chromedp.WaitVisible(chromedp.CSS("#account-email")))
	if email := get(t, ctx, "email", chromedp.Text(chromedp.CSS("#account-email"))); email != "moved@example.com" {
		t.Errorf("the account's address is %q", email)
	}
}

// TestBrowserEmailSignIn: with --email-sign-in, the login page offers a
// mailed link, and the link's page signs the browser in.
func TestBrowserEmailSignIn(t *testing.T) {
	srv := apptest.Start(t, "--email-sign-in")
	box := &mailbox{srv: srv}
	ctx := chromium(t)
	signup(t, srv, "linkonly@example.com")
	run(t, ctx, "ask for a link", chromedp.Navigate(srv.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("#email-sign-in")),
		chromedp.Click(chromedp.CSS("#email-sign-in")), chromedp.WaitVisible(chromedp.CSS(`form[action="/email-sign-in/start"]`)),
		chromedp.SendKeys(chromedp.CSS("#email"), "linkonly@example.com"),
		chromedp.Click(chromedp.CSS("#request-submit")), chromedp.WaitVisible(chromedp.CSS("#request-done")))
	link, _, _ := box.await(t, "sign-in", "linkonly@example.com")
	run(t, ctx, "open the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#action-submit")),
		chromedp.Click(chromedp.CSS("#action-submit")), chromedp.WaitVisible(chromedp.CSS("#action-done")),
		chromedp.Click(chromedp.CSS("#action-next")), chromedp.WaitVisible(chromedp.CSS("#account-email")))
	if email := get(t, ctx, "email", chromedp.Text(chromedp.CSS("#account-email"))); email != "linkonly@example.com" {
		t.Errorf("signed in as %q", email)
	}
	// Without --email-sign-in there is no such page.
	off := apptest.Start(t)
	if r := off.Do(t, "GET", "/email-sign-in/start", nil); r.Status != http.StatusNotFound {
		t.Errorf("the start page with sign-in by mail off: %d", r.Status)
	}
}

// TestBrowserVerifyEmail: the sign-up's verification link, opened in a
// browser, proves the address with one button.
func TestBrowserVerifyEmail(t *testing.T) {
	srv := apptest.Start(t)
	box := &mailbox{srv: srv}
	ctx := chromium(t)
	tok := signup(t, srv, "prove-me@example.com")
	link, _, _ := box.await(t, "verify-email", "prove-me@example.com")
	run(t, ctx, "open the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#action-submit")))
	if r := srv.Do(t, "GET", "/v1/me", nil, bearer(tok["access_token"])...); r.JSON(t)["email_verified"] != false {
		t.Fatal("opening the link verified the address before the button")
	}
	run(t, ctx, "confirm", chromedp.Click(chromedp.CSS("#action-submit")), chromedp.WaitVisible(chromedp.CSS("#action-done")))
	if r := srv.Do(t, "GET", "/v1/me", nil, bearer(tok["access_token"])...); r.JSON(t)["email_verified"] != true {
		t.Errorf("after the button: %s", r.Body)
	}
}
