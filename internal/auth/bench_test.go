package auth_test

import (
	"testing"

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
