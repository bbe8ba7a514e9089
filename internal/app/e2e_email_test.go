package app_test

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/internal/testenv"
)

const publicURL = "https://id.example.test"

// mailbox reads the mails a server delivered: the .eml files it writes
// under <data-dir>/mail without --smtp-url, or what reached Mailpit over
// SMTP. Each mail is handed out once.
type mailbox struct {
	srv  *apptest.Instance
	mp   *testenv.Mailpit // nil: the .eml files
	read map[string]bool  // file names or Mailpit ids already read
	mail []deliveredMail  // read, not yet handed out
}

// deliveredMail is one mail as delivered: its recipient and plain text.
type deliveredMail struct{ To, Text string }

var (
	mailLinkRE = regexp.MustCompile(`https?://[^\s"<]+`)
	mailCodeRE = regexp.MustCompile(`\b[0-9]{8}\b`)
)

// kindPages tells the kinds of mail apart by the page their link opens.
var kindPages = map[string]string{
	"verify-email": "/verify-email", "password-reset": "/reset-password", "password-changed": "/forgot-password",
	"email-change": "/confirm-email", "email-change-notice": "/cancel-email-change", "sign-in": "/email-sign-in",
	"recovery-code-used": "/account",
}

// fetch reads what was delivered since the last call.
func (b *mailbox) fetch(t *testing.T) {
	t.Helper()
	if b.read == nil {
		b.read = map[string]bool{}
	}
	if b.mp != nil {
		for _, s := range b.mp.Messages(t) {
			if !b.read[s.ID] {
				b.read[s.ID] = true
				b.mail = append(b.mail, parseMail(t, b.mp.Raw(t, s.ID)))
			}
		}
		return
	}
	dir := filepath.Join(b.srv.DataDir, "mail")
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".eml") || b.read[e.Name()] {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		b.read[e.Name()] = true
		b.mail = append(b.mail, parseMail(t, raw))
	}
}

// parseMail reads the recipient and the plain-text part of a message.
func parseMail(t *testing.T, raw []byte) deliveredMail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	to, err := mail.ParseAddress(msg.Header.Get("To"))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	part, err := multipart.NewReader(msg.Body, params["boundary"]).NextPart() // text/plain, quoted-printable undone
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(part)
	if err != nil {
		t.Fatal(err)
	}
	return deliveredMail{To: to.Address, Text: string(text)}
}

