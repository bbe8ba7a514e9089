package provider

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/crypt"
)

type jwtAlg = jose.SignatureAlgorithm

// storage is op's Storage on latchkey's database and keys.
type storage struct{ p *Provider }

var _ op.Storage = storage{}

// CreateAuthRequest keeps an authorization request that op has checked
// (client, redirect URI, response type), after latchkey's own stricter
// rules: the redirect URI matches one registered exactly (op lets a native
// app's loopback port vary), PKCE with S256 (plain and none are refused),
// responses in the query only, and the scopes cut to those the client may
// ask for.
func (s storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	cl, err := s.p.store.ClientByID(ctx, req.ClientID)
	if err != nil {
		return nil, oidc.ErrInvalidRequestRedirectURI().WithDescription("unknown client")
	}
	if !slices.Contains(cl.RedirectURIs, req.RedirectURI) {
		return nil, oidc.ErrInvalidRequestRedirectURI().WithDescription("The redirect_uri is not registered for this client.")
	}
	if !cl.AllowsGrant(latchkey.GrantAuthorizationCode) {
		return nil, oidc.ErrUnauthorizedClient().WithDescription("This client may not use the authorization code grant.")
	}
	if req.ResponseMode != "" && req.ResponseMode != oidc.ResponseModeQuery {
		return nil, oidc.ErrInvalidRequest().WithDescription("Only response_mode=query is supported.")
	}
	if req.CodeChallenge == "" || req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE is required: send code_challenge with code_challenge_method=S256 (plain is not accepted).")
	}
	if len(req.CodeChallenge) != 43 {
		return nil, oidc.ErrInvalidRequest().WithDescription("The code_challenge must be the 43-character base64url SHA-256 of the verifier.")
	}
	var scopes []string
	for _, sc := range req.Scopes {
		if cl.AllowsScope(sc) && !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	if len(scopes) == 0 {
		return nil, oidc.ErrInvalidScope().WithDescription("None of the requested scopes is allowed for this client.")
	}
	var resources []string
	if asked := resourcesOf(ctx); len(asked) > 0 {
		if resources, err = audienceFor(cl, asked); err != nil {
			return nil, err
		}
	}
	now := s.p.now().UTC()
	r := &latchkey.AuthRequest{ID: latchkey.NewID(now), ClientID: cl.ID, CreatedAt: now, ExpiresAt: now.Add(s.p.cfg.AuthRequestTTL),
		Params: latchkey.AuthParams{RedirectURI: req.RedirectURI, Scopes: scopes, State: req.State, Nonce: req.Nonce,
			ResponseMode: string(req.ResponseMode), CodeChallenge: req.CodeChallenge, Prompt: req.Prompt, MaxAge: req.MaxAge,
			LoginHint: req.LoginHint, ACRValues: req.ACRValues, Resources: resources}}
	for _, l := range req.UILocales {
		r.Params.UILocales = append(r.Params.UILocales, l.String())
	}
	if err := s.p.store.CreateAuthRequest(ctx, r); err != nil {
		return nil, err
	}
	return &authRequest{r}, nil
}

// errRequestGone is what op hears of an unknown or expired request.
var errRequestGone = oidc.ErrInvalidRequest().WithDescription("The authorization request is unknown or has expired; start again.")

func (s storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	r, err := s.p.store.AuthRequestByID(ctx, id)
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return nil, errRequestGone
	}
	if err != nil {
		return nil, err
	}
	if !s.p.now().Before(r.ExpiresAt) {
		return nil, errRequestGone
	}
	return &authRequest{r}, nil
}

