package auth_test

import (
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/latchkey/latchkey/internal/auth"
)

// BenchmarkForgotPassword is the work behind one forgot-password request
// for a known address: the lookup, a new token, its mail rendered and
// written to the outbox in one transaction. It involves no password hash.
func BenchmarkForgotPassword(b *testing.B) {
	f := newFixture(b)
	if _, err := f.svc.CreateUser(b.Context(), auth.SignupInput{Email: "bench@example.com", Password: oldPassword}, auth.Meta{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := f.svc.ForgotPassword(b.Context(), "bench@example.com", auth.Meta{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResetPasswordBeyondTheHash is a whole reset (token spent, hash
// written, sessions ended, notice queued) with the fixture's cheap argon2id
// parameters: what a reset costs on top of its one password hash
// (BenchmarkHashDefault in internal/password is that hash at the real
// parameters).
func BenchmarkResetPasswordBeyondTheHash(b *testing.B) {
	f := newFixture(b)
	u, err := f.svc.CreateUser(b.Context(), auth.SignupInput{Email: "bench@example.com", Password: oldPassword}, auth.Meta{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		if err := f.svc.ForgotPassword(b.Context(), u.Email, auth.Meta{}); err != nil {
			b.Fatal(err)
		}
		token := ""
		for _, m := range f.mails(b) { // the reset link, and the last round's "password changed" notice
			if m.Kind == "password-reset" {
				token = m.Token
			}
		}
		if token == "" {
			b.Fatal("no reset mail")
		}
		b.StartTimer()
		if err := f.svc.ResetPassword(b.Context(), auth.EmailProof{Token: token}, newPassword, auth.Meta{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoginBeyondTheHash is a password sign-in of an account without
// a second factor, with the fixture's cheap argon2id parameters: what a
// login costs on top of its one hash.
func BenchmarkLoginBeyondTheHash(b *testing.B) {
	f := newFixture(b)
	if _, err := f.svc.CreateUser(b.Context(), auth.SignupInput{Email: "bench@example.com", Password: oldPassword}, auth.Meta{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.svc.Login(b.Context(), "bench@example.com", oldPassword, auth.Meta{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoginWithMFABeyondTheHash is a whole two-step sign-in — the
// password step that creates the challenge, then POST /v1/auth/mfa/verify's
// use case: attempt charged, secret unsealed, code matched, step recorded,
// challenge spent, session started — with the fixture's cheap argon2id
// parameters. The clock moves a step per round, so every code is new.
func BenchmarkLoginWithMFABeyondTheHash(b *testing.B) {
	f := newFixture(b)
	u, err := f.svc.CreateUser(b.Context(), auth.SignupInput{Email: "bench@example.com", Password: oldPassword}, auth.Meta{})
	if err != nil {
		b.Fatal(err)
	}
	_, sess, err := f.svc.StartCookieSession(b.Context(), u, auth.Meta{}, auth.SignInPassword)
	if err != nil {
		b.Fatal(err)
	}
	p := principal(u, sess)
	e, err := f.svc.EnrollTOTP(b.Context(), p, "", auth.Meta{})
	if err != nil {
		b.Fatal(err)
	}
	secret := e.Secret.Base32()
	if _, err := f.svc.ConfirmTOTP(b.Context(), p, e.Factor.ID, benchCode(b, secret, f.clock.Now()), auth.Meta{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		f.clock.Advance(30 * time.Second)
		code := benchCode(b, secret, f.clock.Now())
		b.StartTimer()
		tok, err := f.svc.Login(b.Context(), "bench@example.com", oldPassword, auth.Meta{})
		if err != nil || tok.Challenge == nil {
			b.Fatal(err)
		}
		if _, err := f.svc.VerifyMFA(b.Context(), tok.Challenge.Token.Reveal(), auth.MFAProof{Code: code}, auth.Meta{}); err != nil {
			b.Fatal(err)
		}
	}
}

func benchCode(b *testing.B, secret string, at time.Time) string {
	b.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		b.Fatal(err)
	}
	return c
}
