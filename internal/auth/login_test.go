package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/password"
)

func TestSignup(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	tok, err := f.svc.Signup(ctx, auth.SignupInput{Email: " Ada@Example.TEST ", Password: oldPassword, Name: " Ada ",
		Roles: []string{latchkey.RoleAdmin}}, auth.Meta{IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	u := f.reload(t, tok.User.ID)
	if u.Email != "ada@example.test" || u.Name != "Ada" || len(u.Roles) != 1 || u.Roles[0] != latchkey.RoleUser {
		t.Errorf("signed up %+v; want the canonical email, the trimmed name and the role user only", u)
	}
	if u.EmailVerified() {
		t.Error("a password sign-up proved its address")
	}
	c, err := f.tokens.Verify(tok.AccessToken.Reveal())
	if err != nil || c.Subject != u.ID || c.SessionID != tok.Session.ID {
		t.Errorf("access token: %+v, %v", c, err)
	}
	if f.revoked(t, tok.Session.ID) || !tok.RefreshExpiresAt.Equal(t0.Add(absoluteTTL)) {
		t.Errorf("session: revoked %v, refresh token expires %v", f.revoked(t, tok.Session.ID), tok.RefreshExpiresAt)
	}
	if n := f.auditReasons(t, latchkey.AuditSignup)["success "]; n != 1 {
		t.Errorf("signup audited %d times", n)
	}
}

// Every refusal of a sign-up, and that a refused one leaves nothing behind.
func TestSignupRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.signup(t, "taken@example.test")
	for _, c := range []struct {
		name string
		in   auth.SignupInput
		want string
	}{
		{"no email", auth.SignupInput{Password: oldPassword}, latchkey.EInvalidRequest},
		{"malformed email", auth.SignupInput{Email: "not an email", Password: oldPassword}, latchkey.EInvalidRequest},
		{"look-alike email", auth.SignupInput{Email: "\u212Aate@example.test", Password: oldPassword}, latchkey.EInvalidRequest},
		{"over-long email", auth.SignupInput{Email: strings.Repeat("a", 250) + "@example.test", Password: oldPassword}, latchkey.EInvalidRequest},
		{"name with a control character", auth.SignupInput{Email: "n@example.test", Password: oldPassword, Name: "a\u202eb"}, latchkey.EInvalidRequest},
		{"over-long name", auth.SignupInput{Email: "n@example.test", Password: oldPassword, Name: strings.Repeat("n", auth.MaxNameLength+1)}, latchkey.EInvalidRequest},
		{"short password", auth.SignupInput{Email: "p@example.test", Password: "short"}, latchkey.EWeakPassword},
		{"common password", auth.SignupInput{Email: "p@example.test", Password: "password123"}, latchkey.EWeakPassword},
		{"password made of the email", auth.SignupInput{Email: "margaret@example.test", Password: "margaret@example.test"}, latchkey.EWeakPassword},
		{"repeated password", auth.SignupInput{Email: "p@example.test", Password: "abcabcabcabc"}, latchkey.EWeakPassword},
		{"over-long password", auth.SignupInput{Email: "p@example.test", Password: strings.Repeat("x", password.MaxBytes+1)}, latchkey.EInvalidRequest},
		{"password with a control character", auth.SignupInput{Email: "p@example.test", Password: "long enough\x00really"}, latchkey.EInvalidRequest},
		{"duplicate email", auth.SignupInput{Email: "taken@example.test", Password: oldPassword}, latchkey.EConflict},
		{"duplicate email in another case", auth.SignupInput{Email: "TAKEN@example.test.", Password: oldPassword}, latchkey.EConflict},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.svc.Signup(ctx, c.in, auth.Meta{})
			wantCode(t, "Signup", err, c.want)
			if err != nil && strings.Contains(err.Error(), c.in.Password) && c.in.Password != "" {
				t.Errorf("the error quotes the password: %v", err)
			}
		})
	}
	users, _, err := f.db.ListUsers(ctx, latchkey.UserFilter{Page: latchkey.Page{Limit: 10}})
	if err != nil || len(users) != 1 {
		t.Errorf("%d users after refused sign-ups (%v), want the first one only", len(users), err)
	}
	if n := len(f.auditReasons(t, latchkey.AuditSignup)); n != 1 {
		t.Errorf("signups audited: %v", f.auditReasons(t, latchkey.AuditSignup))
	}
}

