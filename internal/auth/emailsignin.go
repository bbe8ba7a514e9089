package auth

import (
	"context"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/mail"
)

var errEmailSignInOff = latchkey.Errorf(latchkey.ENotFound, "Signing in by mail is not enabled on this server.")

// StartEmailSignIn mails a sign-in link and code to the account with this
// address, if there is an enabled one (only with --email-sign-in). It
// answers the same, at once, for every address: the work happens off the
// request path.
func (s *Service) StartEmailSignIn(ctx context.Context, emailIn string, m Meta) error {
	if !s.email.SignIn {
		return errEmailSignInOff
	}
	email, err := CanonicalEmail(emailIn)
	if err != nil {
		return err
	}
	return s.background(ctx, "a sign-in mail", func(ctx context.Context) error {
		u, err := s.store.UserByEmail(ctx, email)
		if latchkey.IsCode(err, latchkey.ENotFound) {
			return nil
		}
		if err != nil || u.Disabled {
			return err
		}
		err = s.store.InTx(ctx, func(tx latchkey.Tx) error {
			return s.mailToken(ctx, tx, u.ID, latchkey.PurposeSignIn, u.Email, mail.KindSignIn, PageEmailSignIn, true, mail.Data{})
		})
		if err != nil {
			return err
		}
		s.mailQueued()
		return nil
	})
}

// VerifyEmailSignIn spends a sign-in token and starts a session, in one
// transaction. The mail proved the address, so an unproven one becomes
// proven.
func (s *Service) VerifyEmailSignIn(ctx context.Context, p EmailProof, m Meta) (*Tokens, error) {
	var st *newSession
	u, err := s.emailSignIn(ctx, p, func(tx latchkey.Tx, u *latchkey.User) (err error) {
		st, err = s.startSessionTx(ctx, tx, u, m, SignInEmail)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.sessionStarted(u, st, latchkey.AuditEmailSignIn)
}

// VerifyEmailSignInCookie is VerifyEmailSignIn for a browser on the hosted
// page: the new session's credential is a cookie, not a token pair.
func (s *Service) VerifyEmailSignInCookie(ctx context.Context, p EmailProof, m Meta) (latchkey.Secret, *latchkey.Session, error) {
	var c *cookieSession
	_, err := s.emailSignIn(ctx, p, func(tx latchkey.Tx, u *latchkey.User) (err error) {
		c, err = s.startCookieSessionTx(ctx, tx, u, m, SignInEmail)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return s.cookieSessionStarted(c, latchkey.AuditEmailSignIn), c.sess, nil
}

// emailSignIn spends a sign-in token and, in the same transaction, proves
// the address and starts the session that start creates.
func (s *Service) emailSignIn(ctx context.Context, p EmailProof, start func(tx latchkey.Tx, u *latchkey.User) error) (*latchkey.User, error) {
	if !s.email.SignIn {
		return nil, errEmailSignInOff
	}
	var u *latchkey.User
	err := s.withEmailToken(ctx, latchkey.PurposeSignIn, p, func(tx latchkey.Tx, t *latchkey.EmailToken) error {
		var err error
		if u, err = s.provenUser(ctx, tx, t); err != nil {
			return err
		}
		return start(tx, u)
	})
	if err != nil {
		return nil, err
	}
	s.events.UserChanged(u.ID)
	return u, nil
}
