package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey/internal/apptest"
)

// TestBrowserMFA: in Chromium, a person adds an authenticator app on the
// account page (the QR code is inline SVG under the pages' strict CSP),
// confirms it with a code from oathtool, keeps the recovery codes, signs
// out, and signs in again with the password and then a code; a wrong code
// is told on the page.
func TestBrowserMFA(t *testing.T) {
	srv := apptest.Start(t)
	ctx := chromium(t)
	signup(t, srv, "browser-mfa@example.com")

	run(t, ctx, "sign in", chromedp.Navigate(srv.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "browser-mfa@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), goodPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#mfa-off")))
	run(t, ctx, "add an authenticator",
		chromedp.SendKeys(chromedp.CSS("#factor-name"), "my phone"),
		chromedp.Click(chromedp.CSS("#add-authenticator")),
		chromedp.WaitVisible(chromedp.CSS("#totp-secret")))
	qrWidth := get(t, ctx, "the QR code's width",
		chromedp.Evaluate[float64](`document.querySelector("#totp-qr svg").getBoundingClientRect().width`))
	if qrWidth < 100 {
		t.Errorf("the QR code is %v px wide", qrWidth)
	}
	screenshots(t, ctx, "mfa-enroll")
	secret := get(t, ctx, "secret", chromedp.Value(chromedp.CSS("#totp-secret")))
	now := time.Now()
	run(t, ctx, "a wrong first code",
		chromedp.SendKeys(chromedp.CSS("#enroll-code"), wrongTOTP(t, secret, now)),
		chromedp.Click(chromedp.CSS("#enroll-confirm")),
		chromedp.WaitVisible(chromedp.CSS("#enroll-error")))
	if get(t, ctx, "secret again", chromedp.Value(chromedp.CSS("#totp-secret"))) != secret {
		t.Error("the page shows another secret after a wrong code")
	}
	run(t, ctx, "confirm",
		chromedp.SendKeys(chromedp.CSS("#enroll-code"), oathtool(t, secret, now)),
		chromedp.Click(chromedp.CSS("#enroll-confirm")),
		chromedp.WaitVisible(chromedp.CSS("#recovery-codes")))
	codes := get(t, ctx, "recovery codes", chromedp.Text(chromedp.CSS("#recovery-codes")))
	if n := len(strings.Fields(codes)); n != 10 {
		t.Errorf("%d recovery codes shown: %q", n, codes)
	}
	run(t, ctx, "back to the account", chromedp.Click(chromedp.CSS("#codes-done")), chromedp.WaitVisible(chromedp.CSS("#mfa-on")))
	if strings.Contains(get(t, ctx, "html", chromedp.OuterHTML(chromedp.CSS("html"))), secret) {
		t.Error("the account page shows the secret")
	}

	run(t, ctx, "sign out", chromedp.Click(chromedp.CSS("#sign-out")), chromedp.WaitVisible(chromedp.CSS("#email")))
	run(t, ctx, "sign in with the password",
		chromedp.SendKeys(chromedp.CSS("#email"), "browser-mfa@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), goodPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#mfa-code")))
	waitForLocation(t, ctx, "/login/mfa")
	screenshots(t, ctx, "login-mfa")
	run(t, ctx, "a wrong code",
		chromedp.SendKeys(chromedp.CSS("#mfa-code"), wrongTOTP(t, secret, time.Now())),
		chromedp.Click(chromedp.CSS("#mfa-submit")),
		chromedp.WaitVisible(chromedp.CSS("#mfa-error")))
	if msg := get(t, ctx, "error", chromedp.Text(chromedp.CSS("#mfa-error"))); !strings.Contains(msg, "4 attempts left") {
		t.Errorf("error after a wrong code: %q", msg)
	}
	// The step of now confirmed the authenticator: the next one signs in.
	run(t, ctx, "the code",
		chromedp.SendKeys(chromedp.CSS("#mfa-code"), oathtool(t, secret, now.Add(30*time.Second))),
		chromedp.Click(chromedp.CSS("#mfa-submit")),
		chromedp.WaitVisible(chromedp.CSS("#account-email")))
	if loc := get(t, ctx, "location", chromedp.Location()); loc != srv.URL+"/account" {
		t.Errorf("after the second step the browser is at %s", loc)
	}
	// This session proved the factor: no step-up form.
	body := get(t, ctx, "html", chromedp.OuterHTML(chromedp.CSS("html")))
	if strings.Contains(body, `id="mfa-step-up"`) || !strings.Contains(body, `id="new-recovery-codes"`) {
		t.Error("the signed-in session is not at aal2 on the account page")
	}
}
