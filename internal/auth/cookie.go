package auth

import (
	"cmp"
	"context"
	"slices"
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
// A user with an active second factor that how did not prove is refused
// (insufficient_authentication): SignInBrowser asks for the factor instead.
func (s *Service) StartCookieSession(ctx context.Context, u *latchkey.User, m Meta, how SignIn) (latchkey.Secret, *latchkey.Session, error) {
	b, err := s.signInBrowser(ctx, u, m, how, false)
	if err != nil {
		return "", nil, err
	}
	return b.Cookie, b.Session, nil
}

// BrowserSignIn is a hosted page's sign-in: a new browser session, or a
// challenge for the second factor (then Cookie and Session are empty).
type BrowserSignIn struct {
	Cookie    latchkey.Secret
	Session   *latchkey.Session
	Challenge *MFAChallenge
}

// SignInBrowser starts a browser session as StartCookieSession does, or,
// for a user with an active second factor that how did not prove, creates
// the challenge that asks for it (VerifyMFABrowser completes it).
func (s *Service) SignInBrowser(ctx context.Context, u *latchkey.User, m Meta, how SignIn) (*BrowserSignIn, error) {
	return s.signInBrowser(ctx, u, m, how, true)
}

func (s *Service) signInBrowser(ctx context.Context, u *latchkey.User, m Meta, how SignIn, mayChallenge bool) (*BrowserSignIn, error) {
	var c *cookieSession
	err := s.store.InTx(ctx, func(tx latchkey.Tx) error {
		var err error
		c, err = s.startCookieSessionTx(ctx, tx, u, m, how, mayChallenge)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.cookieSessionStarted(c, how.Audit), nil
}

// cookieSession is a browser session (or a challenge) created in a
// transaction, before the commit announces it.
type cookieSession struct {
	value     string
	sess      *latchkey.Session
	ended     []string // sessions ended by the cap
	challenge *MFAChallenge
}

var errSecondFactorFirst = latchkey.Errorf(latchkey.EInsufficientAuthentication,
	"This account has two-step sign-in: sign in on the login page, which asks for the code.")

// startCookieSessionTx creates a cookie session within tx; for a user with
// an active second factor that how did not prove, a challenge (when
// mayChallenge) or a refusal.
func (s *Service) startCookieSessionTx(ctx context.Context, tx latchkey.Tx, u *latchkey.User, m Meta, how SignIn, mayChallenge bool) (*cookieSession, error) {
	if !mayChallenge && !slices.Contains(how.AMR, AMRMFA) {
		if active, err := hasActiveFactor(ctx, tx, u.ID); err != nil || active {
			return nil, cmp.Or(err, error(errSecondFactorFirst))
		}
	}
	if ch, err := s.challengeIfNeeded(ctx, tx, u, how, m); err != nil || ch != nil {
		return &cookieSession{challenge: ch}, err
	}
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

// cookieSessionStarted reports a committed cookie session (or challenge).
func (s *Service) cookieSessionStarted(c *cookieSession, auditType string) *BrowserSignIn {
	if c.challenge != nil {
		return &BrowserSignIn{Challenge: c.challenge}
	}
	s.sessionsEnded(c.ended)
	if auditType == latchkey.AuditLoginSucceeded || auditType == latchkey.AuditEmailSignIn {
		s.events.Login("success")
	}
	return &BrowserSignIn{Cookie: latchkey.Secret(c.value), Session: c.sess}
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
