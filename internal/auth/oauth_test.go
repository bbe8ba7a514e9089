package auth_test

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/store/sqlite"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// newService is a Service on a fresh SQLite database, with a clock the test
// moves. It has no token issuer: these tests never get as far as tokens.
func newService(t *testing.T) (*auth.Service, *sqlite.DB, *testClock) {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Now()}
	return auth.New(auth.Config{RefreshTokenTTL: time.Hour, SessionIdleTimeout: time.Hour}, auth.Deps{Store: db, Clock: clock.now}), db, clock
}

func TestOneTimeCodeExpires(t *testing.T) {
	s, _, clock := newService(t)
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
	clock.advance(auth.OneTimeCodeTTL + time.Second)
	_, err = s.ExchangeOneTimeCode(t.Context(), code.Reveal(), auth.Meta{})
	if latchkey.ErrorCode(err) != latchkey.EInvalidGrant {
		t.Fatalf("expired code: %v", err)
	}
}

func TestOAuthLoginRefusals(t *testing.T) {
	s, db, _ := newService(t)
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
	svc, db, clock := newService(t)
	ctx := t.Context()
	now := clock.now()
	u := &latchkey.User{ID: latchkey.NewID(now), Email: "many@example.com", Roles: []string{"user"}, CreatedAt: now, UpdatedAt: now}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	var first []string
	for i := range auth.MaxSessionsPerUser + 2 {
		clock.advance(time.Millisecond) // session ids and creation times sort by start
		_, sess, err := svc.StartCookieSession(ctx, u, auth.Meta{}, "")
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
