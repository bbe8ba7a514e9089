package auth

import (
	"context"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/password"
)

// Reauthenticate confirms the password of the principal's session and
// records the moment as the session's authentication time, so that
// sensitive operations (see the server's route policies) are allowed for
// the re-authentication window. A wrong password is audited as
// login.failed and answered invalid_credentials; it does not feed the
// account's sign-in back-off (the caller is already signed in, and the
// route's own per-user limit bounds guessing).
func (s *Service) Reauthenticate(ctx context.Context, p *Principal, pw string, m Meta) error {
	if p.SessionID == "" {
		return latchkey.Errorf(latchkey.EForbidden, "Re-authentication needs a signed-in session; an API key has none.")
	}
	if err := password.CheckLength(pw); err != nil {
		return err
	}
	u, err := s.store.UserByID(ctx, p.User.ID)
	if err != nil {
		return err
	}
	ok := false
	if u.PasswordHash != "" {
		if ok, _, err = s.hasher.Verify(ctx, pw, u.PasswordHash); err != nil {
			return err
		}
	} else if err := s.hasher.VerifyDummy(ctx, pw); err != nil {
		return err
	}
	if !ok {
		if err := s.Audit(ctx, latchkey.AuditEvent{Type: latchkey.AuditReauthenticated, UserID: u.ID, SessionID: p.SessionID,
			IP: m.IP, UserAgent: m.UserAgent, Outcome: latchkey.OutcomeFailure, Reason: "wrong_password"}); err != nil {
			return err
		}
		return latchkey.Errorf(latchkey.EInvalidCredentials, "The password is incorrect.")
	}
	err = s.store.InTx(ctx, func(tx latchkey.Tx) error {
		now := s.now().UTC()
		// The password is proven again; what else the session proved
		// (a second factor) stays on its record.
		if err := tx.SetSessionAuth(ctx, p.SessionID, now, AddAMR(p.AMR, AMRPassword)); latchkey.IsCode(err, latchkey.ENotFound) {
			return errRevoked
		} else if err != nil {
			return err
		}
		return s.audit(ctx, tx, latchkey.AuditReauthenticated, latchkey.OutcomeSuccess, "", u.ID, p.SessionID, m)
	})
	if err != nil {
		return err
	}
	// Cached copies of the session, here and on other instances, carry
	// the old time.
	s.events.SessionsChanged([]string{p.SessionID})
	return nil
}

// revokeAllKeys revokes every API key of the user inside tx, audits each,
// and returns their ids for the caller to announce after commit.
func (s *Service) revokeAllKeys(ctx context.Context, tx latchkey.Tx, userID, sessionID string, m Meta) ([]string, error) {
	ids, err := tx.RevokeUserAPIKeys(ctx, userID, s.now().UTC())
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if err := tx.AppendAudit(ctx, s.event(latchkey.AuditAPIKeyRevoked, userID, sessionID, id, m)); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// RevokeUserAPIKeys revokes every API key of a user at once (an
// administrator's answer to a suspected compromise) and returns how many.
func (s *Service) RevokeUserAPIKeys(ctx context.Context, id string, a Actor) (int, error) {
	var revoked []string
	err := s.store.InTx(ctx, func(tx latchkey.Tx) error {
		if _, err := tx.UserByID(ctx, id); err != nil {
			return notFoundUser(err)
		}
		var err error
		revoked, err = s.revokeAllKeys(ctx, tx, id, a.SessionID, a.Meta)
		return err
	})
	if err != nil {
		return 0, err
	}
	if len(revoked) > 0 {
		s.events.APIKeysRevoked(revoked)
	}
	return len(revoked), nil
}
