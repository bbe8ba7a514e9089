package auth

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/crypt"
)

var errInvalidGrant = latchkey.Errorf(latchkey.EInvalidGrant, "The refresh token is invalid, expired or revoked.")

// MaxRefreshTokenLength bounds what is hashed and looked up.
const MaxRefreshTokenLength = 128

// Refresh exchanges a refresh token for a new access token and a new
// refresh token. The presented token is used up in the same transaction
// that stores its successor, so concurrent refreshes of one token yield
// exactly one successor. Presenting a used token again is reuse: outside
// the grace period it ends the whole session (RFC 9700 §4.14.2); inside it,
// the client gets the same successor again (a retry after a lost response).
func (s *Service) Refresh(ctx context.Context, refreshToken string, m Meta) (*Tokens, error) {
	if refreshToken == "" || len(refreshToken) > MaxRefreshTokenLength {
		return nil, s.refreshFailed("malformed")
	}
	var (
		result  *Tokens
		reuse   *latchkey.RefreshToken
		refused string
		grace   bool
	)
	hash := crypt.Hash(refreshToken)
	err := s.store.InTx(ctx, func(tx latchkey.Tx) error {
		result, reuse, refused, grace = nil, nil, "", false
		old, err := tx.RefreshTokenByHash(ctx, hash)
		if latchkey.IsCode(err, latchkey.ENotFound) {
			refused = "unknown"
			return nil
		}
		if err != nil {
			return err
		}
		now := s.now().UTC()
		sess, u, why, err := s.liveSession(ctx, tx, old.SessionID, now)
		if err != nil {
			return err
		}
		if why != "" {
			refused = why
			return nil
		}
		if !now.Before(old.ExpiresAt) {
			refused = "expired"
			return nil
		}
		if old.UsedAt == nil {
			sealed, next, err := s.successor(refreshToken)
			if err != nil {
				return err
			}
			won, err := tx.MarkRefreshTokenUsed(ctx, hash, now, sealed)
			if err != nil {
				return err
			}
			if won {
				return s.rotate(ctx, tx, old, sess, u, next, m, &result)
			}
			// Another request used it first; read what it wrote.
			if old, err = tx.RefreshTokenByHash(ctx, hash); err != nil {
				return err
			}
		}
		if s.withinGrace(old, now) {
			next, err := crypt.OpenWithToken(refreshToken, old.SealedSuccessor)
			if err != nil {
				return err
			}
			result, grace = &Tokens{RefreshToken: latchkey.Secret(next), RefreshExpiresAt: sess.ExpiresAt, Session: sess, User: u}, true
			// A retry is normal, but it hands out the successor once more:
			// the trail must show it.
			return s.audit(ctx, tx, latchkey.AuditRefreshGrace, latchkey.OutcomeSuccess, "retried within the grace period", u.ID, sess.ID, m)
		}
		reuse = old
		if err := tx.RevokeSession(ctx, sess.ID, now); err != nil {
			return err
		}
		return s.audit(ctx, tx, latchkey.AuditRefreshReuse, latchkey.OutcomeFailure, "refresh token used twice", u.ID, sess.ID, m)
	})
	switch {
	case err != nil:
		return nil, err
	case refused != "":
		return nil, s.refreshFailed(refused)
	case reuse != nil:
		s.events.SessionsRevoked([]string{reuse.SessionID})
		return nil, s.refreshFailed("reuse")
	}
	// Signing happens after the commit so the transaction stays short.
	out, err := s.tokens(result.User, result.Session, result.RefreshToken.Reveal())
	if err != nil {
		return nil, err
	}
	if grace {
		s.events.Refresh("grace")
	} else {
		s.events.Refresh("success")
	}
	return out, nil
}

func (s *Service) refreshFailed(reason string) error {
	s.events.Refresh(reason)
	return errInvalidGrant
}

func (s *Service) withinGrace(t *latchkey.RefreshToken, now time.Time) bool {
	return s.cfg.RefreshReuseGrace > 0 && t.UsedAt != nil && len(t.SealedSuccessor) > 0 &&
		now.Sub(*t.UsedAt) <= s.cfg.RefreshReuseGrace
}

// successor makes the next refresh token and seals it under the current one.
func (s *Service) successor(current string) (sealed []byte, next string, err error) {
	next = crypt.RandomToken(32)
	sealed, err = crypt.SealForToken(current, []byte(next))
	return sealed, next, err
}

func (s *Service) rotate(ctx context.Context, tx latchkey.Tx, old *latchkey.RefreshToken, sess *latchkey.Session,
	u *latchkey.User, next string, m Meta, out **Tokens) error {
	now := s.now().UTC()
	err := tx.CreateRefreshToken(ctx, &latchkey.RefreshToken{Hash: crypt.Hash(next), SessionID: sess.ID, UserID: u.ID,
		CreatedAt: now, ExpiresAt: old.ExpiresAt})
	if err != nil {
		return err
	}
	if err := tx.TouchSession(ctx, sess.ID, now); err != nil {
		return err
	}
	sess.LastUsedAt = now
	if err := s.audit(ctx, tx, latchkey.AuditRefresh, latchkey.OutcomeSuccess, "", u.ID, sess.ID, m); err != nil {
		return err
	}
	*out = &Tokens{RefreshToken: latchkey.Secret(next), RefreshExpiresAt: sess.ExpiresAt, Session: sess, User: u}
	return nil
}

// liveSession loads a session and its user and says why they cannot be
// used ("" when they can).
func (s *Service) liveSession(ctx context.Context, tx accounts, sessionID string, now time.Time) (*latchkey.Session, *latchkey.User, string, error) {
	sess, err := tx.SessionByID(ctx, sessionID)
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return nil, nil, "session_gone", nil
	}
	if err != nil {
		return nil, nil, "", err
	}
	if !sess.Active(now, s.cfg.SessionIdleTimeout) {
		return nil, nil, "session_ended", nil
	}
	u, err := tx.UserByID(ctx, sess.UserID)
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return nil, nil, "user_gone", nil
	}
	if err != nil {
		return nil, nil, "", err
	}
	if u.Disabled {
		return nil, nil, "user_disabled", nil
	}
	return sess, u, "", nil
}
