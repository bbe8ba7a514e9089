package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
)

func TestOneTimeCodeExpires(t *testing.T) {
	f := newFixture(t)
	s, clock := f.svc, f.clock
	u, err := s.OAuthLogin(t.Context(), auth.OAuthProfile{Provider: "idp", Subject: "s1", Email: "a@example.test", EmailVerified: true}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	code, err := s.CreateOneTimeCode(t.Context(), u.ID, "idp")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(code.Reveal()); n != 43 {
		t.Errorf("code has %d characters, want 43 (256 bits)", n)
	}
	clock.Advance(auth.OneTimeCodeTTL + time.Second)
	_, err = s.ExchangeOneTimeCode(t.Context(), code.Reveal(), auth.Meta{})
	if latchkey.ErrorCode(err) != latchkey.EInvalidGrant {
		t.Fatalf("expired code: %v", err)
	}
}

func TestOAuthLoginRefusals(t *testing.T) {
	f := newFixture(t)
	s, db := f.svc, f.db
	ctx := t.Context()
	u, err := s.OAuthLogin(ctx, auth.OAuthProfile{Provider: "idp", Subject: "s1", Email: "a@example.test", EmailVerified: true}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if u.PasswordHash != "" || len(u.Roles) != 1 || u.Roles[0] != latchkey.RoleUser {
		t.Errorf("new user: %+v", u)
	}

	// No usable email: refused, nothing created.
	if _, err := s.OAuthLogin(ctx, auth.OAuthProfile{Provider: "idp", Subject: "s2"}, auth.Meta{}); latchkey.ErrorCode(err) != latchkey.EInvalidCredentials {
		t.Errorf("no email: %v", err)
	}
	// A second identity with the same verified email links to the same user.
	again, err := s.OAuthLogin(ctx, auth.OAuthProfile{Provider: "other", Subject: "x", Email: "A@example.test", EmailVerified: true}, auth.Meta{})
	if err != nil || again.ID != u.ID {
		t.Fatalf("verified link: %v %v", again, err)
	}
	// An unverified one does not.
	if _, err := s.OAuthLogin(ctx, auth.OAuthProfile{Provider: "third", Subject: "y", Email: "a@example.test"}, auth.Meta{}); latchkey.ErrorCode(err) != latchkey.EConflict {
		t.Errorf("unverified: %v", err)
	}
	if ids, _ := db.ListIdentities(ctx, u.ID); len(ids) != 2 {
		t.Errorf("identities: %+v", ids)
	}

	// A disabled user cannot sign in through a known identity, and a code
	// issued before the disabling is worthless.
	code, err := s.CreateOneTimeCode(ctx, u.ID, "idp")
	if err != nil {
		t.Fatal(err)
	}
	disabled := true
	if _, err := db.UpdateUser(ctx, u.ID, latchkey.UserPatch{Disabled: &disabled, UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OAuthLogin(ctx, auth.OAuthProfile{Provider: "idp", Subject: "s1", Email: "a@example.test", EmailVerified: true}, auth.Meta{}); latchkey.ErrorCode(err) != latchkey.EForbidden {
		t.Errorf("disabled: %v", err)
	}
	if _, err := s.ExchangeOneTimeCode(ctx, code.Reveal(), auth.Meta{}); latchkey.ErrorCode(err) != latchkey.EInvalidGrant {
		t.Errorf("code of a disabled user: %v", err)
	}
	events, _, err := db.ListAudit(ctx, latchkey.AuditFilter{Page: latchkey.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"oauth:no_email": false, "oauth:unverified_email": false, "oauth:disabled": false}
	for _, e := range events {
		if e.Type == latchkey.AuditLoginFailed {
			if _, ok := want[e.Reason]; ok {
				want[e.Reason] = true
			}
		}
	}
	for r, seen := range want {
		if !seen {
			t.Errorf("no login.failed with reason %s", r)
		}
	}
}

// A user's live sessions are capped; a sign-in beyond the cap ends the
// oldest (SES-10).
func TestSessionCap(t *testing.T) {
	f := newFixture(t)
	svc, db, clock := f.svc, f.db, f.clock
	ctx := t.Context()
	now := clock.Now()
	u := &latchkey.User{ID: latchkey.NewID(now), Email: "many@example.com", Roles: []string{"user"}, CreatedAt: now, UpdatedAt: now}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	var first []string
	for i := range auth.MaxSessionsPerUser + 2 {
		clock.Advance(time.Millisecond) // session ids and creation times sort by start
		_, sess, err := svc.StartCookieSession(ctx, u, auth.Meta{}, auth.SignIn{})
		if err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			first = append(first, sess.ID)
		}
	}
	live, err := svc.ListSessions(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != auth.MaxSessionsPerUser {
		t.Fatalf("%d live sessions, want the cap %d", len(live), auth.MaxSessionsPerUser)
	}
	for _, id := range first {
		if s, err := db.SessionByID(ctx, id); err != nil || s.RevokedAt == nil {
			t.Errorf("the oldest session %s was not ended (%v)", id, err)
		}
	}
}

// Every refusal of a one-time code, each audited with its reason and
// answered alike; a good code starts a session once.
func TestExchangeOneTimeCode(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	newUser := func(sub string) *latchkey.User {
		t.Helper()
		u, err := f.svc.OAuthLogin(ctx, auth.OAuthProfile{Provider: "idp", Subject: sub, Email: sub + "@example.test", EmailVerified: true}, auth.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	code := func(u *latchkey.User) string {
		t.Helper()
		c, err := f.svc.CreateOneTimeCode(ctx, u.ID, "idp")
		if err != nil {
			t.Fatal(err)
		}
		return c.Reveal()
	}
	alice := newUser("alice")

	good := code(alice)
	tok, err := f.svc.ExchangeOneTimeCode(ctx, good, auth.Meta{})
	if err != nil || tok.User.ID != alice.ID || f.revoked(t, tok.Session.ID) {
		t.Fatalf("a good code: %+v, %v", tok, err)
	}
	if _, err := f.tokens.Verify(tok.AccessToken.Reveal()); err != nil {
		t.Errorf("its access token: %v", err)
	}

	for _, c := range []struct {
		name, reason string
		code         func() string
	}{
		{"empty", "code_malformed", func() string { return "" }},
		{"over-long", "code_malformed", func() string { return strings.Repeat("c", auth.MaxOneTimeCodeLength+1) }},
		{"unknown", "code_invalid", func() string { return "no-such-code" }},
		{"used", "code_invalid", func() string { return good }},
		{"expired", "code_invalid", func() string {
			c := code(alice)
			f.clock.Advance(auth.OneTimeCodeTTL)
			return c
		}},
		{"expired between the read and the check", "code_expired", func() string {
			c := code(alice)
			f.hooks.afterConsume = func() { f.clock.Advance(auth.OneTimeCodeTTL) }
			return c
		}},
		{"user disabled", "disabled", func() string {
			u := newUser("disabled")
			c := code(u)
			if _, err := f.svc.UpdateUser(ctx, u.ID, auth.UserChanges{Disabled: ptr(true)}, auth.Actor{}); err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{"user deleted", "code_invalid", func() string {
			u := newUser("deleted")
			c := code(u)
			if err := f.svc.DeleteUser(ctx, u.ID, auth.Actor{}); err != nil {
				t.Fatal(err)
			}
			return c
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := f.auditReasons(t, latchkey.AuditLoginFailed)["failure oauth:"+c.reason]
			_, err := f.svc.ExchangeOneTimeCode(ctx, c.code(), auth.Meta{})
			wantCode(t, "ExchangeOneTimeCode", err, latchkey.EInvalidGrant)
			if n := f.auditReasons(t, latchkey.AuditLoginFailed)["failure oauth:"+c.reason] - before; n != 1 {
				t.Errorf("oauth:%s audited %d times: %v", c.reason, n, f.auditReasons(t, latchkey.AuditLoginFailed))
			}
		})
	}
}