// await waits for a mail of kind to to, and returns its link, token and
// code.
func (b *mailbox) await(t *testing.T, kind, to string) (link, token, code string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b.fetch(t)
		for i, m := range b.mail {
			l := mailLinkRE.FindString(m.Text)
			if m.To == to && strings.Contains(l, kindPages[kind]) {
				b.mail = append(b.mail[:i:i], b.mail[i+1:]...)
				_, token, _ = strings.Cut(l, "?token=")
				return l, token, mailCodeRE.FindString(m.Text)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s mail to %s (have %v)", kind, to, b.mail)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// none fails if a mail went to to (after a moment for the server's work
// off the request path and its sender).
func (b *mailbox) none(t *testing.T, to string) {
	t.Helper()
	time.Sleep(500 * time.Millisecond)
	b.fetch(t)
	for _, m := range b.mail {
		if m.To == to {
			t.Errorf("a mail went to %s:\n%s", to, m.Text)
		}
	}
}

func wantAccepted(t *testing.T, what string, r *apptest.Response) string {
	t.Helper()
	if r.Status != http.StatusAccepted || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%s: %d %s (Cache-Control %q)", what, r.Status, r.Body, r.Header.Get("Cache-Control"))
	}
	return string(r.Body)
}

func wantProblem(t *testing.T, what string, r *apptest.Response, status int, code string) {
	t.Helper()
	if r.Status != status || !strings.Contains(string(r.Body), `"code":"`+code+`"`) {
		t.Errorf("%s: %d %s, want %d %s", what, r.Status, r.Body, status, code)
	}
}

// TestEmailVerificationAndResetOverHTTP runs verification and password
// reset through the API, reading the delivered mails (.eml files).
func TestEmailVerificationAndResetOverHTTP(t *testing.T) {
	forEachStore(t, verificationAndResetScenario)
}

func verificationAndResetScenario(t *testing.T, db []string) {
	srv := apptest.Start(t, append([]string{"--public-url", publicURL + "/"}, db...)...)
	box := &mailbox{srv: srv}
	tok := signup(t, srv, "ada@example.com")
	if tok["user"].(map[string]any)["email_verified"] != false {
		t.Errorf("sign-up user: %v", tok["user"])
	}
	link, token, code := box.await(t, "verify-email", "ada@example.com")
	if !strings.HasPrefix(link, publicURL+"/verify-email?token=") || code == "" {
		t.Fatalf("verification link %q", link)
	}
	wantProblem(t, "a wrong code", srv.Do(t, "POST", "/v1/auth/email-verification/confirm",
		map[string]string{"email": "ada@example.com", "code": wrongCode(code)}), 400, "invalid_grant")
	r := srv.Do(t, "POST", "/v1/auth/email-verification/confirm", map[string]string{"token": token})
	if r.Status != 200 || strings.TrimSpace(string(r.Body)) != `{"email_verified":true}` || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	wantProblem(t, "the link twice", srv.Do(t, "POST", "/v1/auth/email-verification/confirm", map[string]string{"token": token}), 400, "invalid_grant")
	login := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "ada@example.com", "password": goodPassword}).JSON(t)
	me := srv.Do(t, "GET", "/v1/me", nil, bearer(login["access_token"])...)
	if me.JSON(t)["email_verified"] != true {
		t.Errorf("me: %s", me.Body)
	}

	// Forgot password: the same answer for an unknown address; a forged
	// Host and X-Forwarded-Host do not reach the link (AUTH-14).
	forged := []string{"Host", "evil.test", "X-Forwarded-Host", "evil.test", "X-Forwarded-Proto", "http"}
	known := wantAccepted(t, "forgot (known)", srv.Do(t, "POST", "/v1/auth/password/forgot", map[string]string{"email": "ada@example.com"}, forged...))
	unknown := wantAccepted(t, "forgot (unknown)", srv.Do(t, "POST", "/v1/auth/password/forgot", map[string]string{"email": "nobody@example.com"}, forged...))
	if known != unknown {
		t.Errorf("forgot answers differ:\n%s\n%s", known, unknown)
	}
	link, token, code = box.await(t, "password-reset", "ada@example.com")
	if !strings.HasPrefix(link, publicURL+"/reset-password?token=") || strings.Contains(link, "evil") {
		t.Fatalf("reset link %q", link)
	}
	box.none(t, "nobody@example.com")
	wantProblem(t, "a weak password", srv.Do(t, "POST", "/v1/auth/password/reset",
		map[string]string{"email": "ada@example.com", "code": code, "new_password": "password"}), 422, "weak_password")
	r = srv.Do(t, "POST", "/v1/auth/password/reset", map[string]string{"email": "ada@example.com", "code": code, "new_password": "a brand new passphrase"})
	if r.Status != http.StatusNoContent {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}
	wantProblem(t, "the link after the code", srv.Do(t, "POST", "/v1/auth/password/reset",
		map[string]string{"token": token, "new_password": "yet another passphrase"}), 400, "invalid_grant")
	for _, rt := range []any{tok["refresh_token"], login["refresh_token"]} {
		wantProblem(t, "a refresh token after the reset", srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": rt}), 400, "invalid_grant")
	}
	if r := srv.Do(t, "GET", "/v1/me", nil, bearer(login["access_token"])...); r.Status != 401 {
		t.Errorf("a session survived the reset: %d", r.Status)
	}
	box.await(t, "password-changed", "ada@example.com")
	if r := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "ada@example.com", "password": "a brand new passphrase"}); r.Status != 200 {
		t.Errorf("login with the new password: %d %s", r.Status, r.Body)
	}
	wantProblem(t, "a malformed proof", srv.Do(t, "POST", "/v1/auth/password/reset", map[string]string{"code": "12345678", "new_password": "x"}), 400, "invalid_request")
}

func wrongCode(code string) string {
	if code == "00000000" {
		return "11111111"
	}
	return "00000000"
}

