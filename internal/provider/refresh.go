package provider

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/crypt"
)

// Refresh tokens of clients follow latchkey's own rotation: opaque, 256
// bits, stored as SHA-256, single use; each refresh returns a successor
// sealed under the token it replaces, so that a retry within the grace
// period gets that same successor and never a second one; presenting a
// used token after the grace period revokes the whole grant (the family)
// (RFC 9700 §4.14.2). A token works only for the client it was issued to.

// clientKey carries the client a token request names, so that a refresh
// token presented by another client is refused before it is touched.
type clientKey struct{}

func withClient(ctx context.Context, clientID string) context.Context {
	return context.WithValue(ctx, clientKey{}, clientID)
}

func clientOf(ctx context.Context) string {
	id, _ := ctx.Value(clientKey{}).(string)
	return id
}

// refreshRequest is a refresh grant as op sees it.
type refreshRequest struct {
	grant  *latchkey.Grant
	token  string
	scopes []string
}

var _ op.RefreshTokenRequest = (*refreshRequest)(nil)

func (r *refreshRequest) GetAMR() []string            { return r.grant.AMR }
func (r *refreshRequest) GetAudience() []string       { return []string{r.grant.ClientID} }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.grant.AuthTime }
func (r *refreshRequest) GetClientID() string         { return r.grant.ClientID }
func (r *refreshRequest) GetScopes() []string         { return r.scopes }
func (r *refreshRequest) GetSubject() string          { return r.grant.UserID }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.scopes = s }

// SetUserinfoFromRequest adds to an ID token what op takes only from an
// authorization request: the acr of the sign-in. A refreshed ID token, or
// a device's, says how the session signed in, as a code's does (amr and
// auth_time op takes from the request itself).
func (s storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req op.IDTokenRequest, _ []string) error {
	switch r := req.(type) {
	case *refreshRequest:
		if r.grant.ACR != "" {
			info.AppendClaims("acr", r.grant.ACR)
		}
	case *op.DeviceAuthorizationState:
		if len(r.AMR) > 0 {
			info.AppendClaims("acr", auth.ACRFor(r.AMR))
		}
	}
	return nil
}

var _ op.CanSetUserinfoFromRequest = storage{}

var errBadRefresh = errors.New("the refresh token is invalid, expired or revoked")

