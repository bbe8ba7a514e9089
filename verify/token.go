package verify

import (
	"context"
	"errors"
	"strings"

	"github.com/latchkey/latchkey/internal/jwtcheck"
)

// tokenEntry is a verified token in the cache.
type tokenEntry struct {
	id  *Identity
	kid string
}

// verifyToken checks an access token; see the package documentation for
// the list of checks, which latchkey's own verifier shares.
func (v *Verifier) verifyToken(ctx context.Context, raw string) (*Identity, error) {
	if len(raw) > jwtcheck.MaxTokenLength {
		return nil, refuse(ErrInvalidToken, "token longer than 8 KiB", nil)
	}
	now := v.cfg.Clock()
	if v.tokens != nil {
		if e, ok := v.tokens.get(raw, now); ok {
			// A token whose key has since left the JWKS is no longer trusted.
			if ks := v.keys.Load(); ks != nil {
				if _, ok := ks.keys[e.kid]; ok {
					id := *e.id
					return &id, nil
				}
			}
		}
	}
	keys := &jwksKeys{v: v, ctx: ctx}
	claims, err := v.check.Check(raw, keys)
	if err != nil {
		var r *refusal
		var iss *jwtcheck.IssuerError
		switch {
		case errors.As(err, &r):
			return nil, err // from the JWKS: unknown kid, or the issuer unreachable
		case errors.Is(err, jwtcheck.ErrExpired):
			return nil, refuse(ErrTokenExpired, "expired", err)
		case errors.As(err, &iss):
			// A genuine signature with another iss: almost always the
			// issuer's URL spelt two ways. Say both; never the token.
			v.cfg.Logger.WarnContext(ctx, "latchkey verify: access token from another issuer refused",
				"expected_issuer", iss.Expected, "received_issuer", iss.Received)
		}
		return nil, refuse(ErrInvalidToken, "access token", err)
	}
	id := &Identity{
		Kind:      KindAccessToken,
		UserID:    claims.Subject,
		SessionID: claims.SessionID,
		Roles:     claims.Roles,
		Scopes:    strings.Fields(claims.Scope),
		ExpiresAt: claims.ExpiresAt.Time,
		AMR:       claims.AMR,
		ACR:       claims.ACR,
	}
	if claims.AuthTime != nil {
		id.AuthTime = claims.AuthTime.Time
	}
	if v.tokens != nil {
		v.tokens.put(raw, tokenEntry{id: id, kid: keys.kid}, claims.ExpiresAt.Time)
		cp := *id
		id = &cp
	}
	return id, nil
}

// jwksKeys hands the issuer's JWKS to the shared checker, and remembers the
// kid it was asked for (the cache forgets a token whose key is withdrawn).
type jwksKeys struct {
	v   *Verifier
	ctx context.Context
	kid string
}

// KeyForHeader never short-cuts: every header is parsed.
func (k *jwksKeys) KeyForHeader(string) (jwtcheck.Key, bool) { return jwtcheck.Key{}, false }

func (k *jwksKeys) KeyForKID(kid string) (jwtcheck.Key, error) {
	k.kid = kid
	return k.v.key(k.ctx, kid)
}
