package auth

import (
	"context"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/mail"
)

// mailVerification queues u's verification mail within tx (voiding the
// previous one) and audits it.
func (s *Service) mailVerification(ctx context.Context, tx latchkey.Tx, u *latchkey.User, m Meta) error {
	if err := s.mailToken(ctx, tx, u.ID, latchkey.PurposeVerifyEmail, u.Email, mail.KindVerifyEmail, PageVerifyEmail, true, mail.Data{}); err != nil {
		return err
	}
	return s.audit(ctx, tx, latchkey.AuditEmailVerificationSent, latchkey.OutcomeSuccess, "", u.ID, "", m)
}

// SendVerification (re)sends the verification mail of the account with
// this address, if it has one that is not proven yet. Whatever the
// address, it answers the same at once: the look-up and the mail happen
// off the request path. Resends are throttled per address by the route.
func (s *Service) SendVerification(ctx context.Context, emailIn string, m Meta) error {
	email, err := CanonicalEmail(emailIn)
	if err != nil {
		return err
	}
	if s.verificationMode() == VerificationOff {
		return nil
	}
	return s.background(ctx, "sending a verification mail", func(ctx context.Context) error {
		u, err := s.store.UserByEmail(ctx, email)
		if latchkey.IsCode(err, latchkey.ENotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if u.EmailVerified() || u.Disabled {
			return nil
		}
		if err := s.store.InTx(ctx, func(tx latchkey.Tx) error { return s.mailVerification(ctx, tx, u, m) }); err != nil {
			return err
		}
		s.mailQueued()
		return nil
	})
}

// ConfirmEmail spends a verification token and marks the address proven.
// A token for an address the account no longer has is refused.
func (s *Service) ConfirmEmail(ctx context.Context, p EmailProof, m Meta) (*latchkey.User, error) {
	var u *latchkey.User
	err := s.withEmailToken(ctx, latchkey.PurposeVerifyEmail, p, func(tx latchkey.Tx, t *latchkey.EmailToken) error {
		var err error
		if u, err = s.provenUser(ctx, tx, t); err != nil {
			return err
		}
		return s.audit(ctx, tx, latchkey.AuditEmailVerified, latchkey.OutcomeSuccess, "", u.ID, "", m)
	})
	if err != nil {
		return nil, err
	}
	s.events.UserChanged(u.ID) // cached principals carry the old flag
	return u, nil
}

// SignupPending is sign-up when --email-verification is required: it
// answers the same, with no tokens, whether or not the address has an
// account, so that sign-up tells nobody which addresses are registered
// (AUTH-03). The input is checked at once (that depends on the input
// only); the rest happens off the request path. A new address gets its
// account and a verification mail. An existing one gets no second
// account: its owner gets the verification mail again while the address
// is unproven, otherwise a password-reset mail, which tells them that
// someone used their address and lets them in should they have forgotten
// the password.
func (s *Service) SignupPending(ctx context.Context, in SignupInput, m Meta) error {
	in.Roles = nil
	email, _, err := s.checkSignup(in)
	if err != nil {
		return err
	}
	return s.background(ctx, "sign-up", func(ctx context.Context) error {
		u, err := s.store.UserByEmail(ctx, email)
		if latchkey.IsCode(err, latchkey.ENotFound) {
			_, err = s.createUser(ctx, in, m, true)
			if !latchkey.IsCode(err, latchkey.EConflict) {
				return err
			}
			// Created meanwhile by another sign-up: treat as existing.
			if u, err = s.store.UserByEmail(ctx, email); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if u.Disabled {
			return nil
		}
		err = s.store.InTx(ctx, func(tx latchkey.Tx) error {
			if !u.EmailVerified() {
				return s.mailVerification(ctx, tx, u, m)
			}
			return s.mailPasswordReset(ctx, tx, u, "signup with an existing address", m)
		})
		if err != nil {
			return err
		}
		s.mailQueued()
		return nil
	})
}

// notFoundAsInvalid turns a vanished user into the refusal of the proof
// that named them.
func notFoundAsInvalid(err error) error {
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return errInvalidEmailProof
	}
	return err
}

// ResendVerification mails a new verification link to a user's address at
// an administrator's request (synchronously: the administrator is told if
// it could not be queued). An address that is already proven gets nothing
// and is reported as a conflict.
func (s *Service) ResendVerification(ctx context.Context, userID string, a Actor) error {
	if s.verificationMode() == VerificationOff {
		return latchkey.Errorf(latchkey.EConflict, "Email verification is off on this server (--email-verification off).")
	}
	err := s.store.InTx(ctx, func(tx latchkey.Tx) error {
		u, err := tx.UserByID(ctx, userID)
		if err != nil {
			return notFoundUser(err)
		}
		if u.EmailVerified() {
			return latchkey.Errorf(latchkey.EConflict, "This address is already verified.")
		}
		return s.mailVerification(ctx, tx, u, a.Meta) // audited there, as email.verification_sent
	})
	if err != nil {
		return err
	}
	s.mailQueued()
	return nil
}

// provenUser is the enabled account a spent token was mailed to, with that
// address now marked proven: the token is refused when the account has
// another address by now, or is disabled.
func (s *Service) provenUser(ctx context.Context, tx latchkey.Tx, t *latchkey.EmailToken) (*latchkey.User, error) {
	u, err := tx.UserByID(ctx, t.UserID)
	if err != nil {
		return nil, notFoundAsInvalid(err)
	}
	if u.Email != t.Email || u.Disabled {
		return nil, errInvalidEmailProof
	}
	return s.setVerified(ctx, tx, u, s.now().UTC())
}
