package auth

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/crypt"
)

// MaxCookieLength bounds a session cookie value before it is hashed.
const MaxCookieLength = 128

// touchEvery limits how often use of a session is written back: at most
// once a minute per session, not once per request.
const touchEvery = time.Minute

var errCookieInvalid = latchkey.Errorf(latchkey.ETokenRequired, "Sign in to continue.")

// StartCookieSession starts a browser session: the same server-side session
// as a bearer login, whose credential is an opaque cookie (256 bits, only
// its SHA-256 stored). how says how it was authenticated (see StartSession).
func (s *Service) StartCookieSession(ctx context.Context, u *latchkey.User, m Meta, how SignIn) (latchkey.Secret, *latchkey.Session, error) {
	var c *cookieSession
	err := s.store.InTx(ctx, func(tx latchkey.Tx) error {
		var err error
		c, err = s.startCookieSessionTx(ctx, tx, u, m, how)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return s.cookieSessionStarted(c, how.Audit), c.sess, nil
}

// cookieSession is a browser session created in a transaction, before the
// commit announces it.
type cookieSession struct {
	value string
	sess  *latchkey.Session
	ended []string // sessions ended by the cap
}

// startCookieSessionTx creates a cookie session within tx.
func (s *Service) startCookieSessionTx(ctx context.Context, tx latchkey.Tx, u *latchkey.User, m Meta, how SignIn) (*cookieSession, error) {
	now := s.now().UTC()
	value := crypt.RandomToken(32)
	sess := &latchkey.Session{ID: latchkey.NewID(now), UserID: u.ID, CreatedAt: now, LastUsedAt: now, AuthTime: now,
		AMR: AddAMR(nil, how.AMR...), ExpiresAt: now.Add(s.cfg.RefreshTokenTTL), IP: m.IP, UserAgent: truncate(m.UserAgent, 512), CookieHash: crypt.Hash(value)}
	if err := tx.CreateSession(ctx, sess); err != nil {
		return nil, err
	}
	ended, err := s.capSessions(ctx, tx, u.ID, m)
	if err != nil {
		return nil, err
	}
	if how.Audit != "" {
		if err := s.audit(ctx, tx, how.Audit, latchkey.OutcomeSuccess, "cookie", u.ID, sess.ID, m); err != nil {
			return nil, err
		}
	}
	return &cookieSession{value: value, sess: sess, ended: ended}, nil
}

// cookieSessionStarted reports a committed cookie session.
func (s *Service) cookieSessionStarted(c *cookieSession, auditType string) latchkey.Secret {
	s.sessionsEnded(c.ended)
	if auditType == latchkey.AuditLoginSucceeded || auditType == latchkey.AuditEmailSignIn {
		s.events.Login("success")
	}
	return latchkey.Secret(c.value)
}

// AuthenticateCookie finds the live session of a browser cookie. Use renews
// the session's idle timeout (written at most once a minute).
func (s *Service) AuthenticateCookie(ctx context.Context, value string) (*Principal, error) {
	if value == "" || len(value) > MaxCookieLength {
		return nil, errCookieInvalid
	}
	sess, err := s.store.SessionByCookieHash(ctx, crypt.Hash(value))
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return nil, errCookieInvalid
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	live, u, why, err := s.liveSession(ctx, s.store, sess.ID, now)
	if err != nil {
		return nil, err
	}
	if why != "" {
		return nil, errCookieInvalid
	}
	if now.Sub(sess.LastUsedAt) >= touchEvery {
		if err := s.store.TouchSession(ctx, sess.ID, now.UTC()); err != nil {
			return nil, err
		}
	}
	return &Principal{User: u, SessionID: sess.ID, Via: "cookie", AuthTime: live.AuthTime, AMR: live.AMR}, nil
}
