package auth_test

import (
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/password"
)

// An administrator disables the user while ChangePassword hashes: the user
// stays disabled, and the change fails.
func TestChangePasswordKeepsADisableMadeMeanwhile(t *testing.T) {
	f := newFixture(t)
	u, sess := f.user(t, "a@example.com")
	disabled := true
	f.hooks.beforeTx = func() {
		if _, err := f.svc.UpdateUser(t.Context(), u.ID, auth.UserChanges{Disabled: &disabled}, auth.Actor{}); err != nil {
			t.Fatal(err)
		}
	}
	err := f.svc.ChangePassword(t.Context(), principal(u, sess), auth.PasswordChange{Current: oldPassword, New: newPassword}, auth.Meta{})
	if latchkey.ErrorCode(err) != latchkey.EInvalidToken {
		t.Errorf("ChangePassword of a user disabled meanwhile: %v, want invalid_token", err)
	}
	got := f.reload(t, u.ID)
	if !got.Disabled {
		t.Error("the administrator's disable was overwritten")
	}
	if got.PasswordHash != u.PasswordHash {
		t.Error("the password of a disabled user was changed")
	}
}

// An administrator removes the admin role while ChangePassword hashes: the
// role stays removed, and the password change itself goes through.
func TestChangePasswordKeepsARoleRemovedMeanwhile(t *testing.T) {
	f := newFixture(t)
	f.user(t, "other-admin@example.com", latchkey.RoleUser, latchkey.RoleAdmin)
	u, sess := f.user(t, "a@example.com", latchkey.RoleUser, latchkey.RoleAdmin)
	f.hooks.beforeTx = func() {
		roles := []string{latchkey.RoleUser}
		if _, err := f.svc.UpdateUser(t.Context(), u.ID, auth.UserChanges{Roles: &roles}, auth.Actor{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.svc.ChangePassword(t.Context(), principal(u, sess), auth.PasswordChange{Current: oldPassword, New: newPassword}, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	got := f.reload(t, u.ID)
	if got.HasRole(latchkey.RoleAdmin) {
		t.Errorf("roles %v: the administrator's removal was overwritten", got.Roles)
	}
	if got.PasswordHash == u.PasswordHash {
		t.Error("the password was not changed")
	}
}

// The session is revoked while ChangePassword hashes: the change fails as
// for an invalid token, and the hash stays.
func TestChangePasswordFailsOnASessionRevokedMeanwhile(t *testing.T) {
	f := newFixture(t)
	u, sess := f.user(t, "a@example.com")
	_, other := f.user(t, "b@example.com") // not touched
	f.hooks.beforeTx = func() {
		if err := f.svc.RevokeSession(t.Context(), u.ID, sess.ID, auth.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	err := f.svc.ChangePassword(t.Context(), principal(u, sess), auth.PasswordChange{Current: oldPassword, New: newPassword}, auth.Meta{})
	if latchkey.ErrorCode(err) != latchkey.EInvalidToken {
		t.Errorf("ChangePassword on a session revoked meanwhile: %v, want invalid_token", err)
	}
	if got := f.reload(t, u.ID); got.PasswordHash != u.PasswordHash {
		t.Error("the password was changed through a revoked session")
	}
	if s, err := f.db.SessionByID(t.Context(), other.ID); err != nil || s.RevokedAt != nil {
		t.Errorf("another user's session: %+v, %v", s, err)
	}
}

// Two changes race from the same verified hash: the second to write is
// refused with conflict, and the first one's password stays.
func TestChangePasswordConflictsWithAChangeMeanwhile(t *testing.T) {
	f := newFixture(t)
	u, sess := f.user(t, "a@example.com")
	f.hooks.beforeTx = func() {
		if err := f.svc.ChangePassword(t.Context(), principal(u, sess), auth.PasswordChange{Current: oldPassword, New: newPassword}, auth.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	err := f.svc.ChangePassword(t.Context(), principal(u, sess), auth.PasswordChange{Current: oldPassword, New: "another long secret"}, auth.Meta{})
	if latchkey.ErrorCode(err) != latchkey.EConflict {
		t.Fatalf("second change: %v, want conflict", err)
	}
	if _, err := f.svc.CheckPassword(t.Context(), u.Email, newPassword, auth.Meta{}); err != nil {
		t.Errorf("the first change's password no longer works: %v", err)
	}
}

// A login that upgrades an outdated hash races a password change: the new
// password stays, and the old one does not come back.
func TestUpgradeHashNeverRevertsAPasswordChange(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	u, sess := f.user(t, "a@example.com")
	// Store the password with other parameters, so that a login rehashes it.
	outdated, err := password.NewHasher(password.Params{Memory: 32, Iterations: 1, Parallelism: 1}, 1, time.Second).Hash(ctx, oldPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.SetPasswordHash(ctx, u.ID, u.PasswordHash, outdated, time.Now()); err != nil {
		t.Fatal(err)
	}

	f.hooks.afterByMail = func() {
		if err := f.svc.ChangePassword(ctx, principal(u, sess), auth.PasswordChange{Current: oldPassword, New: newPassword}, auth.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.CheckPassword(ctx, u.Email, oldPassword, auth.Meta{}); err != nil {
		t.Fatalf("the login that read the old password: %v", err)
	}
	if _, err := f.svc.CheckPassword(ctx, u.Email, newPassword, auth.Meta{}); err != nil {
		t.Errorf("the changed password no longer works: %v", err)
	}
	if _, err := f.svc.CheckPassword(ctx, u.Email, oldPassword, auth.Meta{}); latchkey.ErrorCode(err) != latchkey.EInvalidCredentials {
		t.Errorf("the old password came back: %v", err)
	}
}

// Without a race, a login still upgrades an outdated hash.
func TestUpgradeHash(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	u, _ := f.user(t, "a@example.com")
	outdated, err := password.NewHasher(password.Params{Memory: 32, Iterations: 1, Parallelism: 1}, 1, time.Second).Hash(ctx, oldPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.SetPasswordHash(ctx, u.ID, u.PasswordHash, outdated, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CheckPassword(ctx, u.Email, oldPassword, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	got := f.reload(t, u.ID)
	if got.PasswordHash == outdated {
		t.Fatal("the outdated hash was not replaced")
	}
	if ok, rehash, err := password.NewHasher(fastParams, 1, time.Second).Verify(ctx, oldPassword, got.PasswordHash); !ok || rehash || err != nil {
		t.Errorf("upgraded hash: ok=%v rehash=%v err=%v", ok, rehash, err)
	}
}

// Sessions start with their creation time as the time of authentication;
// a profile change writes only the name.
func TestAuthTimeAndProfilePatch(t *testing.T) {
	f := newFixture(t)
	u, sess := f.user(t, "a@example.com", latchkey.RoleUser, latchkey.RoleAdmin)
	if !sess.AuthTime.Equal(sess.CreatedAt) || sess.AuthTime.IsZero() {
		t.Errorf("AuthTime %v, CreatedAt %v", sess.AuthTime, sess.CreatedAt)
	}
	stored, err := f.db.SessionByID(t.Context(), sess.ID)
	if err != nil || !stored.AuthTime.Equal(sess.CreatedAt.Truncate(time.Microsecond)) {
		t.Errorf("stored AuthTime: %+v, %v", stored, err)
	}
	disabled := true
	f.hooks.beforeTx = func() {
		// Another admin disables the user just before the profile write.
		if _, err := f.db.UpdateUser(t.Context(), u.ID, latchkey.UserPatch{Disabled: &disabled, UpdatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	name := "New Name"
	got, err := f.svc.UpdateProfile(t.Context(), u.ID, &name, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != name || !got.Disabled || !slices.Contains(got.Roles, latchkey.RoleAdmin) {
		t.Errorf("after the profile change: %+v", got)
	}
}