// AuthRequestByCode uses the code up, atomically: a second exchange of a
// code is refused and revokes what the first one issued (RFC 6749 §4.1.2).
func (s storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	if code == "" || len(code) > 128 {
		return nil, errors.New("malformed code")
	}
	now := s.p.now().UTC()
	var r *latchkey.AuthRequest
	var first bool
	err := s.p.store.InTx(ctx, func(tx latchkey.Tx) error {
		var err error
		r, first, err = tx.UseAuthCode(ctx, crypt.Hash(code), now)
		if err != nil || first {
			return err
		}
		if err := tx.RevokeGrant(ctx, r.ID, now); err != nil && !latchkey.IsCode(err, latchkey.ENotFound) {
			return err
		}
		return s.p.audit(ctx, tx, latchkey.AuditProviderCodeReuse, latchkey.OutcomeFailure, "client "+r.ClientID+": a code was exchanged twice; its tokens are revoked", r.UserID, r.SessionID)
	})
	switch {
	case err != nil:
		return nil, err
	case !first:
		s.p.log.WarnContext(ctx, "authorization code reused; the grant it issued is revoked", "client_id", r.ClientID, "grant_id", r.ID)
		return nil, errors.New("code already used")
	case r.CodeExpiresAt == nil || !now.Before(*r.CodeExpiresAt) || r.DoneAt == nil:
		return nil, errors.New("code expired")
	}
	return &authRequest{r}, nil
}

func (s storage) SaveAuthCode(ctx context.Context, id, code string) error {
	return s.p.store.SetAuthCode(ctx, id, crypt.Hash(code), s.p.now().UTC().Add(s.p.cfg.CodeTTL))
}

// DeleteAuthRequest keeps the request: its code must stay recognisable as
// used until it expires (the janitor removes it then).
func (s storage) DeleteAuthRequest(context.Context, string) error { return nil }

// CreateAccessToken makes the access token, and is where a code exchange
// becomes a grant. It returns the signed token as op's "token id"; op's
// Crypto (opCrypto) hands it out as the bearer token.
func (s storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	switch r := req.(type) {
	case *authRequest:
		g, _, err := s.p.grantFromCode(ctx, r.AuthRequest, false)
		if err != nil {
			return "", time.Time{}, err
		}
		return s.p.signFor(ctx, g)
	case *credentialsRequest:
		return s.p.tokens.sign(accessGrant{Subject: r.clientID, ClientID: r.clientID, Audience: r.audience, Scopes: r.scopes})
	case *op.DeviceAuthorizationState:
		g := grantOfDevice(ctx)
		if g == nil {
			return "", time.Time{}, oidc.ErrServerError().WithDescription("no grant for the device code")
		}
		return s.p.signFor(ctx, g)
	}
	return "", time.Time{}, oidc.ErrUnsupportedGrantType()
}

// SigningKey is latchkey's current signing key: ID tokens are signed with
// the key that signs latchkey's access tokens, published in the one JWKS.
func (s storage) SigningKey(context.Context) (op.SigningKey, error) {
	kr := s.p.keys()
	if kr == nil {
		return nil, errors.New("provider: no keyring")
	}
	kid, alg, signer := kr.Signer()
	if signer == nil {
		return nil, errors.New("provider: no current signing key")
	}
	return opSigningKey{kid: kid, alg: alg, key: signer}, nil
}

func (s storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	kr := s.p.keys()
	if kr == nil {
		return nil, errors.New("provider: no keyring")
	}
	return []jose.SignatureAlgorithm{jose.SignatureAlgorithm(kr.CurrentAlgorithm())}, nil
}

func (s storage) KeySet(context.Context) ([]op.Key, error) {
	kr := s.p.keys()
	if kr == nil {
		return nil, errors.New("provider: no keyring")
	}
	var out []op.Key
	for kid, k := range kr.PublicKeys() {
		out = append(out, opPublicKey{kid: kid, key: k})
	}
	return out, nil
}

func (s storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	cl, err := s.p.clientByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return &opClient{c: cl, p: s.p}, nil
}

var errClientUnknown = oidc.ErrInvalidClient().WithDescription("unknown client")

// AuthorizeClientIDSecret checks a client secret: SHA-256 and a
// constant-time comparison with the current and, during a rotation, the
// previous secret. A failure is audited.
func (s storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	cl, err := s.p.clientByID(ctx, id)
	if err != nil {
		return err
	}
	if !CheckSecret(cl, secret, s.p.now()) {
		s.p.clientAuthFailed(ctx, cl.ID)
		return oidc.ErrInvalidClient().WithDescription("client authentication failed")
	}
	return nil
}

