package provider

import (
	"context"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/crypt"
	"github.com/latchkey/latchkey/internal/token"
)

// newProvider is a provider on the fixture's database and a fresh key.
func (f *fixture) newProvider(t *testing.T, grace time.Duration) *Provider {
	t.Helper()
	kr := testKeyring(t, f.clock.Now())
	p, err := New(Config{Issuer: "https://id.example", AccessTokenTTL: time.Minute, GrantTTL: time.Hour, RefreshReuseGrace: grace},
		Deps{Store: f.db, Keys: func() *token.Keyring { return kr }, Clock: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// refreshFixture makes a user, session, client, grant and refresh token.
func refreshFixture(t *testing.T, f *fixture) (client *latchkey.Client, grant *latchkey.Grant, rt string) {
	t.Helper()
	ctx := t.Context()
	now := f.clock.Now()
	u := &latchkey.User{ID: latchkey.NewID(now), Email: "a@example.com", CreatedAt: now, UpdatedAt: now}
	s := &latchkey.Session{ID: latchkey.NewID(now), UserID: u.ID, CreatedAt: now, LastUsedAt: now, AuthTime: now, ExpiresAt: now.Add(time.Hour)}
	client, _, err := f.clients.Create(ctx, ClientInput{Name: "App", RedirectURIs: []string{"https://app.example/cb"}}, admin)
	if err != nil {
		t.Fatal(err)
	}
	grant = &latchkey.Grant{ID: latchkey.NewID(now), ClientID: client.ID, UserID: u.ID, SessionID: s.ID, Scopes: []string{"openid", "offline_access"},
		Audience: []string{client.ID}, AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	rt = crypt.RandomToken(32)
	for _, step := range []error{f.db.CreateUser(ctx, u), f.db.CreateSession(ctx, s), f.db.CreateGrant(ctx, grant),
		f.db.CreateClientRefreshToken(ctx, &latchkey.ClientRefreshToken{Hash: crypt.Hash(rt), GrantID: grant.ID, CreatedAt: now, ExpiresAt: grant.ExpiresAt})} {
		if step != nil {
			t.Fatal(step)
		}
	}
	return client, grant, rt
}

func TestRefreshRotationGraceAndReuse(t *testing.T) {
	f := newFixture(t)
	p := f.newProvider(t, 10*time.Second)
	client, grant, rt := refreshFixture(t, f)
	st := storage{p}
	ctx := withClient(context.Background(), client.ID)

	// Another client, or none named, gets nothing and changes nothing.
	if _, err := st.TokenRequestByRefreshToken(withClient(context.Background(), "other"), rt); err == nil {
		t.Fatal("another client's refresh token was accepted")
	}
	req, err := st.TokenRequestByRefreshToken(ctx, rt)
	if err != nil {
		t.Fatal(err)
	}
	_, next, _, err := st.CreateAccessAndRefreshTokens(ctx, req, rt)
	if err != nil || next == "" || next == rt {
		t.Fatalf("rotation: %q %v", next, err)
	}
	// A retry within the grace period gets the same successor, never a second one.
	f.clock.Advance(5 * time.Second)
	req, err = st.TokenRequestByRefreshToken(ctx, rt)
	if err != nil {
		t.Fatal(err)
	}
	_, again, _, err := st.CreateAccessAndRefreshTokens(ctx, req, rt)
	if err != nil || again != next {
		t.Fatalf("retry within grace: %q (want the same successor) %v", again, err)
	}
	// Past the grace period the used token is reuse: the grant is revoked,
	// so its successor dies too.
	f.clock.Advance(10 * time.Second)
	if _, err := st.TokenRequestByRefreshToken(ctx, rt); err == nil {
		t.Fatal("a reused refresh token was accepted")
	}
	g, err := f.db.GrantByID(ctx, grant.ID)
	if err != nil || g.RevokedAt == nil {
		t.Fatalf("the grant after reuse: %+v %v", g, err)
	}
	if _, err := st.TokenRequestByRefreshToken(ctx, next); err == nil {
		t.Fatal("the successor of a reused token still works")
	}
	events, _, _ := f.db.ListAudit(ctx, latchkey.AuditFilter{Type: latchkey.AuditRefreshReuse})
	if len(events) != 1 {
		t.Fatalf("reuse audited %d times", len(events))
	}
}

func TestRefreshRaceMakesOneSuccessor(t *testing.T) {
	f := newFixture(t)
	p := f.newProvider(t, 10*time.Second)
	client, _, rt := refreshFixture(t, f)
	st := storage{p}
	ctx := withClient(context.Background(), client.ID)
	results := make(chan string, 8)
	for range 8 {
		go func() {
			req, err := st.TokenRequestByRefreshToken(ctx, rt)
			if err != nil {
				results <- "error: " + err.Error()
				return
			}
			_, next, _, err := st.CreateAccessAndRefreshTokens(ctx, req, rt)
			if err != nil {
				results <- "error: " + err.Error()
				return
			}
			results <- next
		}()
	}
	seen := map[string]bool{}
	for range 8 {
		seen[<-results] = true
	}
	if len(seen) != 1 {
		t.Fatalf("concurrent refreshes of one token gave %d different answers: %v", len(seen), seen)
	}
}
