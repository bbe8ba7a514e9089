package auth

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
)

var errRevoked = latchkey.Errorf(latchkey.EInvalidToken, "The access token is invalid.")

// AuthenticateAccessToken verifies an access token and checks, on the
// server, that its session is still alive and its user still enabled, so
// logout and revocation take effect at once for latchkey's own endpoints.
func (s *Service) AuthenticateAccessToken(ctx context.Context, raw string) (*Principal, error) {
	claims, err := s.tokenCache.Verify(raw)
	if err != nil {
		return nil, err
	}
	now := s.now()
	sess, u, err := s.cachedLiveSession(ctx, claims.SessionID, now)
	if err != nil {
		return nil, err
	}
	if sess == nil || sess.UserID != claims.Subject {
		return nil, errRevoked
	}
	user := *u // the cached user is shared; hand out a copy
	p := &Principal{User: &user, SessionID: sess.ID, Via: "bearer", AuthTime: sess.AuthTime, AMR: sess.AMR}
	if claims.Scope != "" {
		p.Scopes = splitScope(claims.Scope)
	}
	return p, nil
}

// cachedLiveSession is liveSession through the session cache: a live
// session and user (nil, nil when they cannot be used).
func (s *Service) cachedLiveSession(ctx context.Context, id string, now time.Time) (*latchkey.Session, *latchkey.User, error) {
	sess, u, epoch, hit := s.sessions.get(id, now)
	if hit {
		if !sess.Active(now, s.cfg.SessionIdleTimeout) {
			return nil, nil, nil
		}
		return sess, u, nil
	}
	sess, u, why, err := s.liveSession(ctx, s.store, id, now)
	if err != nil || why != "" {
		return nil, nil, err
	}
	s.sessions.put(sess, u, epoch, now)
	return sess, u, nil
}

func splitScope(s string) []string {
	var out []string
	start := -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	return out
}

// Logout scopes.
const (
	LogoutLocal  = "local"
	LogoutOthers = "others"
	LogoutGlobal = "global"
)

// Logout ends this session, the user's other sessions, or all of them.
func (s *Service) Logout(ctx context.Context, p *Principal, scope string, m Meta) error {
	if p.SessionID == "" {
		return latchkey.Errorf(latchkey.EInvalidRequest, "Signing out needs a session; an API key has none.")
	}
	var revoked []string
	err := s.store.InTx(ctx, func(tx latchkey.Tx) error {
		now := s.now().UTC()
		var err error
		switch scope {
		case "", LogoutLocal:
			revoked = []string{p.SessionID}
			err = tx.RevokeSession(ctx, p.SessionID, now)
		case LogoutOthers:
			revoked, err = tx.RevokeUserSessions(ctx, p.User.ID, p.SessionID, now)
		case LogoutGlobal:
			revoked, err = tx.RevokeUserSessions(ctx, p.User.ID, "", now)
		default:
			return latchkey.Errorf(latchkey.EInvalidRequest, "The scope must be local, others or global.")
		}
		if err != nil {
			return err
		}
		reason := scope
		if reason == "" {
			reason = LogoutLocal
		}
		return s.audit(ctx, tx, latchkey.AuditLogout, latchkey.OutcomeSuccess, reason, p.User.ID, p.SessionID, m)
	})
	if err != nil {
		return err
	}
	s.events.SessionsRevoked(revoked)
	return nil
}

// ListSessions returns the user's live sessions.
func (s *Service) ListSessions(ctx context.Context, userID string) ([]latchkey.Session, error) {
	all, err := s.store.ListSessions(ctx, userID, s.now().UTC())
	if err != nil {
		return nil, err
	}
	live := all[:0]
	for _, sess := range all {
		if sess.Active(s.now(), s.cfg.SessionIdleTimeout) {
			live = append(live, sess)
		}
	}
	return live, nil
}

// RevokeSession ends one of the user's sessions. Another user's session is
// reported as not found, so ids cannot be probed.
func (s *Service) RevokeSession(ctx context.Context, userID, sessionID string, m Meta) error {
	err := s.store.InTx(ctx, func(tx latchkey.Tx) error {
		sess, err := tx.SessionByID(ctx, sessionID)
		if latchkey.IsCode(err, latchkey.ENotFound) || (err == nil && (sess.UserID != userID || sess.RevokedAt != nil)) {
			return latchkey.Errorf(latchkey.ENotFound, "No such session.")
		}
		if err != nil {
			return err
		}
		if err := tx.RevokeSession(ctx, sessionID, s.now().UTC()); err != nil {
			return err
		}
		return s.audit(ctx, tx, latchkey.AuditSessionRevoked, latchkey.OutcomeSuccess, "", userID, sessionID, m)
	})
	if err != nil {
		return err
	}
	s.events.SessionsRevoked([]string{sessionID})
	return nil
}
