package auth_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/password"
)

// Each logout scope ends exactly its sessions; the access tokens of ended
// sessions stop working at once.
func TestLogoutScopes(t *testing.T) {
	for _, c := range []struct {
		scope  string
		reason string
		ends   []int // of the user's sessions 0 (the caller's), 1 and 2
	}{
		{"", "local", []int{0}},
		{auth.LogoutLocal, "local", []int{0}},
		{auth.LogoutOthers, "others", []int{1, 2}},
		{auth.LogoutGlobal, "global", []int{0, 1, 2}},
	} {
		t.Run("scope "+c.reason+" as "+c.scope, func(t *testing.T) {
			f := newFixture(t)
			ctx := t.Context()
			if _, err := f.svc.CreateUser(ctx, auth.SignupInput{Email: "a@example.test", Password: oldPassword}, auth.Meta{}); err != nil {
				t.Fatal(err)
			}
			var toks []*auth.Tokens
			for range 3 {
				f.clock.Advance(time.Second)
				tok, err := f.svc.Login(ctx, "a@example.test", oldPassword, auth.Meta{})
				if err != nil {
					t.Fatal(err)
				}
				toks = append(toks, tok)
			}
			bystander := f.signup(t, "b@example.test")
			for _, tok := range toks { // cache them, as requests would
				if _, err := f.svc.AuthenticateAccessToken(ctx, tok.AccessToken.Reveal()); err != nil {
					t.Fatal(err)
				}
			}
			if err := f.svc.Logout(ctx, principal(toks[0].User, toks[0].Session), c.scope, auth.Meta{}); err != nil {
				t.Fatal(err)
			}
			for i, tok := range toks {
				want := slices.Contains(c.ends, i)
				if got := f.revoked(t, tok.Session.ID); got != want {
					t.Errorf("session %d revoked: %v, want %v", i, got, want)
				}
				_, err := f.svc.AuthenticateAccessToken(ctx, tok.AccessToken.Reveal())
				if want {
					wantCode(t, "access token of an ended session", err, latchkey.EInvalidToken)
				} else if err != nil {
					t.Errorf("access token of session %d: %v", i, err)
				}
			}
			if f.revoked(t, bystander.Session.ID) {
				t.Error("another user's session ended")
			}
			if n := f.auditReasons(t, latchkey.AuditLogout)["success "+c.reason]; n != 1 {
				t.Errorf("logout audited: %v", f.auditReasons(t, latchkey.AuditLogout))
			}
		})
	}
}

func TestLogoutRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	tok := f.signup(t, "a@example.test")
	err := f.svc.Logout(ctx, principal(tok.User, tok.Session), "everything", auth.Meta{})
	wantCode(t, "unknown scope", err, latchkey.EInvalidRequest)
	key := &latchkey.APIKey{ID: "k", UserID: tok.User.ID}
	err = f.svc.Logout(ctx, &auth.Principal{User: tok.User, APIKey: key, Via: "api_key"}, auth.LogoutGlobal, auth.Meta{})
	wantCode(t, "an API key", err, latchkey.EInvalidRequest)
	if f.revoked(t, tok.Session.ID) || len(f.auditReasons(t, latchkey.AuditLogout)) != 0 {
		t.Error("a refused logout ended or audited something")
	}
}