// TokenRequestByRefreshToken finds the grant of a live refresh token of
// the requesting client. A used one past the grace period is reuse: the
// grant is revoked.
func (s storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	if token == "" || len(token) > 128 {
		return nil, errBadRefresh
	}
	rt, err := s.p.store.ClientRefreshTokenByHash(ctx, crypt.Hash(token))
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return nil, errBadRefresh
	}
	if err != nil {
		return nil, err
	}
	g, err := s.p.store.GrantByID(ctx, rt.GrantID)
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return nil, errBadRefresh
	}
	if err != nil {
		return nil, err
	}
	if c := clientOf(ctx); c == "" || c != g.ClientID {
		return nil, errBadRefresh // another client's token: refused, and left as it was
	}
	now := s.p.now()
	if !now.Before(rt.ExpiresAt) || !g.Live(now) {
		return nil, errBadRefresh
	}
	if rt.UsedAt != nil && !s.p.withinGrace(rt, now) {
		return nil, s.p.refreshReused(ctx, g)
	}
	why := ""
	err = s.p.store.InTx(ctx, func(tx latchkey.Tx) error {
		why, err = s.p.sessionLive(ctx, tx, g.UserID, g.SessionID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if why != "" {
		return nil, errBadRefresh
	}
	return &refreshRequest{grant: g, token: token, scopes: slices.Clone(g.Scopes)}, nil
}

func (p *Provider) withinGrace(t *latchkey.ClientRefreshToken, now time.Time) bool {
	return p.cfg.RefreshReuseGrace > 0 && t.UsedAt != nil && len(t.SealedSuccessor) > 0 && now.Sub(*t.UsedAt) <= p.cfg.RefreshReuseGrace
}

// refreshReused revokes the grant of a refresh token used twice.
func (p *Provider) refreshReused(ctx context.Context, g *latchkey.Grant) error {
	err := p.store.InTx(ctx, func(tx latchkey.Tx) error {
		if err := tx.RevokeGrant(ctx, g.ID, p.now().UTC()); err != nil {
			return err
		}
		return p.audit(ctx, tx, latchkey.AuditRefreshReuse, latchkey.OutcomeFailure, "client "+g.ClientID+": refresh token used twice; its grant is revoked", g.UserID, g.SessionID)
	})
	if err != nil {
		return err
	}
	p.log.WarnContext(ctx, "client refresh token reused; the grant is revoked", "client_id", g.ClientID, "grant_id", g.ID)
	return errBadRefresh
}

// CreateAccessAndRefreshTokens issues an access token and a refresh token:
// for a code exchange with offline_access, the grant and its first
// refresh token; for a refresh, the rotation.
func (s storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	switch r := req.(type) {
	case *authRequest:
		g, next, err := s.p.grantFromCode(ctx, r.AuthRequest, true)
		if err != nil {
			return "", "", time.Time{}, err
		}
		at, exp, err := s.p.signFor(ctx, g)
		return at, next, exp, err
	case *op.DeviceAuthorizationState:
		g := grantOfDevice(ctx)
		if g == nil {
			return "", "", time.Time{}, oidc.ErrServerError().WithDescription("no grant for the device code")
		}
		next := crypt.RandomToken(32)
		if err := s.p.store.CreateClientRefreshToken(ctx, &latchkey.ClientRefreshToken{Hash: crypt.Hash(next), GrantID: g.ID,
			CreatedAt: s.p.now().UTC(), ExpiresAt: g.ExpiresAt}); err != nil {
			return "", "", time.Time{}, err
		}
		at, exp, err := s.p.signFor(ctx, g)
		return at, next, exp, err
	case *refreshRequest:
		next, err := s.p.rotate(ctx, r, current)
		if err != nil {
			return "", "", time.Time{}, err
		}
		a := grantAccess(r.grant)
		a.Scopes = r.scopes
		if a.Audience, err = narrowAudience(r.grant.Audience, resourcesOf(ctx)); err != nil {
			return "", "", time.Time{}, err
		}
		at, exp, err := s.p.tokens.sign(a)
		return at, next, exp, err
	}
	return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
}

// rotate uses up the presented refresh token and stores its successor in
// one transaction: of concurrent refreshes exactly one makes a successor,
// and the others (within the grace period) get that same one.
func (p *Provider) rotate(ctx context.Context, r *refreshRequest, current string) (string, error) {
	hash := crypt.Hash(current)
	var next string
	var reused bool
	err := p.store.InTx(ctx, func(tx latchkey.Tx) error {
		next, reused = "", false
		old, err := tx.ClientRefreshTokenByHash(ctx, hash)
		if err != nil {
			return err
		}
		now := p.now().UTC()
		if old.UsedAt == nil {
			candidate := crypt.RandomToken(32)
			sealed, err := crypt.SealForToken(current, []byte(candidate))
			if err != nil {
				return err
			}
			won, err := tx.MarkClientRefreshTokenUsed(ctx, hash, now, sealed)
			if err != nil {
				return err
			}
			if won {
				next = candidate
				if err := tx.CreateClientRefreshToken(ctx, &latchkey.ClientRefreshToken{Hash: crypt.Hash(next), GrantID: old.GrantID,
					CreatedAt: now, ExpiresAt: old.ExpiresAt}); err != nil {
					return err
				}
				return p.audit(ctx, tx, latchkey.AuditRefresh, latchkey.OutcomeSuccess, "client "+r.grant.ClientID, r.grant.UserID, r.grant.SessionID)
			}
			if old, err = tx.ClientRefreshTokenByHash(ctx, hash); err != nil {
				return err
			}
		}
		if p.withinGrace(old, now) {
			plain, err := crypt.OpenWithToken(current, old.SealedSuccessor)
			if err != nil {
				return err
			}
			next = string(plain)
			return p.audit(ctx, tx, latchkey.AuditRefreshGrace, latchkey.OutcomeSuccess, "client "+r.grant.ClientID+": retried within the grace period", r.grant.UserID, r.grant.SessionID)
		}
		reused = true
		return nil
	})
	if err != nil {
		return "", err
	}
	if reused {
		return "", oidc.ErrInvalidGrant().WithParent(p.refreshReused(ctx, r.grant))
	}
	return next, nil
}

// GetRefreshTokenInfo is for revocation: the grant of the client's refresh
// token (another client's is treated as unknown).
func (s storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	if token == "" || len(token) > 128 {
		return "", "", op.ErrInvalidRefreshToken
	}
	rt, err := s.p.store.ClientRefreshTokenByHash(ctx, crypt.Hash(token))
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return "", "", op.ErrInvalidRefreshToken
	}
	if err != nil {
		return "", "", err
	}
	g, err := s.p.store.GrantByID(ctx, rt.GrantID)
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return "", "", op.ErrInvalidRefreshToken
	}
	if err != nil {
		return "", "", err
	}
	if g.ClientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return g.UserID, grantRef + g.ID, nil
}

// grantRef marks a token id that names a grant (a refresh token's) rather
// than an access token.
const grantRef = "grant:"

// RevokeToken (RFC 7009) revokes the grant behind a client's refresh or
// access token: every token of that authorization stops. A token of
// another client, or one that is unknown or already dead, is answered as
// revoked without effect; a storage failure is an error (fail closed).
func (s storage) RevokeToken(ctx context.Context, tokenOrID, _, clientID string) *oidc.Error {
	grantID := ""
	if id, ok := cutPrefix(tokenOrID, grantRef); ok {
		grantID = id
	} else if c, err := s.p.tokens.verify(tokenOrID); err == nil && c.ClientID == clientID {
		if c.GrantID == "" {
			return &oidc.Error{ErrorType: "unsupported_token_type", Description: "A client-credentials access token expires by itself; it cannot be revoked."}
		}
		grantID = c.GrantID
	}
	if grantID == "" {
		return nil
	}
	g, err := s.p.store.GrantByID(ctx, grantID)
	if latchkey.IsCode(err, latchkey.ENotFound) || (err == nil && g.ClientID != clientID) {
		return nil
	}
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	err = s.p.store.InTx(ctx, func(tx latchkey.Tx) error {
		if err := tx.RevokeGrant(ctx, g.ID, s.p.now().UTC()); err != nil {
			return err
		}
		return s.p.audit(ctx, tx, latchkey.AuditProviderGrantRevoked, latchkey.OutcomeSuccess, "client "+clientID+": revoked by the client", g.UserID, g.SessionID)
	})
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) > len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return "", false
}
