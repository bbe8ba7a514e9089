package auth

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/latchkey/latchkey"
)

// MaxRoles bounds how many roles one user carries (they ride in every
// access token).
const MaxRoles = 32

var roleRE = regexp.MustCompile(`^[a-z][a-z0-9_:.-]{0,63}$`)

var errRoleName = latchkey.Errorf(latchkey.EInvalidRequest,
	"A role is 1 to 64 characters: a lower-case letter, then lower-case letters, digits or _ : . -")

// ValidateRoles checks a role list (1 to MaxRoles names of lower-case
// letters, digits and _:.-, starting with a letter) and returns it without
// duplicates, in the order given.
func ValidateRoles(roles []string) ([]string, error) {
	if len(roles) == 0 || len(roles) > MaxRoles {
		return nil, latchkey.Errorf(latchkey.EInvalidRequest, "A user needs between 1 and %d roles.", MaxRoles)
	}
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		if !roleRE.MatchString(r) {
			return nil, errRoleName
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// Actor is who performs an administrative action: an admin's user and
// session, or the command line (empty IDs).
type Actor struct {
	UserID    string
	SessionID string
	Meta
}

func (a Actor) describe() string {
	if a.UserID == "" {
		return "by the command line"
	}
	return "by admin " + a.UserID
}

// UserChanges are the fields an administrator may change; nil leaves one as is.
type UserChanges struct {
	Roles *[]string
	// GrantRole and RevokeRole ("": none) add a role to and remove one
	// from the user's roles as they are inside the transaction (after
	// Roles, when both are given), so that two administrators granting
	// different roles at once both get theirs.
	GrantRole, RevokeRole string
	Disabled              *bool
	Name                  *string
	// EmailVerified marks the address proven (now) or unproven.
	EmailVerified *bool
}

var errLastAdmin = latchkey.Errorf(latchkey.EConflict,
	"This would leave no enabled administrator; make another user an admin first.")

// ListUsers pages through the users, newest first, optionally searching
// their emails.
func (s *Service) ListUsers(ctx context.Context, f latchkey.UserFilter) ([]latchkey.User, string, error) {
	f.Query = strings.ToLower(strings.TrimSpace(f.Query))
	return s.store.ListUsers(ctx, f)
}

// GetUser returns one user by ID.
func (s *Service) GetUser(ctx context.Context, id string) (*latchkey.User, error) {
	u, err := s.store.UserByID(ctx, id)
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return nil, latchkey.Errorf(latchkey.ENotFound, "No such user.")
	}
	return u, err
}

// FindUser returns a user by ID or, when ref holds an @, by email (the
// command line accepts either).
func (s *Service) FindUser(ctx context.Context, ref string) (*latchkey.User, error) {
	if !strings.Contains(ref, "@") {
		return s.GetUser(ctx, ref)
	}
	email, err := CanonicalEmail(ref)
	if err != nil {
		return nil, err
	}
	u, err := s.store.UserByEmail(ctx, email)
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return nil, latchkey.Errorf(latchkey.ENotFound, "No such user.")
	}
	return u, err
}

// UpdateUser changes a user's roles, disabled flag or name, writing only
// the fields that change. Disabling ends every session and API key of the
// user in the same transaction. A change that would leave no enabled admin
// is refused with conflict; the check runs inside the transaction, after
// the change.
func (s *Service) UpdateUser(ctx context.Context, id string, c UserChanges, a Actor) (*latchkey.User, error) {
	var roles []string
	var name string
	var err error
	if c.Roles != nil {
		if roles, err = ValidateRoles(*c.Roles); err != nil {
			return nil, err
		}
	}
	for _, r := range []string{c.GrantRole, c.RevokeRole} {
		if r != "" && !roleRE.MatchString(r) {
			return nil, errRoleName
		}
	}
	editRoles := c.Roles != nil || c.GrantRole != "" || c.RevokeRole != ""
	if c.Name != nil {
		if name, err = CleanName(*c.Name); err != nil {
			return nil, err
		}
	}
	var u *latchkey.User
	var revoked []string
	changedAny := false
	err = s.store.InTx(ctx, func(tx latchkey.Tx) error {
		revoked, changedAny = nil, false
		if u, err = tx.UserByID(ctx, id); err != nil {
			return notFoundUser(err)
		}
		wasAdmin := activeAdmin(u)
		var changed []string
		p := latchkey.UserPatch{}
		if editRoles {
			next, err := nextRoles(u.Roles, roles, c)
			if err != nil {
				return err
			}
			if !slices.Equal(u.Roles, next) {
				p.Roles, changed = &next, append(changed, "roles")
			}
		}
		if c.Disabled != nil && u.Disabled != *c.Disabled {
			p.Disabled, changed = c.Disabled, append(changed, "disabled")
		}
		if c.Name != nil && u.Name != name {
			p.Name, changed = &name, append(changed, "name")
		}
		if c.EmailVerified != nil && u.EmailVerified() != *c.EmailVerified {
			at := &latchkey.TimePatch{}
			if *c.EmailVerified {
				now := s.now().UTC()
				at.At = &now
			}
			p.EmailVerifiedAt, changed = at, append(changed, "email_verified")
		}
		if len(changed) == 0 {
			return nil
		}
		changedAny = true
		p.UpdatedAt = s.now().UTC()
		if u, err = tx.UpdateUser(ctx, id, p); err != nil {
			return notFoundUser(err)
		}
		if wasAdmin && !activeAdmin(u) {
			if err := lastAdminCheck(ctx, tx); err != nil {
				return err
			}
		}
		if u.Disabled && slices.Contains(changed, "disabled") {
			if err := s.endEverything(ctx, tx, u.ID, &revoked); err != nil {
				return err
			}
		}
		reason := "changed " + strings.Join(changed, ",")
		if u.Disabled && slices.Contains(changed, "disabled") {
			reason += fmt.Sprintf("; disabled: %d sessions and every API key ended", len(revoked))
		}
		return s.audit(ctx, tx, latchkey.AuditUserUpdated, latchkey.OutcomeSuccess, reason+"; "+a.describe(), u.ID, "", a.Meta)
	})
	if err != nil {
		return nil, err
	}
	if len(revoked) > 0 {
		s.events.SessionsRevoked(revoked)
	}
	if changedAny {
		s.events.UserChanged(u.ID) // cached API-key results carry the user's roles and status
	}
	return u, nil
}

