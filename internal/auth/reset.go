package auth

import (
	"context"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/mail"
)

// mailPasswordReset queues u's password-reset mail within tx (voiding the
// previous one) and audits it with reason.
func (s *Service) mailPasswordReset(ctx context.Context, tx latchkey.Tx, u *latchkey.User, reason string, m Meta) error {
	if err := s.mailToken(ctx, tx, u.ID, latchkey.PurposePasswordReset, u.Email, mail.KindPasswordReset, PageResetPassword, true, mail.Data{}); err != nil {
		return err
	}
	return s.audit(ctx, tx, latchkey.AuditPasswordResetAsked, latchkey.OutcomeSuccess, reason, u.ID, "", m)
}

// ForgotPassword mails a password-reset link and code to the account with
// this address, if there is an enabled one. It answers the same, at once,
// for every address (AUTH-04): the look-up, the token and the mail happen
// off the request path, so that neither the answer nor its timing depends
// on whether the address is known. The mail goes only to the address
// stored for the account.
func (s *Service) ForgotPassword(ctx context.Context, emailIn string, m Meta) error {
	email, err := CanonicalEmail(emailIn)
	if err != nil {
		return err
	}
	return s.background(ctx, "a password-reset request", func(ctx context.Context) error {
		u, err := s.store.UserByEmail(ctx, email)
		if latchkey.IsCode(err, latchkey.ENotFound) {
			return s.Audit(ctx, latchkey.AuditEvent{Type: latchkey.AuditPasswordResetAsked, IP: m.IP, UserAgent: m.UserAgent,
				Outcome: latchkey.OutcomeFailure, Reason: "unknown_email"})
		}
		if err != nil {
			return err
		}
		if u.Disabled {
			return s.Audit(ctx, latchkey.AuditEvent{Type: latchkey.AuditPasswordResetAsked, UserID: u.ID, IP: m.IP,
				UserAgent: m.UserAgent, Outcome: latchkey.OutcomeFailure, Reason: "disabled"})
		}
		if err := s.store.InTx(ctx, func(tx latchkey.Tx) error { return s.mailPasswordReset(ctx, tx, u, "", m) }); err != nil {
			return err
		}
		s.mailQueued()
		return nil
	})
}

// ResetPassword spends a password-reset token and sets the new password.
// The slow work (policy, hashing) comes first; then one transaction spends
// the token, writes only the hash (compare-and-set), ends every session
// (and with them their refresh tokens), voids pending sign-in and reset
// mails, marks the address proven (the mail reached it), audits, and
// queues a "your password was changed" notice. A reset signs nobody in
// (AUTH-16).
func (s *Service) ResetPassword(ctx context.Context, p EmailProof, newPassword string, m Meta) error {
	p, err := p.check()
	if err != nil {
		return err
	}
	// With a code the address is known now; with a link, once the token
	// names the account (checked again below, which costs no hashing).
	if err := s.policy.Check(newPassword, p.Email); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, newPassword)
	if err != nil {
		return err
	}
	var u *latchkey.User
	var revoked []string
	err = s.withEmailToken(ctx, latchkey.PurposePasswordReset, p, func(tx latchkey.Tx, t *latchkey.EmailToken) error {
		var err error
		if u, err = tx.UserByID(ctx, t.UserID); err != nil {
			return notFoundAsInvalid(err)
		}
		if u.Email != t.Email || u.Disabled {
			return errInvalidEmailProof
		}
		if p.Email == "" {
			if err := s.policy.Check(newPassword, u.Email); err != nil {
				return err // the token stays unspent: the person tries another password
			}
		}
		now := s.now().UTC()
		if err := tx.SetPasswordHash(ctx, u.ID, u.PasswordHash, hash, now); err != nil {
			return err
		}
		if u, err = s.setVerified(ctx, tx, u, now); err != nil {
			return err
		}
		if revoked, err = tx.RevokeUserSessions(ctx, u.ID, "", now); err != nil {
			return err
		}
		if _, err := tx.VoidEmailTokens(ctx, u.ID, latchkey.PurposeSignIn, latchkey.PurposePasswordReset); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, latchkey.AuditPasswordReset, latchkey.OutcomeSuccess, "", u.ID, "", m); err != nil {
			return err
		}
		return s.queueMail(ctx, tx, mail.KindPasswordChanged, u.Email, mail.Data{Link: s.link(PageForgotPassword, "")})
	})
	if err != nil {
		return err
	}
	s.sessionsEnded(revoked)
	s.events.UserChanged(u.ID)
	s.mailQueued()
	return nil
}