func TestSessionsListAndRevoke(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	alice, idle := f.user(t, "alice@example.test")
	f.clock.Advance(idleTimeout / 2)
	toRevoke := f.session(t, alice)
	_, live, err := f.svc.StartCookieSession(ctx, alice, auth.Meta{UserAgent: "kept"}, auth.SignIn{})
	if err != nil {
		t.Fatal(err)
	}
	_, bobs := f.user(t, "bob@example.test")
	f.clock.Advance(idleTimeout / 2) // the first session is now idle too long

	err = f.svc.RevokeSession(ctx, alice.ID, bobs.ID, auth.Meta{})
	wantCode(t, "another user's session", err, latchkey.ENotFound)
	if f.revoked(t, bobs.ID) {
		t.Fatal("alice ended bob's session")
	}
	err = f.svc.RevokeSession(ctx, alice.ID, "no-such-session", auth.Meta{})
	wantCode(t, "an unknown session", err, latchkey.ENotFound)
	if err := f.svc.RevokeSession(ctx, alice.ID, toRevoke.ID, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	err = f.svc.RevokeSession(ctx, alice.ID, toRevoke.ID, auth.Meta{})
	wantCode(t, "a session revoked already", err, latchkey.ENotFound)
	if !f.events.has(&f.events.revokedSessions, toRevoke.ID) {
		t.Error("the revocation was not announced")
	}
	if n := f.auditReasons(t, latchkey.AuditSessionRevoked)["success "]; n != 1 {
		t.Errorf("session.revoked audited %d times", n)
	}

	list, err := f.svc.ListSessions(ctx, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	if slices.Contains(ids, idle.ID) || slices.Contains(ids, toRevoke.ID) || slices.Contains(ids, bobs.ID) || !slices.Contains(ids, live.ID) {
		t.Errorf("live sessions %v; want %s, without the idle %s, the revoked %s and bob's", ids, live.ID, idle.ID, toRevoke.ID)
	}
}

// Every refusal of a password change; each leaves the password as it was.
func TestChangePasswordRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	social, err := f.svc.OAuthLogin(ctx, auth.OAuthProfile{Provider: "idp", Subject: "1", Email: "social@example.test", EmailVerified: true}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	socialSession := f.session(t, social)
	for _, c := range []struct {
		name    string
		change  auth.PasswordChange
		arrange func(t *testing.T, u *latchkey.User, s *latchkey.Session)
		want    string
		dummy   bool
	}{
		{"wrong current password", auth.PasswordChange{Current: "not the password", New: newPassword}, nil, latchkey.EInvalidCredentials, false},
		{"over-long current password", auth.PasswordChange{Current: strings.Repeat("p", password.MaxBytes+1), New: newPassword}, nil, latchkey.EInvalidRequest, false},
		{"weak new password", auth.PasswordChange{Current: oldPassword, New: "password1"}, nil, latchkey.EWeakPassword, false},
		{"new password made of the email", auth.PasswordChange{Current: oldPassword, New: "EMAIL"}, nil, latchkey.EWeakPassword, false},
		{"over-long new password", auth.PasswordChange{Current: oldPassword, New: strings.Repeat("p", password.MaxBytes+1)}, nil, latchkey.EInvalidRequest, false},
		{"session revoked", auth.PasswordChange{Current: oldPassword, New: newPassword}, func(t *testing.T, u *latchkey.User, s *latchkey.Session) {
			if err := f.svc.RevokeSession(t.Context(), u.ID, s.ID, auth.Meta{}); err != nil {
				t.Fatal(err)
			}
		}, latchkey.EInvalidToken, false},
		{"session idle too long", auth.PasswordChange{Current: oldPassword, New: newPassword}, func(*testing.T, *latchkey.User, *latchkey.Session) {
			f.clock.Advance(idleTimeout)
		}, latchkey.EInvalidToken, false},
		{"user disabled", auth.PasswordChange{Current: oldPassword, New: newPassword}, func(t *testing.T, u *latchkey.User, _ *latchkey.Session) {
			if _, err := f.db.UpdateUser(t.Context(), u.ID, latchkey.UserPatch{Disabled: ptr(true), UpdatedAt: f.clock.Now()}); err != nil {
				t.Fatal(err)
			}
		}, latchkey.EInvalidToken, false},
		{"changed meanwhile", auth.PasswordChange{Current: oldPassword, New: newPassword}, func(t *testing.T, u *latchkey.User, s *latchkey.Session) {
			f.hooks.beforeTx = func() {
				if err := f.svc.ChangePassword(t.Context(), principal(u, s), auth.PasswordChange{Current: oldPassword, New: "yet another passphrase"}, auth.Meta{}); err != nil {
					t.Fatal(err)
				}
			}
		}, latchkey.EConflict, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			u, s := f.user(t, strings.NewReplacer(" ", "-").Replace(c.name)+"@example.test")
			if c.change.New == "EMAIL" {
				c.change.New = u.Email
			}
			if c.arrange != nil {
				c.arrange(t, u, s)
			}
			err := f.svc.ChangePassword(t.Context(), principal(u, s), c.change, auth.Meta{})
			wantCode(t, "ChangePassword", err, c.want)
			if c.want != latchkey.EConflict {
				if got := f.reload(t, u.ID); got.PasswordHash != u.PasswordHash {
					t.Error("the password changed")
				}
			}
		})
	}
	t.Run("account without a password", func(t *testing.T) {
		checks, dummies := f.hasher.checks.Load(), f.hasher.dummies.Load()
		err := f.svc.ChangePassword(ctx, principal(social, socialSession), auth.PasswordChange{Current: oldPassword, New: newPassword}, auth.Meta{})
		wantCode(t, "ChangePassword", err, latchkey.EInvalidCredentials)
		if f.hasher.checks.Load()-checks != 1 || f.hasher.dummies.Load()-dummies != 1 {
			t.Error("refused without the work of a check")
		}
		if f.reload(t, social.ID).PasswordHash != "" {
			t.Error("a password was set")
		}
	})
}

// A password change ends the user's other sessions, and their API keys
// when asked to.
func TestChangePassword(t *testing.T) {
	for _, revokeKeys := range []bool{false, true} {
		f := newFixture(t)
		ctx := t.Context()
		u, s := f.user(t, "a@example.test")
		other := f.session(t, u)
		_, key, err := f.svc.CreateAPIKey(ctx, principal(u, s), auth.APIKeyInput{Name: "ci"}, auth.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ChangePassword(ctx, principal(u, s), auth.PasswordChange{Current: oldPassword, New: newPassword, RevokeAPIKeys: revokeKeys}, auth.Meta{}); err != nil {
			t.Fatal(err)
		}
		if f.revoked(t, s.ID) || !f.revoked(t, other.ID) {
			t.Errorf("revoked: this session %v (want false), the other %v (want true)", f.revoked(t, s.ID), f.revoked(t, other.ID))
		}
		_, err = f.svc.AuthenticateAPIKey(ctx, key.Reveal())
		if revokeKeys {
			wantCode(t, "API key after a change that revokes them", err, latchkey.EInvalidAPIKey)
		} else if err != nil {
			t.Errorf("API key after a plain change: %v", err)
		}
		reason := ""
		if revokeKeys {
			reason = "api keys revoked"
		}
		if n := f.auditReasons(t, latchkey.AuditPasswordChanged)["success "+reason]; n != 1 {
			t.Errorf("password.changed: %v", f.auditReasons(t, latchkey.AuditPasswordChanged))
		}
		if _, err := f.svc.CheckPassword(ctx, u.Email, newPassword, auth.Meta{}); err != nil {
			t.Errorf("the new password: %v", err)
		}
		_, err = f.svc.CheckPassword(ctx, u.Email, oldPassword, auth.Meta{})
		wantCode(t, "the old password", err, latchkey.EInvalidCredentials)
	}
}

func TestReauthenticate(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	tok := f.signup(t, "a@example.test")
	p, err := f.svc.AuthenticateAccessToken(ctx, tok.AccessToken.Reveal()) // caches the session
	if err != nil {
		t.Fatal(err)
	}
	signedIn := p.AuthTime

	err = f.svc.Reauthenticate(ctx, p, "not the password", auth.Meta{})
	wantCode(t, "wrong password", err, latchkey.EInvalidCredentials)
	if n := f.auditReasons(t, latchkey.AuditReauthenticated)["failure wrong_password"]; n != 1 {
		t.Errorf("session.reauthenticated: %v", f.auditReasons(t, latchkey.AuditReauthenticated))
	}
	err = f.svc.Reauthenticate(ctx, p, strings.Repeat("p", password.MaxBytes+1), auth.Meta{})
	wantCode(t, "over-long password", err, latchkey.EInvalidRequest)
	key := &auth.Principal{User: tok.User, APIKey: &latchkey.APIKey{ID: "k", UserID: tok.User.ID}, Via: "api_key"}
	err = f.svc.Reauthenticate(ctx, key, oldPassword, auth.Meta{})
	wantCode(t, "an API key", err, latchkey.EForbidden)
	if p, _ := f.svc.AuthenticateAccessToken(ctx, tok.AccessToken.Reveal()); !p.AuthTime.Equal(signedIn) {
		t.Errorf("a refused re-authentication moved the authentication time to %v", p.AuthTime)
	}

	f.clock.Advance(10 * time.Minute)
	if err := f.svc.Reauthenticate(ctx, p, oldPassword, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now().Truncate(time.Microsecond)
	if s, _ := f.db.SessionByID(ctx, tok.Session.ID); !s.AuthTime.Equal(now) {
		t.Errorf("stored authentication time %v, want %v", s.AuthTime, now)
	}
	if p, err := f.svc.AuthenticateAccessToken(ctx, tok.AccessToken.Reveal()); err != nil || !p.AuthTime.Equal(now) {
		t.Errorf("authentication time seen by the next request: %v (%v), want %v", p.AuthTime, err, now)
	}
	if n := f.auditReasons(t, latchkey.AuditReauthenticated)["success "]; n != 1 {
		t.Errorf("session.reauthenticated: %v", f.auditReasons(t, latchkey.AuditReauthenticated))
	}
	// The refresh carries the new time into the next access token.
	next, err := f.svc.Refresh(ctx, tok.RefreshToken.Reveal(), auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := f.tokens.Verify(next.AccessToken.Reveal()); err != nil || c.AuthTime == nil || !c.AuthTime.Equal(now.Truncate(time.Second)) {
		t.Errorf("auth_time after re-authentication: %+v, %v", c, err)
	}

	if err := f.svc.Logout(ctx, p, auth.LogoutLocal, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	err = f.svc.Reauthenticate(ctx, p, oldPassword, auth.Meta{})
	wantCode(t, "a revoked session", err, latchkey.EInvalidToken)
}
