package web

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestEmailPages(t *testing.T) {
	p, err := NewPages()
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	v := EmailActionView{Title: "Reset your password", Intro: "Choose a new password.", Button: "Reset", Action: "/reset-password",
		Token: `tok"><script>`, NewPassword: true, MinPasswordLength: 8}
	if err := p.EmailAction(rec, 200, v); err != nil {
		t.Fatal(err)
	}
	body := rec.Body.String()
	if strings.Contains(body, "<script>") || !strings.Contains(body, `name="token" value="tok&#34;&gt;&lt;script&gt;"`) ||
		!strings.Contains(body, `name="new_password"`) || rec.Header().Get("Content-Security-Policy") != ContentSecurityPolicy {
		t.Errorf("action page:\n%s", body)
	}
	rec = httptest.NewRecorder()
	v.Done, v.Next, v.NextLabel = "Your password was changed.", "/login", "Sign in"
	if err := p.EmailAction(rec, 200, v); err != nil {
		t.Fatal(err)
	}
	if body := rec.Body.String(); strings.Contains(body, `name="token"`) || !strings.Contains(body, `id="action-next"`) {
		t.Errorf("a used link still shows its form:\n%s", body)
	}
	rec = httptest.NewRecorder()
	if err := p.EmailRequest(rec, 202, EmailRequestView{Title: "Forgot your password?", Button: "Send", Action: "/forgot-password",
		Done: "If an account uses that address, a mail is on its way."}); err != nil {
		t.Fatal(err)
	}
	if body := rec.Body.String(); rec.Code != 202 || !strings.Contains(body, `action="/forgot-password"`) || !strings.Contains(body, "request-done") {
		t.Errorf("request page %d:\n%s", rec.Code, body)
	}
}