// SetUserinfoFromScopes fills the claims the scopes allow, and no more:
// email and email_verified with email, name with profile.
func (s storage) SetUserinfoFromScopes(ctx context.Context, info *oidc.UserInfo, userID, _ string, scopes []string) error {
	u, err := s.p.store.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	info.Subject = u.ID
	if slices.Contains(scopes, ScopeEmail) {
		info.Email = u.Email
		info.EmailVerified = oidc.Bool(u.EmailVerified())
		info.AppendClaims("email_verified", u.EmailVerified()) // also when false, which the struct would omit
	}
	if slices.Contains(scopes, ScopeProfile) && u.Name != "" {
		info.Name = u.Name
	}
	return nil
}

// SetUserinfoFromToken answers /userinfo for an access token this provider
// issued (tokenID is the token itself, see opCrypto), while its grant,
// session and user still stand.
func (s storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	c, err := s.p.liveToken(ctx, tokenID)
	if err != nil || c.Subject != subject || c.GrantID == "" {
		return oidc.ErrAccessDenied().WithDescription("the access token is not valid")
	}
	return s.SetUserinfoFromScopes(ctx, info, c.Subject, c.ClientID, splitScope(c.Scope))
}

func (s storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	c, err := s.p.liveToken(ctx, tokenID)
	if err != nil || c.Subject != subject {
		return nil // inactive
	}
	resp.Active = true
	resp.Subject, resp.ClientID, resp.Scope = c.Subject, c.ClientID, splitScope(c.Scope)
	resp.Expiration, resp.IssuedAt = oidc.FromTime(c.ExpiresAt.Time), oidc.FromTime(c.IssuedAt.Time)
	resp.Audience, resp.Issuer, resp.JWTID, resp.TokenType = oidc.Audience(c.Audience), c.Issuer, c.ID, oidc.BearerToken
	return nil
}

func (s storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetKeyByIDAndClientID finds a key of a private_key_jwt client's JWKS.
func (s storage) GetKeyByIDAndClientID(ctx context.Context, keyID, clientID string) (*jose.JSONWebKey, error) {
	cl, err := s.p.store.ClientByID(ctx, clientID)
	if err != nil || cl.AuthMethod != latchkey.AuthMethodPrivateKeyJWT {
		return nil, errClientUnknown
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(cl.JWKS), &set); err != nil {
		return nil, errClientUnknown
	}
	keys := set.Key(keyID)
	if len(keys) != 1 || !keys[0].IsPublic() {
		return nil, oidc.ErrInvalidClient().WithDescription("unknown key")
	}
	return &keys[0], nil
}

// ValidateJWTProfileScopes: the JWT bearer grant is not offered (the
// token endpoint refuses it before op sees it).
func (s storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrUnsupportedGrantType()
}

func (s storage) Health(ctx context.Context) error { return s.p.pinger.Ping(ctx) }

// authRequest is a latchkey authorization request as op sees it.
type authRequest struct{ *latchkey.AuthRequest }

func (a *authRequest) GetID() string         { return a.ID }
func (a *authRequest) GetACR() string        { return a.ACR }
func (a *authRequest) GetAMR() []string      { return a.AMR }
func (a *authRequest) GetClientID() string   { return a.ClientID }
func (a *authRequest) GetAudience() []string { return []string{a.ClientID} }
func (a *authRequest) GetAuthTime() time.Time {
	if a.AuthTime == nil {
		return time.Time{}
	}
	return *a.AuthTime
}
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	return &oidc.CodeChallenge{Challenge: a.Params.CodeChallenge, Method: oidc.CodeChallengeMethodS256}
}
func (a *authRequest) GetNonce() string                   { return a.Params.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.Params.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return oidc.ResponseTypeCode }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return oidc.ResponseModeQuery }
func (a *authRequest) GetScopes() []string                { return a.Params.Scopes }
func (a *authRequest) GetState() string                   { return a.Params.State }
func (a *authRequest) GetSubject() string                 { return a.UserID }
func (a *authRequest) Done() bool                         { return a.DoneAt != nil }

// LogValue keeps op's log lines to what identifies the request: never
// the state, nonce or code challenge.
func (a *authRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", a.ID), slog.String("client_id", a.ClientID))
}

func splitScope(s string) []string { return strings.Fields(s) }
