package auth

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/mail"
)

// RequestEmailChange asks to move the signed-in user's account to a new
// address. The change applies only once the new address confirms it
// (ConfirmEmailChange); the old address gets a notice with a link that
// cancels it and ends every session ("this wasn't me"). A taken address
// gets the same answer as a free one, and the work happens off the request
// path so that the timing does not tell them apart either: a taken
// address gets no confirmation, but the old one still gets its notice.
func (s *Service) RequestEmailChange(ctx context.Context, p *Principal, newEmail string, m Meta) error {
	to, err := CanonicalEmail(newEmail)
	if err != nil {
		return err
	}
	if to == p.User.Email {
		return latchkey.Errorf(latchkey.EInvalidRequest, "This is already the account's address.")
	}
	userID, sessionID := p.User.ID, p.SessionID
	// The old address can undo an applied change for EmailChangeCancelTTL.
	// Another change meanwhile would send its notice to the new address and
	// void the old address's cancel link, which is exactly what someone
	// holding a stolen session would do next: so it waits.
	if undoable, err := s.changeUndoable(ctx, userID); err != nil || undoable {
		if err != nil {
			return err
		}
		return latchkey.Errorf(latchkey.EConflict,
			"The address of this account changed recently; another change is possible once the old address can no longer undo it.")
	}
	return s.background(ctx, "an email change", func(ctx context.Context) error {
		taken := false
		switch _, err := s.store.UserByEmail(ctx, to); {
		case err == nil:
			taken = true
		case !latchkey.IsCode(err, latchkey.ENotFound):
			return err
		}
		err := s.store.InTx(ctx, func(tx latchkey.Tx) error {
			u, err := tx.UserByID(ctx, userID)
			if err != nil {
				return err
			}
			reason := ""
			if taken {
				reason = "address taken"
				// A pending change to a free address stays pending.
			} else if err := s.mailToken(ctx, tx, u.ID, latchkey.PurposeEmailChange, to, mail.KindEmailChange, PageConfirmEmail, true, mail.Data{}); err != nil {
				return err
			}
			if err := s.mailToken(ctx, tx, u.ID, latchkey.PurposeEmailChangeCancel, u.Email, mail.KindEmailChangeNotice, PageCancelEmailChange,
				false, mail.Data{NewEmail: to}); err != nil {
				return err
			}
			return s.audit(ctx, tx, latchkey.AuditEmailChangeRequested, latchkey.OutcomeSuccess, reason, u.ID, sessionID, m)
		})
		if err != nil {
			return err
		}
		s.mailQueued()
		return nil
	})
}

// ConfirmEmailChange spends an email-change token of the signed-in user
// and moves the account to the address it was mailed to, which is then
// proven. An address taken meanwhile is refused with invalid_grant; so is
// another account's token (which stays unspent).
func (s *Service) ConfirmEmailChange(ctx context.Context, p *Principal, proof EmailProof, m Meta) (*latchkey.User, error) {
	var u *latchkey.User
	err := s.withEmailToken(ctx, latchkey.PurposeEmailChange, proof, func(tx latchkey.Tx, t *latchkey.EmailToken) error {
		if t.UserID != p.User.ID {
			return errInvalidEmailProof
		}
		var err error
		if u, err = tx.UserByID(ctx, t.UserID); err != nil {
			return notFoundAsInvalid(err)
		}
		if u.Disabled {
			return errInvalidEmailProof
		}
		now := s.now().UTC()
		u, err = tx.UpdateUser(ctx, u.ID, latchkey.UserPatch{Email: &t.Email, EmailVerifiedAt: &latchkey.TimePatch{At: &now}, UpdatedAt: now})
		if latchkey.IsCode(err, latchkey.EConflict) {
			return latchkey.Errorf(latchkey.EInvalidGrant, "This address belongs to another account now.")
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, latchkey.AuditEmailChanged, latchkey.OutcomeSuccess, "", u.ID, p.SessionID, m)
	})
	if err != nil {
		return nil, err
	}
	s.events.UserChanged(u.ID)
	return u, nil
}

// CancelEmailChange spends the token of the notice sent to the old
// address ("this wasn't me"): it voids the pending change, ends every
// session of the account, and, if the change was confirmed already, moves
// the account back to the old address while that is still free.
func (s *Service) CancelEmailChange(ctx context.Context, token string, m Meta) error {
	if token == "" {
		return latchkey.Errorf(latchkey.EInvalidRequest, "token is required.")
	}
	var userID string
	var revoked []string
	err := s.withEmailToken(ctx, latchkey.PurposeEmailChangeCancel, EmailProof{Token: token}, func(tx latchkey.Tx, t *latchkey.EmailToken) error {
		u, err := tx.UserByID(ctx, t.UserID)
		if err != nil {
			return notFoundAsInvalid(err)
		}
		userID = u.ID
		now := s.now().UTC()
		if _, err := tx.VoidEmailTokens(ctx, u.ID, latchkey.PurposeEmailChange); err != nil {
			return err
		}
		reason := "pending change voided"
		if u.Email != t.Email {
			_, err := tx.UpdateUser(ctx, u.ID, latchkey.UserPatch{Email: &t.Email, EmailVerifiedAt: &latchkey.TimePatch{At: &now}, UpdatedAt: now})
			switch {
			case err == nil:
				reason = "address restored"
			case latchkey.IsCode(err, latchkey.EConflict):
				reason = "old address taken meanwhile: not restored"
			default:
				return err
			}
		}
		if revoked, err = tx.RevokeUserSessions(ctx, u.ID, "", now); err != nil {
			return err
		}
		return s.audit(ctx, tx, latchkey.AuditEmailChangeCancelled, latchkey.OutcomeSuccess, reason, u.ID, "", m)
	})
	if err != nil {
		return err
	}
	s.sessionsEnded(revoked)
	s.events.UserChanged(userID)
	return nil
}

// changeUndoable reports whether the user's address changed within
// EmailChangeCancelTTL and the old address has not used its link yet.
func (s *Service) changeUndoable(ctx context.Context, userID string) (bool, error) {
	since := s.now().Add(-EmailChangeCancelTTL)
	newest := func(typ string) (time.Time, error) {
		events, _, err := s.store.ListAudit(ctx, latchkey.AuditFilter{UserID: userID, Type: typ, Since: since, Page: latchkey.Page{Limit: 1}})
		if err != nil || len(events) == 0 {
			return time.Time{}, err
		}
		return events[0].Time, nil
	}
	changed, err := newest(latchkey.AuditEmailChanged)
	if err != nil || changed.IsZero() {
		return false, err
	}
	cancelled, err := newest(latchkey.AuditEmailChangeCancelled)
	return cancelled.Before(changed), err // none (zero) is before any change
}
