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
// its SHA-256 stored). auditType is written with it ("" for none).
func (s *Service) StartCookieSession(ctx context.Context, u *latchkey.User, m Meta, auditType string) (latchkey.Secret, *latchkey.Session, error) {
	now := s.now().UTC()
	value := crypt.RandomToken(32)
	sess := &latchkey.Session{ID: latchkey.NewID(now), UserID: u.ID, CreatedAt: now, LastUsedAt: now, AuthTime: now,
		ExpiresAt: now.Add(s.cfg.RefreshTokenTTL), IP: m.IP, UserAgent: truncate(m.UserAgent, 512), CookieHash: crypt.Hash(value)}
	var ended []string
	err := s.store.InTx(ctx, func(tx latchkey.Tx) error {
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		var err error
		if ended, err = s.capSessions(ctx, tx, u.ID, m); err != nil {
			return err
		}
		if auditType == "" {
			return nil
		}
		return s.audit(ctx, tx, auditType, latchkey.OutcomeSuccess, "cookie", u.ID, sess.ID, m)
	})
	if err != nil {
		return "", nil, err
	}
	s.sessionsEnded(ended)
	if auditType == latchkey.AuditLoginSucceeded {
		s.events.Login("success")
	}
	return latchkey.Secret(value), sess, nil
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
	return &Principal{User: u, SessionID: sess.ID, Via: "cookie", AuthTime: live.AuthTime}, nil
}
