package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/crypt"
)

func TestRefreshRotates(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	first := f.signup(t, "a@example.test")
	f.clock.Advance(idleTimeout - time.Second) // just inside the idle timeout
	next, err := f.svc.Refresh(ctx, first.RefreshToken.Reveal(), auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if next.RefreshToken == first.RefreshToken || next.AccessToken == first.AccessToken || next.Session.ID != first.Session.ID {
		t.Error("a refresh did not rotate both tokens within the session")
	}
	if !next.RefreshExpiresAt.Equal(first.RefreshExpiresAt.Truncate(time.Microsecond)) {
		t.Errorf("the refresh token's expiry moved: %v, was %v", next.RefreshExpiresAt, first.RefreshExpiresAt)
	}
	if s, _ := f.db.SessionByID(ctx, first.Session.ID); !s.LastUsedAt.Equal(f.clock.Now().Truncate(time.Microsecond)) {
		t.Errorf("last use %v, want now", s.LastUsedAt)
	}
	if got := f.events.last(&f.events.refreshes); got != "success" {
		t.Errorf("refresh event %q", got)
	}
	if n := f.auditReasons(t, latchkey.AuditRefresh)["success "]; n != 1 {
		t.Errorf("refresh audited %d times", n)
	}
	// The use renewed the idle timeout.
	f.clock.Advance(idleTimeout - time.Second)
	if _, err := f.svc.Refresh(ctx, next.RefreshToken.Reveal(), auth.Meta{}); err != nil {
		t.Errorf("the successor, inside the renewed idle timeout: %v", err)
	}
}

// Every reason a refresh token is refused; each answer is the same
// invalid_grant, and the reason reaches the metrics.
func TestRefreshRefusals(t *testing.T) {
	for _, c := range []struct {
		name   string
		reason string
		// arrange returns the token to present, given a fresh sign-up.
		arrange func(t *testing.T, f *fixture, tok *auth.Tokens) string
	}{
		{"empty", "malformed", func(*testing.T, *fixture, *auth.Tokens) string { return "" }},
		{"over-long", "malformed", func(*testing.T, *fixture, *auth.Tokens) string {
			return strings.Repeat("a", auth.MaxRefreshTokenLength+1)
		}},
		{"unknown", "unknown", func(*testing.T, *fixture, *auth.Tokens) string { return crypt.RandomToken(32) }},
		{"an access token", "malformed", func(_ *testing.T, _ *fixture, tok *auth.Tokens) string {
			return tok.AccessToken.Reveal()
		}},
		{"idle timeout", "session_ended", func(_ *testing.T, f *fixture, tok *auth.Tokens) string {
			f.clock.Advance(idleTimeout)
			return tok.RefreshToken.Reveal()
		}},
		{"absolute timeout, in active use", "session_ended", func(t *testing.T, f *fixture, tok *auth.Tokens) string {
			rt := tok.RefreshToken.Reveal()
			for f.clock.Now().Add(idleTimeout / 2).Before(t0.Add(absoluteTTL)) {
				f.clock.Advance(idleTimeout / 2)
				next, err := f.svc.Refresh(t.Context(), rt, auth.Meta{})
				if err != nil {
					t.Fatalf("refresh at %v: %v", f.clock.Now().Sub(t0), err)
				}
				rt = next.RefreshToken.Reveal()
			}
			f.clock.Set(t0.Add(absoluteTTL))
			return rt
		}},
		{"token expired, session live", "expired", func(t *testing.T, f *fixture, tok *auth.Tokens) string {
			rt := crypt.RandomToken(32)
			now := f.clock.Now()
			if err := f.db.CreateRefreshToken(t.Context(), &latchkey.RefreshToken{Hash: crypt.Hash(rt), SessionID: tok.Session.ID,
				UserID: tok.User.ID, CreatedAt: now.Add(-time.Minute), ExpiresAt: now}); err != nil {
				t.Fatal(err)
			}
			return rt
		}},
		{"signed out", "session_ended", func(t *testing.T, f *fixture, tok *auth.Tokens) string {
			if err := f.svc.Logout(t.Context(), principal(tok.User, tok.Session), auth.LogoutLocal, auth.Meta{}); err != nil {
				t.Fatal(err)
			}
			return tok.RefreshToken.Reveal()
		}},
		{"user disabled by an admin", "session_ended", func(t *testing.T, f *fixture, tok *auth.Tokens) string {
			if _, err := f.svc.UpdateUser(t.Context(), tok.User.ID, auth.UserChanges{Disabled: ptr(true)}, auth.Actor{}); err != nil {
				t.Fatal(err)
			}
			return tok.RefreshToken.Reveal()
		}},
		{"user disabled, session not revoked", "user_disabled", func(t *testing.T, f *fixture, tok *auth.Tokens) string {
			if _, err := f.db.UpdateUser(t.Context(), tok.User.ID, latchkey.UserPatch{Disabled: ptr(true), UpdatedAt: f.clock.Now()}); err != nil {
				t.Fatal(err)
			}
			return tok.RefreshToken.Reveal()
		}},
		{"user deleted", "unknown", func(t *testing.T, f *fixture, tok *auth.Tokens) string {
			if err := f.svc.DeleteUser(t.Context(), tok.User.ID, auth.Actor{}); err != nil {
				t.Fatal(err)
			}
			return tok.RefreshToken.Reveal()
		}},
		{"reused after the grace period", "reuse", func(t *testing.T, f *fixture, tok *auth.Tokens) string {
			if _, err := f.svc.Refresh(t.Context(), tok.RefreshToken.Reveal(), auth.Meta{}); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(reuseGrace + time.Nanosecond)
			return tok.RefreshToken.Reveal()
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			tok := f.signup(t, "a@example.test")
			rt := c.arrange(t, f, tok)
			_, err := f.svc.Refresh(t.Context(), rt, auth.Meta{})
			wantCode(t, "Refresh", err, latchkey.EInvalidGrant)
			if err != nil && err.Error() != "invalid_grant: The refresh token is invalid, expired or revoked." {
				t.Errorf("the refusal tells more than that it is one: %q", err)
			}
			if got := f.events.last(&f.events.refreshes); got != c.reason {
				t.Errorf("refused as %q, want %q", got, c.reason)
			}
		})
	}
}

// A token presented twice outside the grace period is a theft signal: the
// whole session ends, the successor with it, and the trail shows it.
func TestRefreshReuseRevokesTheSession(t *testing.T) {
	f := newFixture(t, func(c *auth.Config) { c.RefreshReuseGrace = 0 })
	ctx := t.Context()
	tok := f.signup(t, "a@example.test")
	other := f.signup(t, "b@example.test")
	next, err := f.svc.Refresh(ctx, tok.RefreshToken.Reveal(), auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	// Without a grace period, even an immediate retry is reuse.
	_, err = f.svc.Refresh(ctx, tok.RefreshToken.Reveal(), auth.Meta{IP: "203.0.113.9"})
	wantCode(t, "reuse", err, latchkey.EInvalidGrant)
	if !f.revoked(t, tok.Session.ID) || f.revoked(t, other.Session.ID) {
		t.Errorf("revoked: reused session %v (want true), another user's %v (want false)",
			f.revoked(t, tok.Session.ID), f.revoked(t, other.Session.ID))
	}
	if !f.events.has(&f.events.revokedSessions, tok.Session.ID) {
		t.Error("the revocation was not announced (caches on other instances keep the session)")
	}
	if n := f.auditReasons(t, latchkey.AuditRefreshReuse)["failure refresh token used twice"]; n != 1 {
		t.Errorf("refresh.reuse_detected: %v", f.auditReasons(t, latchkey.AuditRefreshReuse))
	}
	_, err = f.svc.Refresh(ctx, next.RefreshToken.Reveal(), auth.Meta{})
	wantCode(t, "the successor after reuse", err, latchkey.EInvalidGrant)
	_, err = f.svc.AuthenticateAccessToken(ctx, next.AccessToken.Reveal())
	wantCode(t, "the successor's access token after reuse", err, latchkey.EInvalidToken)
}

// A retry within the grace period (a response lost on the way) gets the
// same successor again, audited as such; one moment later it is reuse.
func TestRefreshGrace(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	tok := f.signup(t, "a@example.test")
	next, err := f.svc.Refresh(ctx, tok.RefreshToken.Reveal(), auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	used := f.clock.Now()
	for _, after := range []time.Duration{time.Second, reuseGrace - time.Microsecond} {
		f.clock.Set(used.Add(after))
		again, err := f.svc.Refresh(ctx, tok.RefreshToken.Reveal(), auth.Meta{})
		if err != nil {
			t.Fatalf("retry: %v", err)
		}
		if again.RefreshToken != next.RefreshToken || again.Session.ID != tok.Session.ID {
			t.Error("a retry within the grace period got another successor")
		}
		if _, err := f.tokens.Verify(again.AccessToken.Reveal()); err != nil {
			t.Errorf("the retry's access token: %v", err)
		}
		if got := f.events.last(&f.events.refreshes); got != "grace" {
			t.Errorf("refresh event %q, want grace", got)
		}
	}
	if n := f.auditReasons(t, latchkey.AuditRefreshGrace)["success retried within the grace period"]; n != 2 {
		t.Errorf("refresh.grace: %v", f.auditReasons(t, latchkey.AuditRefreshGrace))
	}
	if f.revoked(t, tok.Session.ID) {
		t.Fatal("a retry within the grace period ended the session")
	}
	f.clock.Set(used.Add(reuseGrace + time.Microsecond))
	_, err = f.svc.Refresh(ctx, tok.RefreshToken.Reveal(), auth.Meta{})
	wantCode(t, "after the grace period", err, latchkey.EInvalidGrant)
	if !f.revoked(t, tok.Session.ID) {
		t.Error("reuse after the grace period left the session alive")
	}
	// The successor ended with the session.
	_, err = f.svc.Refresh(ctx, next.RefreshToken.Reveal(), auth.Meta{})
	wantCode(t, "the successor", err, latchkey.EInvalidGrant)
	if got := f.events.last(&f.events.refreshes); got != "session_ended" {
		t.Errorf("successor refused as %q, want session_ended", got)
	}
}
