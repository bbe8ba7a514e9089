package auth_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
)

func TestCreateAPIKeyRefusals(t *testing.T) {
	f := newFixture(t)
	u, s := f.user(t, "a@example.test")
	tooMany := make([]string, auth.MaxAPIKeyScopes+1)
	for i := range tooMany {
		tooMany[i] = "s" + strings.Repeat("x", i%60)
	}
	for _, c := range []struct {
		name string
		in   auth.APIKeyInput
	}{
		{"no name", auth.APIKeyInput{}},
		{"over-long name", auth.APIKeyInput{Name: strings.Repeat("n", auth.MaxAPIKeyNameLength+1)}},
		{"control character in the name", auth.APIKeyInput{Name: "ci\nadmin"}},
		{"too many scopes", auth.APIKeyInput{Name: "ci", Scopes: tooMany}},
		{"empty scope", auth.APIKeyInput{Name: "ci", Scopes: []string{""}}},
		{"scope with a space", auth.APIKeyInput{Name: "ci", Scopes: []string{"a b"}}},
		{"over-long scope", auth.APIKeyInput{Name: "ci", Scopes: []string{strings.Repeat("s", 65)}}},
		{"lifetime under a second", auth.APIKeyInput{Name: "ci", ExpiresIn: time.Millisecond}},
		{"negative lifetime", auth.APIKeyInput{Name: "ci", ExpiresIn: -time.Hour}},
		{"lifetime over ten years", auth.APIKeyInput{Name: "ci", ExpiresIn: auth.MaxAPIKeyLifetime + time.Second}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, secret, err := f.svc.CreateAPIKey(t.Context(), principal(u, s), c.in, auth.Meta{})
			wantCode(t, "CreateAPIKey", err, latchkey.EInvalidRequest)
			if secret != "" {
				t.Error("a refused key was handed out")
			}
		})
	}
	if keys, _ := f.svc.ListAPIKeys(t.Context(), u.ID); len(keys) != 0 {
		t.Errorf("refused keys were stored: %+v", keys)
	}
}

// A key works until it expires or is revoked, only for its owner's
// requests; another user can neither see nor revoke it.
func TestAPIKeyLifecycle(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	alice, s := f.user(t, "alice@example.test")
	bob, bobs := f.user(t, "bob@example.test")

	k, secret, err := f.svc.CreateAPIKey(ctx, principal(alice, s), auth.APIKeyInput{Name: "ci", Scopes: []string{"reports:read"}, ExpiresIn: time.Hour}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if k.ExpiresAt == nil || !k.ExpiresAt.Equal(t0.Add(time.Hour)) || len(k.Hash) == 0 || strings.Contains(string(k.Hash), secret.Reveal()) {
		t.Errorf("stored key %+v", k)
	}
	p, err := f.svc.AuthenticateAPIKey(ctx, secret.Reveal())
	if err != nil || p.User.ID != alice.ID || p.APIKey.ID != k.ID || p.SessionID != "" || !slices.Equal(p.Scopes, []string{"reports:read"}) {
		t.Fatalf("the new key: %+v, %v", p, err)
	}
	if n := f.auditReasons(t, latchkey.AuditAPIKeyCreated)["success "]; n != 1 {
		t.Errorf("apikey.created audited %d times", n)
	}
	if keys, _ := f.svc.ListAPIKeys(ctx, bob.ID); len(keys) != 0 {
		t.Errorf("bob lists alice's keys: %+v", keys)
	}

	// Expiry.
	f.clock.Advance(time.Hour - time.Second)
	if _, err := f.svc.AuthenticateAPIKey(ctx, secret.Reveal()); err != nil {
		t.Errorf("a second before expiry: %v", err)
	}
	f.clock.Advance(time.Second)
	_, err = f.svc.AuthenticateAPIKey(ctx, secret.Reveal())
	wantCode(t, "an expired key", err, latchkey.EInvalidAPIKey)

	// Revocation: bob cannot, alice can, once.
	k2, secret2, err := f.svc.CreateAPIKey(ctx, principal(alice, s), auth.APIKeyInput{Name: "deploy"}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AuthenticateAPIKey(ctx, secret2.Reveal()); err != nil { // now cached
		t.Fatal(err)
	}
	err = f.svc.RevokeAPIKey(ctx, principal(bob, bobs), k2.ID, auth.Meta{})
	wantCode(t, "another user's key", err, latchkey.ENotFound)
	if _, err := f.svc.AuthenticateAPIKey(ctx, secret2.Reveal()); err != nil {
		t.Errorf("the key after another user tried to revoke it: %v", err)
	}
	err = f.svc.RevokeAPIKey(ctx, principal(alice, s), "no-such-key", auth.Meta{})
	wantCode(t, "an unknown key", err, latchkey.ENotFound)
	if err := f.svc.RevokeAPIKey(ctx, principal(alice, s), k2.ID, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.AuthenticateAPIKey(ctx, secret2.Reveal())
	wantCode(t, "a revoked key", err, latchkey.EInvalidAPIKey)
	err = f.svc.RevokeAPIKey(ctx, principal(alice, s), k2.ID, auth.Meta{})
	wantCode(t, "a key revoked already", err, latchkey.ENotFound)
	if n := f.auditReasons(t, latchkey.AuditAPIKeyRevoked)["success "]; n != 1 {
		t.Errorf("apikey.revoked audited %d times", n)
	}

	for name, raw := range map[string]string{"empty": "", "not a key": "hello", "checksum wrong": secret.Reveal()[:len(secret.Reveal())-1] + "A"} {
		_, err := f.svc.AuthenticateAPIKey(ctx, raw)
		wantCode(t, name, err, latchkey.EInvalidAPIKey)
	}

	// An administrator's revocation of all of a user's keys.
	_, secret3, err := f.svc.CreateAPIKey(ctx, principal(alice, s), auth.APIKeyInput{Name: "third"}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := f.svc.RevokeUserAPIKeys(ctx, alice.ID, auth.Actor{}); err != nil || n != 2 { // the expired one and this
		t.Errorf("RevokeUserAPIKeys = %d, %v; want 2", n, err)
	}
	_, err = f.svc.AuthenticateAPIKey(ctx, secret3.Reveal())
	wantCode(t, "a key after all were revoked", err, latchkey.EInvalidAPIKey)
	_, err = f.svc.RevokeUserAPIKeys(ctx, "no-such-user", auth.Actor{})
	wantCode(t, "keys of an unknown user", err, latchkey.ENotFound)
}
