package auth

import (
	"context"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/apikey"
	"github.com/latchkey/latchkey/internal/crypt"
)

// Token types of an introspection answer (RFC 7662 token_type).
const (
	TokenTypeAccess  = "access_token"
	TokenTypeRefresh = "refresh_token"
	TokenTypeAPIKey  = "api_key"
)

// Introspection describes a live credential. A credential that is not live
// is reported as nil, never with a reason.
type Introspection struct {
	TokenType string
	Subject   string
	SessionID string
	APIKeyID  string
	Roles     []string
	Scope     string // space-separated; "" when unscoped
	IssuedAt  time.Time
	ExpiresAt time.Time // zero for an API key without expiry
	// AMR and ACR say how the session of a token authenticated, as the
	// session records it now (a step-up shows at once); empty for an API key.
	AMR []string
	ACR string
}

// Introspect tells whether raw is a live access token, refresh token or
// API key (RFC 7662). It returns nil, nil for anything revoked, expired,
// malformed or unknown; an error only when the answer cannot be known
// (the database failed), so that callers fail closed. The kind is told by
// the credential's shape, not by the caller's hint. A refresh token is only
// looked at, never used up.
func (s *Service) Introspect(ctx context.Context, raw string) (*Introspection, error) {
	switch {
	case raw == "" || len(raw) > 8<<10:
		return nil, nil
	case apikey.LooksLikeKey(raw):
		return s.introspectAPIKey(ctx, raw)
	case strings.Count(raw, ".") == 2:
		return s.introspectAccessToken(ctx, raw)
	default:
		return s.introspectRefreshToken(ctx, raw)
	}
}

func (s *Service) introspectAPIKey(ctx context.Context, raw string) (*Introspection, error) {
	p, err := s.AuthenticateAPIKey(ctx, raw)
	if latchkey.IsCode(err, latchkey.EInvalidAPIKey) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	in := &Introspection{TokenType: TokenTypeAPIKey, Subject: p.User.ID, APIKeyID: p.APIKey.ID,
		Roles: p.User.Roles, Scope: strings.Join(p.APIKey.Scopes, " "), IssuedAt: p.APIKey.CreatedAt}
	if p.APIKey.ExpiresAt != nil {
		in.ExpiresAt = *p.APIKey.ExpiresAt
	}
	return in, nil
}

func (s *Service) introspectAccessToken(ctx context.Context, raw string) (*Introspection, error) {
	claims, err := s.verifier.Verify(raw)
	if err != nil {
		return nil, nil // every verification failure is "not active"
	}
	sess, u, why, err := s.liveSession(ctx, s.store, claims.SessionID, s.now())
	if err != nil {
		return nil, err
	}
	if why != "" || sess.UserID != claims.Subject {
		return nil, nil
	}
	// The user's roles now, not the ones frozen into the token: a demoted
	// user is reported demoted at once, as /v1/verify does.
	in := &Introspection{TokenType: TokenTypeAccess, Subject: u.ID, SessionID: sess.ID, Roles: u.Roles, Scope: claims.Scope,
		AMR: sess.AMR, ACR: ACRFor(sess.AMR)}
	if claims.IssuedAt != nil {
		in.IssuedAt = claims.IssuedAt.Time
	}
	if claims.ExpiresAt != nil {
		in.ExpiresAt = claims.ExpiresAt.Time
	}
	return in, nil
}

func (s *Service) introspectRefreshToken(ctx context.Context, raw string) (*Introspection, error) {
	if len(raw) > MaxRefreshTokenLength {
		return nil, nil
	}
	t, err := s.store.RefreshTokenByHash(ctx, crypt.Hash(raw))
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if t.UsedAt != nil || !now.Before(t.ExpiresAt) {
		return nil, nil
	}
	sess, u, why, err := s.liveSession(ctx, s.store, t.SessionID, now)
	if err != nil {
		return nil, err
	}
	if why != "" || sess.UserID != t.UserID {
		return nil, nil
	}
	return &Introspection{TokenType: TokenTypeRefresh, Subject: u.ID, SessionID: sess.ID, Roles: u.Roles,
		IssuedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, AMR: sess.AMR, ACR: ACRFor(sess.AMR)}, nil
}
