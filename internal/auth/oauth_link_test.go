package auth_test

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
)

// The account decision of a social login for an address that already has
// an account, by what the provider and the account have proven.
func TestOAuthLoginLinksOnlyOntoProvenAddresses(t *testing.T) {
	f := newFixture(t)
	s, db, clock := f.svc, f.db, f.clock
	ctx := t.Context()
	verified := func(sub, email string) auth.OAuthProfile {
		return auth.OAuthProfile{Provider: "idp", Subject: sub, Email: email, EmailVerified: true}
	}

	// Pre-account takeover: a squatter signed up with the victim's address.
	squatter := f.passwordUser(t, "victim@example.test")
	_, squatterSession, err := s.StartCookieSession(ctx, squatter, auth.Meta{}, auth.SignIn{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.OAuthLogin(ctx, verified("sub-victim", "Victim@example.test"), auth.Meta{})
	if latchkey.ErrorCode(err) != latchkey.EConflict {
		t.Fatalf("verified provider, unproven account: %v, want conflict", err)
	}
	if ids, _ := db.ListIdentities(ctx, squatter.ID); len(ids) != 0 {
		t.Errorf("the identity was linked to the squatter's account: %+v", ids)
	}
	if _, err := db.IdentityByProviderSubject(ctx, "idp", "sub-victim"); !latchkey.IsCode(err, latchkey.ENotFound) {
		t.Errorf("the identity was stored: %v", err)
	}
	if users, _, _ := db.ListUsers(ctx, latchkey.UserFilter{Page: latchkey.Page{Limit: 10}}); len(users) != 1 {
		t.Errorf("%d accounts for one address", len(users))
	}
	if got := f.auditReasons(t, latchkey.AuditLoginFailed)["failure oauth:link_requires_verified_email"]; got != 1 {
		t.Errorf("refusal audited %d times: %v", got, f.auditReasons(t, latchkey.AuditLoginFailed))
	}
	if f.revoked(t, squatterSession.ID) {
		t.Error("a refused sign-in ended the account's session")
	}

	// The same, when the unproven account was made by a social login whose
	// provider did not vouch for the address.
	if _, err := s.OAuthLogin(ctx, auth.OAuthProfile{Provider: "lax", Subject: "m", Email: "owner@example.test"}, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	lax, err := db.UserByEmail(ctx, "owner@example.test")
	if err != nil || lax.EmailVerified() {
		t.Fatalf("an account from an unverified address: %+v %v", lax, err)
	}
	if _, err := s.OAuthLogin(ctx, verified("sub-owner", "owner@example.test"), auth.Meta{}); latchkey.ErrorCode(err) != latchkey.EConflict {
		t.Errorf("verified provider onto an account made from an unverified address: %v", err)
	}

	// A proven account: the identity links, and sessions from before end.
	clock.Advance(time.Second)
	bob := f.passwordUser(t, "bob@example.test")
	f.verifyEmail(t, bob)
	_, before, err := s.StartCookieSession(ctx, bob, auth.Meta{}, auth.SignIn{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.OAuthLogin(ctx, verified("sub-bob", "bob@example.test"), auth.Meta{})
	if err != nil || got.ID != bob.ID {
		t.Fatalf("proven account: %v %v", got, err)
	}
	if !f.revoked(t, before.ID) {
		t.Error("a session from before the link survived it")
	}
	if n := f.auditReasons(t, latchkey.AuditSessionRevoked)["success identity_linked:idp"]; n != 1 {
		t.Errorf("session.revoked identity_linked:idp audited %d times", n)
	}
	// Signing in again through the linked identity ends nothing.
	_, after, err := s.StartCookieSession(ctx, bob, auth.Meta{}, auth.SignIn{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.OAuthLogin(ctx, verified("sub-bob", "bob@example.test"), auth.Meta{}); err != nil || f.revoked(t, after.ID) {
		t.Errorf("second sign-in: %v, session revoked: %v", err, f.revoked(t, after.ID))
	}
	// An address the provider does not vouch for never links, proven or not.
	if _, err := s.OAuthLogin(ctx, auth.OAuthProfile{Provider: "lax", Subject: "b", Email: "bob@example.test"}, auth.Meta{}); latchkey.ErrorCode(err) != latchkey.EConflict {
		t.Errorf("unverified provider onto a proven account: %v", err)
	}
}

// An account made by social login has a proven address exactly when the
// provider vouched for it.
func TestOAuthSignupRecordsVerifiedEmail(t *testing.T) {
	f := newFixture(t)
	s, clock := f.svc, f.clock
	u, err := s.OAuthLogin(t.Context(), auth.OAuthProfile{Provider: "idp", Subject: "a", Email: "a@example.test", EmailVerified: true}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if u.EmailVerifiedAt == nil || !u.EmailVerifiedAt.Equal(clock.Now().UTC()) {
		t.Errorf("EmailVerifiedAt = %v, want the sign-in time", u.EmailVerifiedAt)
	}
	u, err = s.OAuthLogin(t.Context(), auth.OAuthProfile{Provider: "idp", Subject: "b", Email: "b@example.test"}, auth.Meta{})
	if err != nil || u.EmailVerified() {
		t.Errorf("unverified address: %+v %v", u, err)
	}
}

func TestLinkIdentity(t *testing.T) {
	f := newFixture(t)
	s, db, clock := f.svc, f.db, f.clock
	ctx := t.Context()
	alice := f.passwordUser(t, "alice@example.test")
	_, other, err := s.StartCookieSession(ctx, alice, auth.Meta{}, auth.SignIn{})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	_, linking, err := s.StartCookieSession(ctx, alice, auth.Meta{}, auth.SignIn{})
	if err != nil {
		t.Fatal(err)
	}
	gh := auth.OAuthProfile{Provider: "github", Subject: "42", Email: "alice@example.test", EmailVerified: true}

	linked, err := s.LinkIdentity(ctx, alice.ID, linking.ID, gh, auth.Meta{})
	if err != nil || !linked {
		t.Fatalf("link: %v %v", linked, err)
	}
	if ids, _ := db.ListIdentities(ctx, alice.ID); len(ids) != 1 || ids[0].Provider != "github" || ids[0].Subject != "42" {
		t.Errorf("identities: %+v", ids)
	}
	if !f.revoked(t, other.ID) || f.revoked(t, linking.ID) {
		t.Errorf("other session revoked: %v (want true); linking session revoked: %v (want false)",
			f.revoked(t, other.ID), f.revoked(t, linking.ID))
	}
	if u, _ := db.UserByID(ctx, alice.ID); !u.EmailVerified() {
		t.Error("the provider vouched for the account's own address, which is still unproven")
	}
	if n := f.auditReasons(t, latchkey.AuditOAuthLinked)["success github"]; n != 1 {
		t.Errorf("oauth.linked: %v", f.auditReasons(t, latchkey.AuditOAuthLinked))
	}

	// Again: nothing changes.
	if linked, err := s.LinkIdentity(ctx, alice.ID, linking.ID, gh, auth.Meta{}); err != nil || linked {
		t.Errorf("link again: %v %v", linked, err)
	}

	// Another user cannot take the identity.
	bob := f.passwordUser(t, "bob@example.test")
	_, bobSession, err := s.StartCookieSession(ctx, bob, auth.Meta{}, auth.SignIn{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.LinkIdentity(ctx, bob.ID, bobSession.ID, gh, auth.Meta{}); latchkey.ErrorCode(err) != latchkey.EConflict {
		t.Errorf("identity of another user: %v", err)
	}
	if id, _ := db.IdentityByProviderSubject(ctx, "github", "42"); id == nil || id.UserID != alice.ID {
		t.Errorf("the identity moved: %+v", id)
	}
	// Nor link through a session that is not theirs, or has ended.
	bobGH := auth.OAuthProfile{Provider: "github", Subject: "43", Email: "someone@example.test", EmailVerified: true}
	if _, err := s.LinkIdentity(ctx, bob.ID, linking.ID, bobGH, auth.Meta{}); latchkey.ErrorCode(err) != latchkey.ETokenRequired {
		t.Errorf("another user's session: %v", err)
	}
	if err := s.RevokeSession(ctx, bob.ID, bobSession.ID, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LinkIdentity(ctx, bob.ID, bobSession.ID, bobGH, auth.Meta{}); latchkey.ErrorCode(err) != latchkey.ETokenRequired {
		t.Errorf("ended session: %v", err)
	}
	if u, _ := db.UserByID(ctx, bob.ID); u.EmailVerified() {
		t.Error("an address other than the account's was taken as proof")
	}
	failures := f.auditReasons(t, latchkey.AuditOAuthLinked)
	for _, r := range []string{"failure identity_linked_elsewhere:github", "failure link_session_mismatch:github", "failure link_session_ended:github"} {
		if failures[r] != 1 {
			t.Errorf("%q audited %d times: %v", r, failures[r], failures)
		}
	}
}
