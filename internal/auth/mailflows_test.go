package auth_test

import (
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
)

// sentMail is a queued mail with the secrets it carries.
type sentMail struct {
	latchkey.OutboxMail
	Link, Token, Code string
}

var (
	linkRE = regexp.MustCompile(`https?://[^\s"<]+`)
	codeRE = regexp.MustCompile(`\b[0-9]{8}\b`)
)

// mails returns the mails queued since the last call (the outbox, read as
// a sender would).
func (f *fixture) mails(t testing.TB) []sentMail {
	t.Helper()
	got, err := f.db.ClaimMail(t.Context(), f.clock.Now().Add(time.Second), time.Hour, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]sentMail, 0, len(got))
	for _, m := range got {
		s := sentMail{OutboxMail: m, Link: linkRE.FindString(m.Text), Code: codeRE.FindString(m.Text)}
		if _, tok, ok := strings.Cut(s.Link, "?token="); ok {
			s.Token = tok
		}
		out = append(out, s)
	}
	return out
}

// oneMail returns the one mail queued since the last read, of kind to to.
func (f *fixture) oneMail(t *testing.T, kind, to string) sentMail {
	t.Helper()
	ms := f.mails(t)
	if len(ms) != 1 || ms[0].Kind != kind || ms[0].To != to {
		var got []string
		for _, m := range ms {
			got = append(got, m.Kind+" to "+m.To)
		}
		t.Fatalf("mails %v, want one %s to %s", got, kind, to)
	}
	return ms[0]
}

