package auth_test

import (
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
)

func TestACRFor(t *testing.T) {
	for _, c := range []struct {
		amr  []string
		want string
	}{
		{nil, "aal1"},
		{[]string{"pwd"}, "aal1"},
		{[]string{"otp"}, "aal1"}, // a mailed code alone is one factor
		{[]string{"fed"}, "aal1"},
		{[]string{"pwd", "otp"}, "aal1"}, // only the use case that proved both says mfa
		{[]string{"pwd", "otp", "mfa"}, "aal2"},
		{[]string{"hwk", "mfa"}, "aal2"},
	} {
		if got := auth.ACRFor(c.amr); got != c.want {
			t.Errorf("ACRFor(%v) = %q, want %q", c.amr, got, c.want)
		}
	}
	for _, c := range []struct {
		have, want string
		ok         bool
	}{
		{"aal1", "", true}, {"", "", true}, {"", "aal1", false}, {"aal1", "aal1", true}, {"aal2", "aal1", true},
		{"aal1", "aal2", false}, {"aal2", "aal2", true}, {"aal2", "aal3", false}, {"aal2", "AAL2", false},
	} {
		if got := auth.MeetsACR(c.have, c.want); got != c.ok {
			t.Errorf("MeetsACR(%q, %q) = %v", c.have, c.want, got)
		}
	}
	old := []string{"pwd"}
	if got := auth.AddAMR(old, "otp", "pwd", "mfa"); !slices.Equal(got, []string{"pwd", "otp", "mfa"}) || len(old) != 1 {
		t.Errorf("AddAMR = %v (old %v)", got, old)
	}
}

// MF-06: every way of signing in records how, the access token says so
// (amr, acr), a refresh keeps it, a password re-authentication adds to it
// without dropping what the session proved, and the principal and
// introspection report the session's record.
func TestSessionsRecordHowTheySignedIn(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	claims := func(what string, tok *auth.Tokens, amr []string, acr string) {
		t.Helper()
		c, err := f.tokens.Verify(tok.AccessToken.Reveal())
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if !slices.Equal(c.AMR, amr) || c.ACR != acr {
			t.Errorf("%s: amr %v acr %q, want %v %q", what, c.AMR, c.ACR, amr, acr)
		}
		if !slices.Equal(tok.Session.AMR, amr) {
			t.Errorf("%s: session amr %v", what, tok.Session.AMR)
		}
	}
	signup := f.signup(t, "a@example.test")
	claims("signup", signup, []string{"pwd"}, "aal1")
	login, err := f.svc.Login(ctx, "a@example.test", oldPassword, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	claims("login", login, []string{"pwd"}, "aal1")
	u := login.User

	// A session that proved more (as a second factor will make it) keeps
	// it through refreshes and a password re-authentication.
	if err := f.db.SetSessionAuth(ctx, login.Session.ID, f.clock.Now(), []string{"pwd", "otp", "mfa"}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	refreshed, err := f.svc.Refresh(ctx, login.RefreshToken.Reveal(), auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	claims("refresh", refreshed, []string{"pwd", "otp", "mfa"}, "aal2")
	p, err := f.svc.AuthenticateAccessToken(ctx, refreshed.AccessToken.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.AMR, []string{"pwd", "otp", "mfa"}) || p.ACR() != "aal2" {
		t.Errorf("principal amr %v acr %q", p.AMR, p.ACR())
	}
	in, err := f.svc.Introspect(ctx, refreshed.AccessToken.Reveal())
	if err != nil || in == nil || in.ACR != "aal2" || !slices.Equal(in.AMR, p.AMR) {
		t.Errorf("introspection %+v, %v", in, err)
	}
	f.clock.Advance(time.Minute)
	if err := f.svc.Reauthenticate(ctx, p, oldPassword, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	sess, err := f.db.SessionByID(ctx, login.Session.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sess.AMR, []string{"pwd", "otp", "mfa"}) || !sess.AuthTime.Equal(f.clock.Now().UTC().Truncate(time.Microsecond)) {
		t.Errorf("after re-authentication: amr %v auth_time %v", sess.AMR, sess.AuthTime)
	}

	// A cookie session, a social login's code exchange, a mailed sign-in.
	_, cs, err := f.svc.StartCookieSession(ctx, u, auth.Meta{}, auth.SignInPassword)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cs.AMR, []string{"pwd"}) {
		t.Errorf("cookie session amr %v", cs.AMR)
	}
	code, err := f.svc.CreateOneTimeCode(ctx, u.ID, "github")
	if err != nil {
		t.Fatal(err)
	}
	social, err := f.svc.ExchangeOneTimeCode(ctx, code.Reveal(), auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	claims("social", social, []string{"fed"}, "aal1")
	apiKeyPrincipal := &auth.Principal{User: u, APIKey: &latchkey.APIKey{ID: "k"}, Via: "api_key"}
	if apiKeyPrincipal.ACR() != "" {
		t.Errorf("an API key has an acr: %q", apiKeyPrincipal.ACR())
	}
}
