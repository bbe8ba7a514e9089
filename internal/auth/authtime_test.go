package auth_test

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/auth"
)

// Access tokens say when the user signed in (auth_time), and a refresh
// keeps that time: it is a new token, not a new sign-in.
func TestAccessTokensCarryAuthTime(t *testing.T) {
	f := newFixture(t)
	ctx, svc, ver, clock := t.Context(), f.svc, f.tokens, f.clock
	signedUp, err := svc.Signup(ctx, auth.SignupInput{Email: "a@example.test", Password: "a long enough passphrase"}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	signIn := signedUp.Session.CreatedAt.Truncate(time.Second)
	check := func(what string, tok *auth.Tokens) {
		t.Helper()
		c, err := ver.Verify(tok.AccessToken.Reveal())
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if c.AuthTime == nil || !c.AuthTime.Equal(signIn) {
			t.Errorf("%s: auth_time %v, want the sign-in at %v", what, c.AuthTime, signIn)
		}
	}
	check("signup", signedUp)
	clock.Advance(10 * time.Minute)
	refreshed, err := svc.Refresh(ctx, signedUp.RefreshToken.Reveal(), auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	check("refresh", refreshed)
}