// TestEmailVerificationRequiredOverHTTP: sign-up answers 202 alike for new
// and registered addresses (AUTH-03); sign-in waits for the address.
func TestEmailVerificationRequiredOverHTTP(t *testing.T) {
	srv := apptest.Start(t, "--email-verification", "required")
	box := &mailbox{srv: srv}
	body := map[string]string{"email": "ada@example.com", "password": goodPassword}
	first := wantAccepted(t, "sign-up", srv.Do(t, "POST", "/v1/auth/signup", body))
	_, _, code := box.await(t, "verify-email", "ada@example.com")
	wantProblem(t, "login before confirming", srv.Do(t, "POST", "/v1/auth/login", body), 403, "email_not_verified")
	r := srv.Do(t, "POST", "/v1/auth/email-verification/confirm", map[string]string{"email": "ada@example.com", "code": code})
	if r.Status != 200 {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	again := wantAccepted(t, "sign-up again", srv.Do(t, "POST", "/v1/auth/signup", map[string]string{"email": "ADA@example.com", "password": "another passphrase"}))
	if first != again {
		t.Errorf("sign-up answers differ:\n%s\n%s", first, again)
	}
	box.await(t, "password-reset", "ada@example.com") // the owner hears of it
	if r := srv.Do(t, "POST", "/v1/auth/login", body); r.Status != 200 || r.JSON(t)["user"].(map[string]any)["email_verified"] != true {
		t.Errorf("login after confirming: %d %s", r.Status, r.Body)
	}
}

// TestEmailChangeAndSignInOverHTTP: sign in by mail, change the address
// (fresh sign-in), confirm it, and undo it from the old address.
func TestEmailChangeAndSignInOverHTTP(t *testing.T) { forEachStore(t, emailChangeAndSignInScenario) }

func emailChangeAndSignInScenario(t *testing.T, db []string) {
	srv := apptest.Start(t, append([]string{"--email-sign-in", "--email-verification", "off"}, db...)...)
	box := &mailbox{srv: srv}
	signup(t, srv, "ada@example.com")
	box.none(t, "ada@example.com")
	a := wantAccepted(t, "start", srv.Do(t, "POST", "/v1/auth/email/start", map[string]string{"email": "ada@example.com"}))
	b := wantAccepted(t, "start (unknown)", srv.Do(t, "POST", "/v1/auth/email/start", map[string]string{"email": "nobody@example.com"}))
	if a != b {
		t.Errorf("answers differ")
	}
	link, token, _ := box.await(t, "sign-in", "ada@example.com")
	if !strings.HasPrefix(link, srv.URL+"/email-sign-in?token=") {
		t.Errorf("link %q is not under the issuer", link)
	}
	r := srv.Do(t, "POST", "/v1/auth/email/verify", map[string]string{"token": token})
	if r.Status != 200 || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	tok := r.JSON(t)
	if tok["user"].(map[string]any)["email_verified"] != true {
		t.Errorf("user %v", tok["user"])
	}
	auth := bearer(tok["access_token"])

	wantAccepted(t, "change", srv.Do(t, "POST", "/v1/me/email", map[string]string{"email": "ada@new.example"}, auth...))
	_, confirm, _ := box.await(t, "email-change", "ada@new.example")
	_, cancel, _ := box.await(t, "email-change-notice", "ada@example.com")
	r = srv.Do(t, "POST", "/v1/me/email/confirm", map[string]string{"token": confirm}, auth...)
	if r.Status != 200 || r.String(t, "email") != "ada@new.example" || r.JSON(t)["email_verified"] != true {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	if r := srv.Do(t, "POST", "/v1/me/email/confirm", map[string]string{"token": confirm}, auth...); r.Status != 400 {
		t.Errorf("confirm twice: %d", r.Status)
	}
	// "This wasn't me": back to the old address, every session ended.
	if r := srv.Do(t, "POST", "/v1/auth/email-change/cancel", map[string]string{"token": cancel}); r.Status != 204 {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	if r := srv.Do(t, "GET", "/v1/me", nil, auth...); r.Status != 401 {
		t.Errorf("the session survived the cancel: %d", r.Status)
	}
	if r := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "ada@example.com", "password": goodPassword}); r.Status != 200 {
		t.Errorf("login with the old address: %d %s", r.Status, r.Body)
	}
	// Without --email-sign-in the endpoints are not there to use.
	off := apptest.Start(t)
	wantProblem(t, "start without --email-sign-in", off.Do(t, "POST", "/v1/auth/email/start", map[string]string{"email": "ada@example.com"}), 404, "not_found")
}

// TestMailedRequestsAreThrottledPerAddress: one mail a minute per address,
// however the address is written and whichever flow asks (AUTH-17).
func TestMailedRequestsAreThrottledPerAddress(t *testing.T) {
	srv := apptest.StartWith(t, apptest.Options{RateLimits: true})
	signup(t, srv, "ada@example.com")
	wantAccepted(t, "first", srv.Do(t, "POST", "/v1/auth/password/forgot", map[string]string{"email": "ada@example.com"}))
	for _, c := range []struct{ path, email string }{
		{"/v1/auth/password/forgot", "ADA@example.com."},
		{"/v1/auth/email-verification", "ada@example.com"},
	} {
		r := srv.Do(t, "POST", c.path, map[string]string{"email": c.email})
		wantProblem(t, c.path+" "+c.email, r, 429, "rate_limited")
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("%s: no Retry-After", c.path)
		}
	}
	wantAccepted(t, "another address", srv.Do(t, "POST", "/v1/auth/password/forgot", map[string]string{"email": "bob@example.com"}))
}

// TestPasswordResetOverSMTP: a reset end to end over real SMTP, to a mail
// server latchkey did not write (Mailpit), following the mailed link.
func TestPasswordResetOverSMTP(t *testing.T) {
	mp := testenv.StartMailpit(t)
	srv := apptest.Start(t, "--smtp-url", "smtp://"+mp.SMTPAddr, "--public-url", publicURL)
	box := &mailbox{srv: srv, mp: mp}
	tok := signup(t, srv, "ada@example.com")
	box.await(t, "verify-email", "ada@example.com")
	wantAccepted(t, "forgot", srv.Do(t, "POST", "/v1/auth/password/forgot", map[string]string{"email": "ada@example.com"},
		"X-Forwarded-Host", "evil.test"))
	link, token, _ := box.await(t, "password-reset", "ada@example.com")
	if !strings.HasPrefix(link, publicURL+"/reset-password?token=") {
		t.Fatalf("link %q", link)
	}
	if r := srv.Do(t, "POST", "/v1/auth/password/reset", map[string]string{"token": token, "new_password": "a brand new passphrase"}); r.Status != 204 {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}
	box.await(t, "password-changed", "ada@example.com")
	wantProblem(t, "the old refresh token", srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": tok["refresh_token"]}), 400, "invalid_grant")
	if r := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "ada@example.com", "password": "a brand new passphrase"}); r.Status != 200 {
		t.Errorf("login: %d %s", r.Status, r.Body)
	}
}