// Every refusal of a login, each after exactly one password check (a
// dummy one where there is no hash to check: an unknown email costs what a
// wrong password costs), audited with its reason and answered alike.
func TestLoginRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	alice, _ := f.user(t, "alice@example.test")
	disabled, _ := f.user(t, "disabled@example.test")
	if _, err := f.svc.UpdateUser(ctx, disabled.ID, auth.UserChanges{Disabled: ptr(true)}, auth.Actor{}); err != nil {
		t.Fatal(err)
	}
	social, err := f.svc.OAuthLogin(ctx, auth.OAuthProfile{Provider: "idp", Subject: "1", Email: "social@example.test", EmailVerified: true}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	var answers []string
	for _, c := range []struct {
		name, email, password string
		reason                string // of login.failed; "" when nothing is audited
		dummy                 bool
		user                  *latchkey.User
	}{
		{"malformed email", "alice at example.test", oldPassword, "malformed_email", true, nil},
		{"unknown email", "nobody@example.test", oldPassword, "unknown_email", true, nil},
		{"wrong password", alice.Email, "not the password", "wrong_password", false, alice},
		{"wrong password, other case", "ALICE@example.test", strings.ToUpper(oldPassword), "wrong_password", false, alice},
		{"disabled", disabled.Email, oldPassword, "disabled", false, disabled},
		{"no password (social login account)", social.Email, oldPassword, "no_password", true, social},
	} {
		t.Run(c.name, func(t *testing.T) {
			checks, dummies := f.hasher.checks.Load(), f.hasher.dummies.Load()
			before := f.auditReasons(t, latchkey.AuditLoginFailed)["failure "+c.reason]
			_, err := f.svc.Login(ctx, c.email, c.password, auth.Meta{})
			wantCode(t, "Login", err, latchkey.EInvalidCredentials)
			if err != nil {
				answers = append(answers, err.Error())
			}
			if n := f.hasher.checks.Load() - checks; n != 1 {
				t.Errorf("%d password checks, want 1", n)
			}
			if got := f.hasher.dummies.Load()-dummies == 1; got != c.dummy {
				t.Errorf("dummy check: %v, want %v", got, c.dummy)
			}
			if n := f.auditReasons(t, latchkey.AuditLoginFailed)["failure "+c.reason] - before; n != 1 {
				t.Errorf("login.failed %s audited %d times", c.reason, n)
			}
			if got := f.events.last(&f.events.logins); got != "failure" {
				t.Errorf("login event %q, want failure", got)
			}
			if c.user != nil {
				if live, _ := f.svc.ListSessions(ctx, c.user.ID); len(live) > 1 {
					t.Errorf("a refused login started a session: %d live", len(live))
				}
			}

			// A saturated hasher is reported as such, whatever the cause.
			f.hasher.busy.Store(true)
			defer f.hasher.busy.Store(false)
			_, err = f.svc.Login(ctx, c.email, c.password, auth.Meta{})
			wantCode(t, "Login with a busy hasher", err, latchkey.EUnavailable)
		})
	}
	for _, a := range answers {
		if a != answers[0] {
			t.Errorf("refusals differ: %q and %q", answers[0], a)
		}
	}

	// Input that is refused before any work: nothing hashed, nothing audited.
	for name, pw := range map[string]string{
		"over-long password": strings.Repeat("p", password.MaxBytes+1),
		"invalid UTF-8":      "pass\xffword",
		"control character":  "pass\nword",
	} {
		checks, audited := f.hasher.checks.Load(), len(f.auditReasons(t, latchkey.AuditLoginFailed))
		_, err := f.svc.Login(ctx, alice.Email, pw, auth.Meta{})
		wantCode(t, name, err, latchkey.EInvalidRequest)
		if f.hasher.checks.Load() != checks || len(f.auditReasons(t, latchkey.AuditLoginFailed)) != audited {
			t.Errorf("%s: hashed or audited", name)
		}
	}
}

func TestLogin(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	alice, first := f.user(t, "alice@example.test")
	tok, err := f.svc.Login(ctx, " Alice@Example.test", oldPassword, auth.Meta{IP: "192.0.2.7", UserAgent: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if tok.User.ID != alice.ID || tok.Session.ID == first.ID || tok.Session.IP != "192.0.2.7" {
		t.Errorf("login: user %s session %+v", tok.User.ID, tok.Session)
	}
	p, err := f.svc.AuthenticateAccessToken(ctx, tok.AccessToken.Reveal())
	if err != nil || p.User.ID != alice.ID || p.SessionID != tok.Session.ID || !p.AuthTime.Equal(tok.Session.AuthTime.Truncate(time.Microsecond)) {
		t.Errorf("the access token: %+v, %v", p, err)
	}
	if n := f.auditReasons(t, latchkey.AuditLoginSucceeded)["success "]; n != 1 {
		t.Errorf("login.succeeded audited %d times", n)
	}
	if got := f.events.last(&f.events.logins); got != "success" {
		t.Errorf("login event %q", got)
	}
}

func ptr[T any](v T) *T { return &v }