// nextRoles are the roles c gives a user who has current: roles (already
// valid) when c sets them, then c's grants and revocations.
func nextRoles(current, roles []string, c UserChanges) ([]string, error) {
	next := slices.Clone(current)
	if c.Roles != nil {
		next = slices.Clone(roles)
	}
	if c.GrantRole != "" {
		next = append(next, c.GrantRole)
	}
	next = slices.DeleteFunc(next, func(r string) bool { return r == c.RevokeRole })
	return ValidateRoles(next)
}

// endEverything revokes every session and API key of the user.
func (s *Service) endEverything(ctx context.Context, tx latchkey.Tx, userID string, revoked *[]string) error {
	now := s.now().UTC()
	ids, err := tx.RevokeUserSessions(ctx, userID, "", now)
	if err != nil {
		return err
	}
	*revoked = ids
	_, err = tx.RevokeUserAPIKeys(ctx, userID, now)
	return err
}

// DeleteUser removes a user with all their sessions, refresh tokens, API
// keys and identities. The last enabled admin cannot be deleted.
func (s *Service) DeleteUser(ctx context.Context, id string, a Actor) error {
	var revoked []string
	err := s.store.InTx(ctx, func(tx latchkey.Tx) error {
		revoked = nil
		u, err := tx.UserByID(ctx, id)
		if err != nil {
			return notFoundUser(err)
		}
		// Revoked first so that other instances hear of the sessions.
		if err := s.endEverything(ctx, tx, u.ID, &revoked); err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, u.ID); err != nil {
			return notFoundUser(err)
		}
		if activeAdmin(u) {
			if err := lastAdminCheck(ctx, tx); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, latchkey.AuditUserDeleted, latchkey.OutcomeSuccess, "deleted "+a.describe(), u.ID, "", a.Meta)
	})
	if err != nil {
		return err
	}
	if len(revoked) > 0 {
		s.events.SessionsRevoked(revoked)
	}
	s.events.UserChanged(id)
	return nil
}

// UserSessions lists a user's live sessions (not found for an unknown user).
func (s *Service) UserSessions(ctx context.Context, id string) ([]latchkey.Session, error) {
	if _, err := s.GetUser(ctx, id); err != nil {
		return nil, err
	}
	return s.ListSessions(ctx, id)
}

// RevokeUserSessions ends every session of a user, auditing each one as
// session.revoked, and returns how many it ended.
func (s *Service) RevokeUserSessions(ctx context.Context, id string, a Actor) (int, error) {
	var revoked []string
	err := s.store.InTx(ctx, func(tx latchkey.Tx) error {
		if _, err := tx.UserByID(ctx, id); err != nil {
			return notFoundUser(err)
		}
		var err error
		if revoked, err = tx.RevokeUserSessions(ctx, id, "", s.now().UTC()); err != nil {
			return err
		}
		for _, sid := range revoked {
			if err := s.audit(ctx, tx, latchkey.AuditSessionRevoked, latchkey.OutcomeSuccess, "revoked "+a.describe(), id, sid, a.Meta); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if len(revoked) > 0 {
		s.events.SessionsRevoked(revoked)
	}
	return len(revoked), nil
}

// ListAudit pages through the audit log, newest first.
func (s *Service) ListAudit(ctx context.Context, f latchkey.AuditFilter) ([]latchkey.AuditEvent, string, error) {
	return s.store.ListAudit(ctx, f)
}

func activeAdmin(u *latchkey.User) bool { return !u.Disabled && u.HasRole(latchkey.RoleAdmin) }

// lastAdminCheck runs after a change inside its transaction: if no enabled
// admin is left, the transaction is rolled back with conflict.
func lastAdminCheck(ctx context.Context, tx latchkey.Tx) error {
	n, err := tx.CountActiveUsersWithRole(ctx, latchkey.RoleAdmin)
	if err != nil {
		return err
	}
	if n == 0 {
		return errLastAdmin
	}
	return nil
}

func notFoundUser(err error) error {
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return latchkey.Errorf(latchkey.ENotFound, "No such user.")
	}
	return err
}

// TruncateUserAgent bounds a User-Agent as the audit log stores it.
func TruncateUserAgent(ua string) string { return truncate(ua, 512) }