func TestSignupSendsVerification(t *testing.T) {
	f := newFixture(t)
	tok := f.signup(t, "ada@example.com")
	if c, err := f.tokens.Verify(tok.AccessToken.Reveal()); err != nil || c.EmailVerified {
		t.Fatalf("sign-up token: email_verified %v, %v", c.EmailVerified, err)
	}
	m := f.oneMail(t, "verify-email", "ada@example.com")
	if !strings.HasPrefix(m.Link, testPublicURL+auth.PageVerifyEmail+"?token=") || len(m.Token) < 43 || len(m.Code) != 8 {
		t.Fatalf("link %q code %q", m.Link, m.Code)
	}
	if !strings.Contains(m.Text, "24 hours") || f.nudges.Load() != 1 {
		t.Errorf("lifetime in mail / nudges: %d\n%s", f.nudges.Load(), m.Text)
	}
	if f.auditReasons(t, latchkey.AuditEmailVerificationSent)["success "] != 1 {
		t.Error("verification_sent not audited")
	}
	u, err := f.svc.ConfirmEmail(t.Context(), auth.EmailProof{Token: m.Token}, auth.Meta{})
	if err != nil || !u.EmailVerified() || !f.reload(t, u.ID).EmailVerified() {
		t.Fatalf("confirm: %v", err)
	}
	if f.auditReasons(t, latchkey.AuditEmailVerified)["success "] != 1 {
		t.Error("email.verified not audited")
	}
	_, err = f.svc.ConfirmEmail(t.Context(), auth.EmailProof{Token: m.Token}, auth.Meta{})
	wantCode(t, "the link a second time", err, latchkey.EInvalidGrant)
	_, err = f.svc.ConfirmEmail(t.Context(), auth.EmailProof{Email: "ada@example.com", Code: m.Code}, auth.Meta{})
	wantCode(t, "the code after the link", err, latchkey.EInvalidGrant)
	login, err := f.svc.Login(t.Context(), "ada@example.com", oldPassword, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := f.tokens.Verify(login.AccessToken.Reveal()); err != nil || !c.EmailVerified {
		t.Errorf("token after verification: email_verified %v, %v", c.EmailVerified, err)
	}
}

func TestVerificationOffSendsNothing(t *testing.T) {
	f := newFixture(t, func(c *auth.Config) { c.Email.Verification = auth.VerificationOff })
	f.signup(t, "ada@example.com")
	if err := f.svc.SendVerification(t.Context(), "ada@example.com", auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	if ms := f.mails(t); len(ms) != 0 {
		t.Errorf("%d mails with verification off", len(ms))
	}
}

// TestEmailProofRefusals runs every refusal of a mailed proof, on the
// verification flow (the machinery is the same for every purpose).
func TestEmailProofRefusals(t *testing.T) {
	const addr = "ada@example.com"
	confirm := func(f *fixture, p auth.EmailProof) error {
		_, err := f.svc.ConfirmEmail(t.Context(), p, auth.Meta{})
		return err
	}
	cases := []struct {
		name string
		run  func(t *testing.T, f *fixture, m sentMail)
	}{
		{"expired link", func(t *testing.T, f *fixture, m sentMail) {
			f.clock.Advance(auth.VerifyEmailTTL)
			wantCode(t, "at expiry", confirm(f, auth.EmailProof{Token: m.Token}), latchkey.EInvalidGrant)
		}},
		{"just before expiry", func(t *testing.T, f *fixture, m sentMail) {
			f.clock.Advance(auth.VerifyEmailTTL - time.Second)
			if err := confirm(f, auth.EmailProof{Email: addr, Code: m.Code}); err != nil {
				t.Fatal(err)
			}
		}},
		{"five wrong codes kill it", func(t *testing.T, f *fixture, m sentMail) {
			wrong := "00000000"
			if wrong == m.Code {
				wrong = "11111111"
			}
			for i := range auth.MaxCodeAttempts {
				wantCode(t, "wrong code "+string(rune('1'+i)), confirm(f, auth.EmailProof{Email: addr, Code: wrong}), latchkey.EInvalidGrant)
			}
			wantCode(t, "the right code after five wrong", confirm(f, auth.EmailProof{Email: addr, Code: m.Code}), latchkey.EInvalidGrant)
		}},
		{"four wrong codes do not", func(t *testing.T, f *fixture, m sentMail) {
			for range auth.MaxCodeAttempts - 1 {
				_ = confirm(f, auth.EmailProof{Email: addr, Code: "99999999"})
			}
			if err := confirm(f, auth.EmailProof{Email: addr, Code: m.Code}); err != nil && m.Code != "99999999" {
				t.Fatal(err)
			}
		}},
		{"code for another address", func(t *testing.T, f *fixture, m sentMail) {
			f.user(t, "eve@example.com")
			f.mails(t)
			wantCode(t, "ada's code as eve's", confirm(f, auth.EmailProof{Email: "eve@example.com", Code: m.Code}), latchkey.EInvalidGrant)
		}},
		{"token of another purpose", func(t *testing.T, f *fixture, m sentMail) {
			if err := f.svc.ForgotPassword(t.Context(), addr, auth.Meta{}); err != nil {
				t.Fatal(err)
			}
			reset := f.oneMail(t, "password-reset", addr)
			wantCode(t, "a reset link as a verification", confirm(f, auth.EmailProof{Token: reset.Token}), latchkey.EInvalidGrant)
			wantCode(t, "a reset code as a verification", confirm(f, auth.EmailProof{Email: addr, Code: reset.Code}), latchkey.EInvalidGrant)
			wantCode(t, "a verification link as a reset", f.svc.ResetPassword(t.Context(), auth.EmailProof{Token: m.Token}, newPassword, auth.Meta{}), latchkey.EInvalidGrant)
		}},
		{"a new request voids the previous mail", func(t *testing.T, f *fixture, m sentMail) {
			if err := f.svc.SendVerification(t.Context(), " ADA@example.com ", auth.Meta{}); err != nil {
				t.Fatal(err)
			}
			again := f.oneMail(t, "verify-email", addr)
			wantCode(t, "the first link", confirm(f, auth.EmailProof{Token: m.Token}), latchkey.EInvalidGrant)
			if err := confirm(f, auth.EmailProof{Token: again.Token}); err != nil {
				t.Fatal(err)
			}
		}},
		{"a tampered or malformed token", func(t *testing.T, f *fixture, m sentMail) {
			last := "A" // a changed last character (one in 64 tokens already ends in A)
			if strings.HasSuffix(m.Token, last) {
				last = "B"
			}
			wantCode(t, "tampered", confirm(f, auth.EmailProof{Token: m.Token[:len(m.Token)-1] + last}), latchkey.EInvalidGrant)
			wantCode(t, "too long", confirm(f, auth.EmailProof{Token: strings.Repeat("a", 5000)}), latchkey.EInvalidGrant)
			wantCode(t, "a code of 7 digits", confirm(f, auth.EmailProof{Email: addr, Code: m.Code[:7]}), latchkey.EInvalidGrant)
			wantCode(t, "both forms", confirm(f, auth.EmailProof{Token: m.Token, Email: addr, Code: m.Code}), latchkey.EInvalidRequest)
			wantCode(t, "neither", confirm(f, auth.EmailProof{}), latchkey.EInvalidRequest)
		}},
		{"the address changed since", func(t *testing.T, f *fixture, m sentMail) {
			u, err := f.db.UserByEmail(t.Context(), addr)
			if err != nil {
				t.Fatal(err)
			}
			other := "ada2@example.com"
			if _, err := f.db.UpdateUser(t.Context(), u.ID, latchkey.UserPatch{Email: &other, UpdatedAt: f.clock.Now()}); err != nil {
				t.Fatal(err)
			}
			wantCode(t, "a link for the old address", confirm(f, auth.EmailProof{Token: m.Token}), latchkey.EInvalidGrant)
		}},
		{"concurrent submissions: one wins", func(t *testing.T, f *fixture, m sentMail) {
			var wg sync.WaitGroup
			errs := make([]error, 8)
			for i := range errs {
				wg.Go(func() {
					p := auth.EmailProof{Token: m.Token}
					if i%2 == 1 {
						p = auth.EmailProof{Email: addr, Code: m.Code}
					}
					errs[i] = confirm(f, p)
				})
			}
			wg.Wait()
			ok := 0
			for _, err := range errs {
				if err == nil {
					ok++
				} else if !latchkey.IsCode(err, latchkey.EInvalidGrant) {
					t.Errorf("a losing submission: %v", err)
				}
			}
			if ok != 1 {
				t.Errorf("%d of %d concurrent submissions succeeded, want 1", ok, len(errs))
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.signup(t, addr)
			c.run(t, f, f.oneMail(t, "verify-email", addr))
		})
	}
}
