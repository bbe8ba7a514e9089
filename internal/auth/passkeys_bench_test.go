package auth_test

import (
	"testing"

	vwa "github.com/descope/virtualwebauthn"

	"github.com/latchkey/latchkey/internal/auth"
)

// BenchmarkPasskeySignIn is one whole username-less sign-in on SQLite:
// the begin (a challenge stored) and the finish (the challenge spent, the
// passkey and its user read, the assertion verified — one ECDSA P-256
// signature —, the counter moved forward, a session with its refresh
// token started, audited, and an access token signed). The software
// authenticator's own signing is left out of the time.
func BenchmarkPasskeySignIn(b *testing.B) {
	f := passkeyFixture(b)
	u, err := f.svc.CreateUser(b.Context(), auth.SignupInput{Email: "bench@example.com", Password: oldPassword}, auth.Meta{})
	if err != nil {
		b.Fatal(err)
	}
	_, sess, err := f.svc.StartCookieSession(b.Context(), u, auth.Meta{}, auth.SignInPassword)
	if err != nil {
		b.Fatal(err)
	}
	k := newSoftKey(vwa.AuthenticatorOptions{})
	mustRegister(b, f, k, principal(u, sess))
	b.ReportAllocs()
	for b.Loop() {
		options, err := f.svc.BeginPasskeySignIn(b.Context(), auth.Meta{})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		k.cred.Counter++
		body := k.get(b, options, u.ID)
		b.StartTimer()
		if _, err := f.svc.PasskeySignIn(b.Context(), body, auth.Meta{}); err != nil {
			b.Fatal(err)
		}
	}
}
