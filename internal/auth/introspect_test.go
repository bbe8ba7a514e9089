package auth_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/crypt"
)

// Each kind of credential, active and not: a live one is described with
// its owner's roles as they are now; anything else is simply inactive.
func TestIntrospect(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	admin, _ := f.user(t, "admin@example.test", latchkey.RoleUser, latchkey.RoleAdmin)
	tok := f.signup(t, "a@example.test")
	u := tok.User
	_, key, err := f.svc.CreateAPIKey(ctx, principal(u, tok.Session), auth.APIKeyInput{Name: "ci", Scopes: []string{"a", "b"}, ExpiresIn: time.Hour}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	// Promoted after the access token was issued.
	roles := []string{latchkey.RoleUser, "billing"}
	if _, err := f.svc.UpdateUser(ctx, u.ID, auth.UserChanges{Roles: &roles}, auth.Actor{UserID: admin.ID}); err != nil {
		t.Fatal(err)
	}

	active := func(what, raw, kind string) *auth.Introspection {
		t.Helper()
		in, err := f.svc.Introspect(ctx, raw)
		if err != nil || in == nil {
			t.Fatalf("%s: %+v, %v; want active", what, in, err)
		}
		if in.TokenType != kind || in.Subject != u.ID || !slices.Equal(in.Roles, roles) {
			t.Errorf("%s: %+v; want a %s of %s with roles %v", what, in, kind, u.ID, roles)
		}
		return in
	}
	inactive := func(what, raw string) {
		t.Helper()
		if in, err := f.svc.Introspect(ctx, raw); in != nil || err != nil {
			t.Errorf("%s: %+v, %v; want inactive", what, in, err)
		}
	}

	in := active("access token", tok.AccessToken.Reveal(), auth.TokenTypeAccess)
	if in.SessionID != tok.Session.ID || !in.ExpiresAt.Equal(tok.AccessExpiresAt.Truncate(time.Second)) {
		t.Errorf("access token: %+v", in)
	}
	in = active("refresh token", tok.RefreshToken.Reveal(), auth.TokenTypeRefresh)
	if in.SessionID != tok.Session.ID || in.ExpiresAt.IsZero() {
		t.Errorf("refresh token: %+v", in)
	}
	in = active("API key", key.Reveal(), auth.TokenTypeAPIKey)
	if in.Scope != "a b" || in.APIKeyID == "" || !in.ExpiresAt.Equal(t0.Add(time.Hour).Truncate(time.Microsecond)) {
		t.Errorf("API key: %+v", in)
	}
	// Looking at a refresh token does not use it up.
	next, err := f.svc.Refresh(ctx, tok.RefreshToken.Reveal(), auth.Meta{})
	if err != nil {
		t.Fatalf("refresh after introspection: %v", err)
	}

	for name, raw := range map[string]string{
		"empty":                   "",
		"garbage":                 "hello",
		"three dots, not a token": "a.b.c",
		"over-long":               strings.Repeat("x", 9<<10),
		"unknown refresh token":   crypt.RandomToken(32),
		"unknown API key":         key.Reveal()[:len(key.Reveal())-2] + "AA",
		"used refresh token":      tok.RefreshToken.Reveal(),
	} {
		inactive(name, raw)
	}

	// Expiry: the access token after its lifetime, the key after its own.
	f.clock.Advance(accessTTL)
	inactive("expired access token", tok.AccessToken.Reveal())
	active("refresh token, still", next.RefreshToken.Reveal(), auth.TokenTypeRefresh)
	f.clock.Advance(time.Hour - accessTTL)
	inactive("expired API key", key.Reveal())

	// Revocation: signing out ends the session's tokens; a revoked key.
	fresh := f.signup(t, "b@example.test")
	_, key2, err := f.svc.CreateAPIKey(ctx, principal(fresh.User, fresh.Session), auth.APIKeyInput{Name: "ci"}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Logout(ctx, principal(fresh.User, fresh.Session), auth.LogoutLocal, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	inactive("access token of an ended session", fresh.AccessToken.Reveal())
	inactive("refresh token of an ended session", fresh.RefreshToken.Reveal())
	if n, err := f.svc.RevokeUserAPIKeys(ctx, fresh.User.ID, auth.Actor{}); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	inactive("revoked API key", key2.Reveal())

	// A disabled user's credentials are all inactive.
	third := f.signup(t, "c@example.test")
	_, key3, err := f.svc.CreateAPIKey(ctx, principal(third.User, third.Session), auth.APIKeyInput{Name: "ci"}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UpdateUser(ctx, third.User.ID, auth.UserChanges{Disabled: ptr(true)}, auth.Actor{}); err != nil {
		t.Fatal(err)
	}
	inactive("access token of a disabled user", third.AccessToken.Reveal())
	inactive("refresh token of a disabled user", third.RefreshToken.Reveal())
	inactive("API key of a disabled user", key3.Reveal())
}
