package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
)

// TestForgotPasswordSameAnswer: known, unknown, disabled and malformed-
// but-valid addresses get the same answer; only the known account's
// stored address gets a mail, and no answer waits for hashing.
func TestForgotPasswordSameAnswer(t *testing.T) {
	f := newFixture(t)
	u, _ := f.user(t, "ada@example.com")
	d, _ := f.user(t, "dis@example.com")
	disabled := true
	if _, err := f.db.UpdateUser(t.Context(), d.ID, latchkey.UserPatch{Disabled: &disabled, UpdatedAt: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	before := f.hasher.checks.Load()
	for _, addr := range []string{"nobody@example.com", "dis@example.com", " ADA@Example.com. "} {
		if err := f.svc.ForgotPassword(t.Context(), addr, auth.Meta{}); err != nil {
			t.Errorf("%s: %v", addr, err)
		}
	}
	if f.hasher.checks.Load() != before {
		t.Error("a forgot-password request hashed")
	}
	m := f.oneMail(t, "password-reset", u.Email)
	if !strings.HasPrefix(m.Link, testPublicURL+auth.PageResetPassword+"?token=") || !strings.Contains(m.Text, "30 minutes") {
		t.Errorf("mail: %s", m.Text)
	}
	if got := f.auditReasons(t, latchkey.AuditPasswordResetAsked); got["success "] != 1 || got["failure unknown_email"] != 1 || got["failure disabled"] != 1 {
		t.Errorf("audit %v", got)
	}
	wantCode(t, "a malformed address", f.svc.ForgotPassword(t.Context(), "not an address", auth.Meta{}), latchkey.EInvalidRequest)
}

func TestResetPassword(t *testing.T) {
	for _, byCode := range []bool{false, true} {
		t.Run(map[bool]string{false: "link", true: "code"}[byCode], func(t *testing.T) {
			f := newFixture(t)
			tok := f.signup(t, "ada@example.com")
			f.mails(t)
			_, other := f.user(t, "bob@example.com")
			u := tok.User
			extra := f.session(t, u)
			if err := f.svc.ForgotPassword(t.Context(), u.Email, auth.Meta{}); err != nil {
				t.Fatal(err)
			}
			m := f.oneMail(t, "password-reset", u.Email)
			proof := auth.EmailProof{Token: m.Token}
			if byCode {
				proof = auth.EmailProof{Email: u.Email, Code: m.Code}
			}
			// A weak password is refused and leaves the token unspent.
			wantCode(t, "weak", f.svc.ResetPassword(t.Context(), proof, "ada@example.com", auth.Meta{}), latchkey.EWeakPassword)
			f.clock.Advance(auth.PasswordResetTTL - 2*time.Second)
			if err := f.svc.ResetPassword(t.Context(), proof, newPassword, auth.Meta{}); err != nil {
				t.Fatal(err)
			}
			after := f.reload(t, u.ID)
			if after.PasswordHash == u.PasswordHash || !after.EmailVerified() {
				t.Error("hash not replaced, or address not marked proven")
			}
			for _, id := range []string{tok.Session.ID, extra.ID} {
				if !f.revoked(t, id) {
					t.Errorf("session %s survived the reset", id)
				}
			}
			if f.revoked(t, other.ID) {
				t.Error("another account's session ended")
			}
			if _, err := f.svc.Refresh(t.Context(), tok.RefreshToken.Reveal(), auth.Meta{}); err == nil {
				t.Error("the refresh token survived the reset")
			}
			if f.oneMail(t, "password-changed", u.Email).Link != testPublicURL+auth.PageForgotPassword {
				t.Error("the notice links elsewhere")
			}
			if f.auditReasons(t, latchkey.AuditPasswordReset)["success "] != 1 {
				t.Error("password.reset not audited")
			}
			wantCode(t, "the token again", f.svc.ResetPassword(t.Context(), proof, "another long password", auth.Meta{}), latchkey.EInvalidGrant)
			wantCode(t, "the old password", loginErr(t, f, u.Email, oldPassword), latchkey.EInvalidCredentials)
			if err := loginErr(t, f, u.Email, newPassword); err != nil {
				t.Errorf("new password: %v", err)
			}
		})
	}
}

func TestResetPasswordExpired(t *testing.T) {
	f := newFixture(t)
	u, _ := f.user(t, "ada@example.com")
	_ = f.svc.ForgotPassword(t.Context(), u.Email, auth.Meta{})
	m := f.oneMail(t, "password-reset", u.Email)
	f.clock.Advance(auth.PasswordResetTTL)
	wantCode(t, "after 30 minutes", f.svc.ResetPassword(t.Context(), auth.EmailProof{Token: m.Token}, newPassword, auth.Meta{}), latchkey.EInvalidGrant)
	if f.reload(t, u.ID).PasswordHash != u.PasswordHash {
		t.Error("password changed")
	}
}

func loginErr(t *testing.T, f *fixture, email, pw string) error {
	_, err := f.svc.Login(t.Context(), email, pw, auth.Meta{})
	return err
}

func TestVerificationRequired(t *testing.T) {
	f := newFixture(t, func(c *auth.Config) { c.Email.Verification = auth.VerificationRequired })
	in := auth.SignupInput{Email: "ada@example.com", Password: oldPassword}
	if err := f.svc.SignupPending(t.Context(), in, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	m := f.oneMail(t, "verify-email", "ada@example.com")
	wantCode(t, "login before verification", loginErr(t, f, "ada@example.com", oldPassword), latchkey.EEmailNotVerified)
	wantCode(t, "a wrong password is still just wrong", loginErr(t, f, "ada@example.com", "wrong password here"), latchkey.EInvalidCredentials)
	_, err := f.svc.Signup(t.Context(), auth.SignupInput{Email: "x@example.com", Password: oldPassword}, auth.Meta{})
	if err == nil {
		t.Error("Signup with tokens while verification is required")
	}

	// The same address again: the same answer, no second account; the
	// unproven owner gets the verification mail again.
	if err := f.svc.SignupPending(t.Context(), auth.SignupInput{Email: "ADA@example.com", Password: "some other password"}, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	again := f.oneMail(t, "verify-email", "ada@example.com")
	wantCode(t, "the first mail", confirmErr(t, f, m.Token), latchkey.EInvalidGrant)
	if err := confirmErr(t, f, again.Token); err != nil {
		t.Fatal(err)
	}
	if err := loginErr(t, f, "ada@example.com", oldPassword); err != nil {
		t.Fatalf("login after verification: %v", err)
	}
	// Once proven, a sign-up with the address mails its owner a reset link.
	if err := f.svc.SignupPending(t.Context(), auth.SignupInput{Email: "ada@example.com", Password: "some other password"}, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	f.oneMail(t, "password-reset", "ada@example.com")
	if err := loginErr(t, f, "ada@example.com", "some other password"); err == nil {
		t.Error("the second sign-up's password works")
	}
	wantCode(t, "a weak password", f.svc.SignupPending(t.Context(), auth.SignupInput{Email: "new@example.com", Password: "123"}, auth.Meta{}), latchkey.EWeakPassword)
}

func confirmErr(t *testing.T, f *fixture, token string) error {
	_, err := f.svc.ConfirmEmail(t.Context(), auth.EmailProof{Token: token}, auth.Meta{})
	return err
}
