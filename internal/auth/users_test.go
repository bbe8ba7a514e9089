package auth_test

import (
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
)

// No change may leave the installation without an enabled administrator:
// not a demotion, not a disable, not a deletion.
func TestLastAdminProtection(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	root, _ := f.user(t, "root@example.test", latchkey.RoleUser, latchkey.RoleAdmin)
	second, _ := f.user(t, "second@example.test", latchkey.RoleUser, latchkey.RoleAdmin)
	justUser := []string{latchkey.RoleUser}

	// With two admins, one may go.
	if _, err := f.svc.UpdateUser(ctx, second.ID, auth.UserChanges{Disabled: ptr(true)}, auth.Actor{UserID: root.ID}); err != nil {
		t.Fatalf("disabling one of two admins: %v", err)
	}
	// A disabled admin does not count: root is the last one now.
	for name, c := range map[string]auth.UserChanges{
		"demote":  {Roles: &justUser},
		"disable": {Disabled: ptr(true)},
	} {
		_, err := f.svc.UpdateUser(ctx, root.ID, c, auth.Actor{UserID: root.ID})
		wantCode(t, name+" the last admin", err, latchkey.EConflict)
	}
	err := f.svc.DeleteUser(ctx, root.ID, auth.Actor{})
	wantCode(t, "delete the last admin", err, latchkey.EConflict)
	got := f.reload(t, root.ID)
	if got.Disabled || !got.HasRole(latchkey.RoleAdmin) {
		t.Errorf("the refused changes were made: %+v", got)
	}
	if f.revoked(t, mustSession(t, f, root.ID)) {
		t.Error("a refused disable ended the admin's sessions")
	}
	// Once another admin is enabled again, root may step down.
	if _, err := f.svc.UpdateUser(ctx, second.ID, auth.UserChanges{Disabled: ptr(false)}, auth.Actor{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UpdateUser(ctx, root.ID, auth.UserChanges{Roles: &justUser}, auth.Actor{}); err != nil {
		t.Errorf("demoting one of two admins: %v", err)
	}
	_, err = f.svc.UpdateUser(ctx, second.ID, auth.UserChanges{Roles: &justUser}, auth.Actor{})
	wantCode(t, "demote the admin who is last now", err, latchkey.EConflict)
}

// mustSession returns the id of one of the user's sessions, live or not.
func mustSession(t *testing.T, f *fixture, userID string) string {
	t.Helper()
	all, err := f.db.ListSessions(t.Context(), userID, t0)
	if err != nil || len(all) == 0 {
		t.Fatalf("no session of %s: %v", userID, err)
	}
	return all[0].ID
}

// Disabling a user ends every session and API key of theirs at once, in
// the transaction that disables them.
func TestDisableEndsSessionsAndKeys(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	u, cookie := f.user(t, "a@example.test")
	tok, err := f.svc.Login(ctx, u.Email, oldPassword, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := f.svc.CreateAPIKey(ctx, principal(u, cookie), auth.APIKeyInput{Name: "ci"}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	bystander := f.signup(t, "b@example.test")
	// Cached, as busy requests would have them.
	if _, err := f.svc.AuthenticateAccessToken(ctx, tok.AccessToken.Reveal()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AuthenticateAPIKey(ctx, key.Reveal()); err != nil {
		t.Fatal(err)
	}

	got, err := f.svc.UpdateUser(ctx, u.ID, auth.UserChanges{Disabled: ptr(true)}, auth.Actor{UserID: "admin-id"})
	if err != nil || !got.Disabled {
		t.Fatalf("disable: %+v, %v", got, err)
	}
	if !f.revoked(t, cookie.ID) || !f.revoked(t, tok.Session.ID) || f.revoked(t, bystander.Session.ID) {
		t.Errorf("revoked: cookie session %v, token session %v (want both), another user's %v (want not)",
			f.revoked(t, cookie.ID), f.revoked(t, tok.Session.ID), f.revoked(t, bystander.Session.ID))
	}
	_, err = f.svc.AuthenticateAccessToken(ctx, tok.AccessToken.Reveal())
	wantCode(t, "access token of a disabled user", err, latchkey.EInvalidToken)
	_, err = f.svc.AuthenticateAPIKey(ctx, key.Reveal())
	wantCode(t, "API key of a disabled user", err, latchkey.EInvalidAPIKey)
	_, err = f.svc.AuthenticateCookie(ctx, "any")
	wantCode(t, "cookie", err, latchkey.ETokenRequired)
	if !f.events.has(&f.events.revokedSessions, tok.Session.ID) || !f.events.has(&f.events.changedUsers, u.ID) {
		t.Error("the revocation was not announced")
	}
	reasons := f.auditReasons(t, latchkey.AuditUserUpdated)
	if reasons["success changed disabled; disabled: 2 sessions and every API key ended; by admin admin-id"] != 1 {
		t.Errorf("user.updated: %v", reasons)
	}
	// Enabling again brings nothing back.
	if _, err := f.svc.UpdateUser(ctx, u.ID, auth.UserChanges{Disabled: ptr(false)}, auth.Actor{}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.AuthenticateAPIKey(ctx, key.Reveal())
	wantCode(t, "API key after re-enabling", err, latchkey.EInvalidAPIKey)
	if _, err := f.svc.Refresh(ctx, tok.RefreshToken.Reveal(), auth.Meta{}); !latchkey.IsCode(err, latchkey.EInvalidGrant) {
		t.Errorf("refresh after re-enabling: %v", err)
	}
}

func TestUpdateUserRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	u, _ := f.user(t, "a@example.test")
	for _, c := range []struct {
		name string
		id   string
		c    auth.UserChanges
		want string
	}{
		{"unknown user", "no-such-user", auth.UserChanges{Disabled: ptr(true)}, latchkey.ENotFound},
		{"no roles", u.ID, auth.UserChanges{Roles: &[]string{}}, latchkey.EInvalidRequest},
		{"bad role", u.ID, auth.UserChanges{Roles: &[]string{"Admin"}}, latchkey.EInvalidRequest},
		{"name with a control character", u.ID, auth.UserChanges{Name: ptr("a\x1bb")}, latchkey.EInvalidRequest},
	} {
		_, err := f.svc.UpdateUser(ctx, c.id, c.c, auth.Actor{})
		wantCode(t, c.name, err, c.want)
	}
	err := f.svc.DeleteUser(ctx, "no-such-user", auth.Actor{})
	wantCode(t, "delete an unknown user", err, latchkey.ENotFound)
	_, err = f.svc.RevokeUserSessions(ctx, "no-such-user", auth.Actor{})
	wantCode(t, "sessions of an unknown user", err, latchkey.ENotFound)
	_, err = f.svc.UserSessions(ctx, "no-such-user")
	wantCode(t, "list sessions of an unknown user", err, latchkey.ENotFound)
	if n := len(f.auditReasons(t, latchkey.AuditUserUpdated)); n != 0 {
		t.Errorf("refused changes were audited: %v", f.auditReasons(t, latchkey.AuditUserUpdated))
	}
	// A change to what is already so changes and audits nothing.
	if _, err := f.svc.UpdateUser(ctx, u.ID, auth.UserChanges{Roles: &[]string{latchkey.RoleUser}, Disabled: ptr(false)}, auth.Actor{}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.auditReasons(t, latchkey.AuditUserUpdated)); n != 0 || f.events.has(&f.events.changedUsers, u.ID) {
		t.Errorf("a change to nothing was audited or announced: %v", f.auditReasons(t, latchkey.AuditUserUpdated))
	}
}

func TestAdminSessionsAndDelete(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	u, s := f.user(t, "a@example.test")
	s2 := f.session(t, u)
	if list, err := f.svc.UserSessions(ctx, u.ID); err != nil || len(list) != 2 {
		t.Errorf("UserSessions = %d, %v", len(list), err)
	}
	n, err := f.svc.RevokeUserSessions(ctx, u.ID, auth.Actor{UserID: "admin-id"})
	if err != nil || n != 2 || !f.revoked(t, s.ID) || !f.revoked(t, s2.ID) {
		t.Errorf("RevokeUserSessions = %d, %v", n, err)
	}
	if got := f.auditReasons(t, latchkey.AuditSessionRevoked)["success revoked by admin admin-id"]; got != 2 {
		t.Errorf("session.revoked: %v", f.auditReasons(t, latchkey.AuditSessionRevoked))
	}

	if err := f.svc.DeleteUser(ctx, u.ID, auth.Actor{}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.GetUser(ctx, u.ID)
	wantCode(t, "a deleted user", err, latchkey.ENotFound)
	_, err = f.svc.FindUser(ctx, strings.ToUpper(u.Email))
	wantCode(t, "a deleted user by email", err, latchkey.ENotFound)
	if n := f.auditReasons(t, latchkey.AuditUserDeleted)["success deleted by the command line"]; n != 1 {
		t.Errorf("user.deleted: %v", f.auditReasons(t, latchkey.AuditUserDeleted))
	}
	// The address is free again.
	f.signup(t, u.Email)
}

// GrantRole and RevokeRole change one role of the roles the user has when
// the transaction runs, so that concurrent grants all land; the usual rules
// (valid names, 1 to 32 roles, the last admin) hold.
func TestGrantAndRevokeRole(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	root, _ := f.user(t, "root@example.test", latchkey.RoleUser, latchkey.RoleAdmin)
	u, _ := f.user(t, "a@example.test")
	admin := auth.Actor{UserID: root.ID}

	roles := []string{"billing", "reports", "support:read", "ops"}
	errs := make(chan error, len(roles))
	for _, r := range roles {
		go func() {
			_, err := f.svc.UpdateUser(ctx, u.ID, auth.UserChanges{GrantRole: r}, admin)
			errs <- err
		}()
	}
	for range roles {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	got := f.reload(t, u.ID)
	if len(got.Roles) != 5 || got.Roles[0] != latchkey.RoleUser || !got.HasRole("billing") || !got.HasRole("reports") ||
		!got.HasRole("support:read") || !got.HasRole("ops") {
		t.Fatalf("after four concurrent grants: %q", got.Roles)
	}
	if n := f.auditReasons(t, latchkey.AuditUserUpdated)["success changed roles; by admin "+root.ID]; n != 4 {
		t.Errorf("user.updated events: %v", f.auditReasons(t, latchkey.AuditUserUpdated))
	}
	if !f.events.has(&f.events.changedUsers, u.ID) {
		t.Error("the change was not announced")
	}

	// Granting a role the user has, or revoking one they lack, changes nothing.
	for _, c := range []auth.UserChanges{{GrantRole: "ops"}, {RevokeRole: "nothing"}} {
		if _, err := f.svc.UpdateUser(ctx, u.ID, c, admin); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.auditReasons(t, latchkey.AuditUserUpdated)["success changed roles; by admin "+root.ID]; n != 4 {
		t.Errorf("a change to nothing was audited: %v", f.auditReasons(t, latchkey.AuditUserUpdated))
	}
	if got, err := f.svc.UpdateUser(ctx, u.ID, auth.UserChanges{RevokeRole: "billing"}, admin); err != nil || got.HasRole("billing") {
		t.Fatalf("revoke: %q, %v", got.Roles, err)
	}

	for name, c := range map[string]struct {
		id   string
		c    auth.UserChanges
		code string
	}{
		"a bad name":             {u.ID, auth.UserChanges{GrantRole: "Billing"}, latchkey.EInvalidRequest},
		"a bad revoked name":     {u.ID, auth.UserChanges{RevokeRole: "a b"}, latchkey.EInvalidRequest},
		"the last admin's admin": {root.ID, auth.UserChanges{RevokeRole: latchkey.RoleAdmin}, latchkey.EConflict},
		"an unknown user":        {"no-such-user", auth.UserChanges{GrantRole: "ops"}, latchkey.ENotFound},
	} {
		_, err := f.svc.UpdateUser(ctx, c.id, c.c, admin)
		wantCode(t, name, err, c.code)
	}
	lone, _ := f.user(t, "lone@example.test")
	_, err := f.svc.UpdateUser(ctx, lone.ID, auth.UserChanges{RevokeRole: latchkey.RoleUser}, admin)
	wantCode(t, "the only role", err, latchkey.EInvalidRequest)
	if got := f.reload(t, lone.ID); len(got.Roles) != 1 {
		t.Errorf("the refused revocation was made: %q", got.Roles)
	}
}
