package provider

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/crypt"
	"github.com/latchkey/latchkey/internal/token"
)

// The provider's paths. Clients find them through discovery; the JWKS is
// latchkey's own.
const (
	PathDiscovery = "/.well-known/openid-configuration"
	PathAuthorize = "/oauth2/authorize"
	PathCallback  = "/oauth2/authorize/callback"
	PathToken     = "/oauth2/token"
	PathUserinfo  = "/oauth2/userinfo"
	PathRevoke    = "/oauth2/revoke"
	PathJWKS      = "/.well-known/jwks.json"
	// PathContinue is latchkey's own page between op's authorize and its
	// callback: sign-in with the session cookie, then consent.
	PathContinue = "/oauth2/continue"
	PathConsent  = "/oauth2/consent"
)

// Config shapes the provider.
type Config struct {
	Issuer         string
	AccessTokenTTL time.Duration
	IDTokenTTL     time.Duration
	// CodeTTL is an authorization code's lifetime (RFC 6749 §4.1.2: short).
	CodeTTL time.Duration
	// AuthRequestTTL is how long a user has to sign in and agree.
	AuthRequestTTL time.Duration
	// GrantTTL bounds everything a code exchange issues.
	GrantTTL time.Duration
	// RefreshReuseGrace: a refresh token presented again this soon after
	// its use gets the same successor (a retry), not a reuse alarm.
	RefreshReuseGrace time.Duration
}

// ProviderStore is the database the provider works on.
type ProviderStore interface {
	Store
	latchkey.ProviderStore
	latchkey.ClientTokenStore
	latchkey.DeviceStore
	latchkey.APIKeyStore
	Ping(ctx context.Context) error
}

// Deps are the provider's collaborators.
type Deps struct {
	Store ProviderStore
	// Keys returns latchkey's keyring (token.KeyManager.Keyring): ID and
	// access tokens are signed with its current key.
	Keys   func() *token.Keyring
	Clock  func() time.Time
	Logger *slog.Logger
	// APIKeysChanged is told of API keys whose audiences changed, so that
	// every instance drops its cached copy (the revocation channel).
	APIKeysChanged func(ids []string)
}

// Provider is latchkey as an OpenID provider.
type Provider struct {
	cfg          Config
	store        ProviderStore
	pinger       interface{ Ping(context.Context) error }
	keys         func() *token.Keyring
	now          func() time.Time
	log          *slog.Logger
	tokens       *tokenSigner
	op           *op.Provider
	servedGrants []string
	clients      *clientCache
	Clients      *Clients
}

// New builds the provider on op.
func New(cfg Config, d Deps) (*Provider, error) {
	if d.Clock == nil {
		d.Clock = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CodeTTL == 0 {
		cfg.CodeTTL = time.Minute
	}
	if cfg.AuthRequestTTL == 0 {
		cfg.AuthRequestTTL = 30 * time.Minute
	}
	if cfg.IDTokenTTL == 0 {
		cfg.IDTokenTTL = cfg.AccessTokenTTL
	}
	p := &Provider{cfg: cfg, store: d.Store, pinger: d.Store, keys: d.Keys, now: d.Clock, log: d.Logger,
		servedGrants: []string{latchkey.GrantAuthorizationCode, latchkey.GrantRefreshToken, latchkey.GrantClientCredentials,
			latchkey.GrantDeviceCode}, Clients: NewClients(d.Store, d.Clock)}
	p.clients = &clientCache{ttl: clientCacheTTL}
	p.Clients.changed = p.clients.drop
	p.Clients.keysChanged = d.APIKeysChanged
	p.tokens = &tokenSigner{keys: d.Keys, issuer: cfg.Issuer, ttl: cfg.AccessTokenTTL, now: d.Clock}
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, err
	}
	opCfg := &op.Config{
		CryptoKey:                key, // unused: WithCrypto replaces op's own
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		AuthMethodPrivateKeyJWT:  true,
		GrantTypeRefreshToken:    true,
		SupportedScopes:          []string{ScopeOpenID, ScopeProfile, ScopeEmail, ScopeOfflineAccess},
		DeviceAuthorization:      deviceConfig,
		DefaultLogoutRedirectURI: cfg.Issuer + "/login",
		SupportedClaims: []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "at_hash", "azp",
			"email", "email_verified", "name"},
	}
	opts := []op.Option{
		op.WithCrypto(opCrypto{tokens: p.tokens}),
		op.WithCustomAuthEndpoint(op.NewEndpoint(PathAuthorize)),
		op.WithCustomTokenEndpoint(op.NewEndpoint(PathToken)),
		op.WithCustomUserinfoEndpoint(op.NewEndpoint(PathUserinfo)),
		op.WithCustomRevocationEndpoint(op.NewEndpoint(PathRevoke)),
		op.WithCustomDeviceAuthorizationEndpoint(op.NewEndpoint(PathDeviceAuthorization)),
		op.WithCustomEndSessionEndpoint(op.NewEndpoint(PathEndSession)),
		op.WithCustomKeysEndpoint(op.NewEndpoint(PathJWKS)),
		op.WithCORSOptions(nil),
		op.WithLogger(d.Logger),
	}
	if strings.HasPrefix(cfg.Issuer, "http://") {
		opts = append(opts, op.WithAllowInsecure())
	}
	var err error
	if p.op, err = op.NewProvider(opCfg, storage{p}, op.StaticIssuer(cfg.Issuer), opts...); err != nil {
		return nil, fmt.Errorf("provider: %w", err)
	}
	return p, nil
}

// meta is the client of the request being served, for the audit log.
type metaKey struct{}

// WithMeta tells the provider who is calling, for its audit events.
func WithMeta(ctx context.Context, m auth.Meta) context.Context {
	return context.WithValue(ctx, metaKey{}, m)
}

func (p *Provider) audit(ctx context.Context, tx latchkey.Tx, typ, outcome, reason, userID, sessionID string) error {
	m, _ := ctx.Value(metaKey{}).(auth.Meta)
	now := p.now().UTC()
	return tx.AppendAudit(ctx, &latchkey.AuditEvent{ID: latchkey.NewID(now), Time: now, Type: typ, UserID: userID, SessionID: sessionID,
		IP: m.IP, UserAgent: truncate(m.UserAgent, 512), Outcome: outcome, Reason: reason})
}

// grantFromCode turns an exchanged code into a grant, if the user and the
// session that agreed are still there; with refresh, the grant's first
// refresh token too (returned).
func (p *Provider) grantFromCode(ctx context.Context, r *latchkey.AuthRequest, refresh bool) (*latchkey.Grant, string, error) {
	now := p.now().UTC()
	g := &latchkey.Grant{ID: r.ID, ClientID: r.ClientID, UserID: r.UserID, SessionID: r.SessionID, Scopes: r.Params.Scopes,
		Audience: r.Params.Resources, AMR: r.AMR, ACR: r.ACR, CreatedAt: now, ExpiresAt: now.Add(p.cfg.GrantTTL)}
	if len(g.Audience) == 0 {
		g.Audience = []string{r.ClientID}
	}
	if r.AuthTime != nil {
		g.AuthTime = *r.AuthTime
	}
	var next string
	err := p.store.InTx(ctx, func(tx latchkey.Tx) error {
		if why, err := p.sessionLive(ctx, tx, r.UserID, r.SessionID); err != nil || why != "" {
			if err == nil {
				err = oidc.ErrInvalidGrant().WithDescription("the sign-in behind this code has ended")
			}
			return err
		}
		if err := tx.CreateGrant(ctx, g); err != nil {
			return err
		}
		if refresh {
			next = crypt.RandomToken(32)
			if err := tx.CreateClientRefreshToken(ctx, &latchkey.ClientRefreshToken{Hash: crypt.Hash(next), GrantID: g.ID,
				CreatedAt: now, ExpiresAt: g.ExpiresAt}); err != nil {
				return err
			}
		}
		return p.audit(ctx, tx, latchkey.AuditProviderTokenIssued, latchkey.OutcomeSuccess, "client "+r.ClientID+": authorization code", r.UserID, r.SessionID)
	})
	return g, next, err
}

// sessionLive says why a user's session cannot back a client's tokens
// ("" when it can): latchkey's sign-out ends them for every client.
func (p *Provider) sessionLive(ctx context.Context, tx latchkey.Tx, userID, sessionID string) (string, error) {
	u, err := tx.UserByID(ctx, userID)
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return "user_gone", nil
	}
	if err != nil {
		return "", err
	}
	if u.Disabled {
		return "user_disabled", nil
	}
	if sessionID == "" {
		return "", nil
	}
	s, err := tx.SessionByID(ctx, sessionID)
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return "session_gone", nil
	}
	if err != nil {
		return "", err
	}
	if s.RevokedAt != nil || !p.now().Before(s.ExpiresAt) || s.UserID != userID {
		return "session_ended", nil
	}
	return "", nil
}

// signFor signs the access token of a grant, for the resources the token
// request asks for (a subset of the grant's, RFC 8707 §2.2).
func (p *Provider) signFor(ctx context.Context, g *latchkey.Grant) (string, time.Time, error) {
	a := grantAccess(g)
	aud, err := narrowAudience(g.Audience, resourcesOf(ctx))
	if err != nil {
		return "", time.Time{}, err
	}
	a.Audience = aud
	return p.tokens.sign(a)
}

func grantAccess(g *latchkey.Grant) accessGrant {
	return accessGrant{Subject: g.UserID, ClientID: g.ClientID, Audience: g.Audience, Scopes: g.Scopes, SessionID: g.SessionID,
		GrantID: g.ID, AuthTime: g.AuthTime, ACR: g.ACR, AMR: g.AMR}
}

// errGone: what a token stands on has ended.
var errGone = errors.New("provider: the token's grant, session or user has ended")

// liveToken checks an access token of this provider and that what it
// stands on (grant, session, user) still stands.
func (p *Provider) liveToken(ctx context.Context, raw string) (*accessClaims, error) {
	c, err := p.tokens.verify(raw)
	if err != nil {
		return nil, err
	}
	if c.GrantID == "" {
		// Client credentials: no user behind it, only the client, which
		// must still exist (a deleted client's tokens stop at once).
		if _, err := p.clientByID(ctx, c.ClientID); err != nil {
			if errors.Is(err, errClientUnknown) {
				return nil, fmt.Errorf("%w: the client was deleted", errGone)
			}
			return nil, err
		}
		return c, nil
	}
	g, err := p.store.GrantByID(ctx, c.GrantID)
	if err != nil {
		return nil, err
	}
	if !g.Live(p.now()) || g.ClientID != c.ClientID || g.UserID != c.Subject {
		return nil, fmt.Errorf("%w: the grant was revoked", errGone)
	}
	err = p.store.InTx(ctx, func(tx latchkey.Tx) error {
		why, err := p.sessionLive(ctx, tx, g.UserID, g.SessionID)
		if err == nil && why != "" {
			err = fmt.Errorf("%w: %s", errGone, why)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Step is what the continue page does next with an authorization request.
type Step struct {
	// Login: the browser signs in first (LoginURL), then comes back.
	Login bool
	// Consent: the user is asked (Client, Scopes).
	Consent bool
	Client  *latchkey.Client
	Scopes  []string
	// StepUp: the client asked (acr_values) for more than the session
	// proved: the browser proves a second factor first, then comes back
	// (or, without one, the client is refused: Unmet).
	StepUp bool
	// Redirect is where the browser goes next: op's callback (which sends
	// the code to the client), or the client with an error.
	Redirect string
}

var errRequestExpired = latchkey.Errorf(latchkey.ENotFound, "This sign-in request has expired or is unknown. Go back to the application and try again.")

// loadRequest finds a live request and its client.
func (p *Provider) loadRequest(ctx context.Context, id string) (*latchkey.AuthRequest, *latchkey.Client, error) {
	if id == "" || len(id) > 64 {
		return nil, nil, errRequestExpired
	}
	r, err := p.store.AuthRequestByID(ctx, id)
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return nil, nil, errRequestExpired
	}
	if err != nil {
		return nil, nil, err
	}
	if !p.now().Before(r.ExpiresAt) {
		return nil, nil, errRequestExpired
	}
	cl, err := p.store.ClientByID(ctx, r.ClientID)
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return nil, nil, errRequestExpired
	}
	return r, cl, err
}

// Continue decides what an authorization request needs next, for the
// browser signed in as who (nil: nobody): sign-in, consent, or back to the
// client. A first-party client, or one the user already agreed to for
// these scopes, skips consent.
func (p *Provider) Continue(ctx context.Context, id string, who *auth.Principal) (*Step, error) {
	r, cl, err := p.loadRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.DoneAt != nil {
		return &Step{Redirect: CallbackURL(id)}, nil
	}
	promptNone := slices.Contains(r.Params.Prompt, oidc.PromptNone)
	if who == nil || !p.fresh(r, who) {
		if promptNone {
			return &Step{Redirect: p.clientError(r, oidc.ErrLoginRequired())}, nil
		}
		return &Step{Login: true}, nil
	}
	if !acrMet(r.Params.ACRValues, who.ACR()) {
		if promptNone {
			return &Step{Redirect: p.clientError(r, oidc.ErrInteractionRequired().WithDescription("The session has not proved a second factor."))}, nil
		}
		return &Step{StepUp: true, Client: cl}, nil
	}
	needConsent, err := p.needsConsent(ctx, r, cl, who.User.ID)
	if err != nil {
		return nil, err
	}
	if needConsent {
		if promptNone {
			return &Step{Redirect: p.clientError(r, &oidc.Error{ErrorType: "consent_required", Description: "The user has not agreed to this client."})}, nil
		}
		return &Step{Consent: true, Client: cl, Scopes: r.Params.Scopes}, nil
	}
	return p.complete(ctx, r, who)
}

// acrMet reports whether a session of the given acr meets a request's
// acr_values: one of the values latchkey knows (NIST SP 800-63B's aal1,
// aal2) is met; values it
// does not know are ignored, and none known (or none asked) asks nothing.
// aal2 meets aal1.
func acrMet(values []string, acr string) bool {
	known := false
	for _, v := range values {
		switch v {
		case auth.ACRSingleFactor:
			return true
		case auth.ACRMultiFactor:
			if acr == auth.ACRMultiFactor {
				return true
			}
			known = true
		}
	}
	return !known
}

// ErrUnmetAuthentication is the error code an authorization request gets
// when it asks (acr_values) for a second factor the user does not have
// (OpenID Connect Unmet Authentication Requirements 1.0).
const ErrUnmetAuthentication = "unmet_authentication_requirements"

// Unmet is the URL that refuses a request whose acr_values the user
// cannot meet (no second factor): the client gets
// unmet_authentication_requirements, with state and iss. It is audited.
func (p *Provider) Unmet(ctx context.Context, id string, who *auth.Principal) (string, error) {
	r, cl, err := p.loadRequest(ctx, id)
	if err != nil {
		return "", err
	}
	err = p.store.InTx(ctx, func(tx latchkey.Tx) error {
		return p.audit(ctx, tx, latchkey.AuditProviderCodeIssued, latchkey.OutcomeFailure,
			"client "+cl.ID+": acr_values "+strings.Join(r.Params.ACRValues, " ")+" unmet (no second factor)", who.User.ID, who.SessionID)
	})
	if err != nil {
		return "", err
	}
	return p.clientError(r, &oidc.Error{ErrorType: ErrUnmetAuthentication,
		Description: "The client asks for a second factor, and this account has none."}), nil
}

// fresh reports whether the session's sign-in is recent enough for the
// request: prompt=login and max_age want one made after (or within
// max_age of) the request.
func (p *Provider) fresh(r *latchkey.AuthRequest, who *auth.Principal) bool {
	if !who.AuthTime.Before(r.CreatedAt.Truncate(time.Second)) {
		return true
	}
	if slices.Contains(r.Params.Prompt, oidc.PromptLogin) {
		return false
	}
	if r.Params.MaxAge != nil {
		return p.now().Sub(who.AuthTime) <= time.Duration(*r.Params.MaxAge)*time.Second
	}
	return true
}

func (p *Provider) needsConsent(ctx context.Context, r *latchkey.AuthRequest, cl *latchkey.Client, userID string) (bool, error) {
	if cl.FirstParty {
		return false, nil
	}
	if slices.Contains(r.Params.Prompt, oidc.PromptConsent) {
		return true, nil
	}
	c, err := p.store.ConsentByUserClient(ctx, userID, cl.ID)
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	for _, s := range r.Params.Scopes {
		if !slices.Contains(c.Scopes, s) {
			return true, nil
		}
	}
	return false, nil
}

// Consent records the user's answer on the consent page: agreeing
// remembers the grant (revocable from /account) and goes on; refusing
// sends the client access_denied.
func (p *Provider) Consent(ctx context.Context, id string, who *auth.Principal, agree bool) (*Step, error) {
	r, cl, err := p.loadRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.DoneAt != nil {
		return &Step{Redirect: CallbackURL(id)}, nil
	}
	if !p.fresh(r, who) {
		return &Step{Login: true}, nil
	}
	if !agree {
		err := p.store.InTx(ctx, func(tx latchkey.Tx) error {
			return p.audit(ctx, tx, latchkey.AuditProviderConsent, latchkey.OutcomeFailure, "client "+cl.ID+": refused", who.User.ID, who.SessionID)
		})
		if err != nil {
			return nil, err
		}
		return &Step{Redirect: p.clientError(r, oidc.ErrAccessDenied().WithDescription("The user did not agree."))}, nil
	}
	now := p.now().UTC()
	err = p.store.InTx(ctx, func(tx latchkey.Tx) error {
		scopes := slices.Clone(r.Params.Scopes)
		created := now
		if old, err := tx.ConsentByUserClient(ctx, who.User.ID, cl.ID); err == nil {
			created = old.CreatedAt
			for _, s := range old.Scopes {
				if !slices.Contains(scopes, s) {
					scopes = append(scopes, s)
				}
			}
		} else if !latchkey.IsCode(err, latchkey.ENotFound) {
			return err
		}
		if err := tx.SaveConsent(ctx, &latchkey.Consent{UserID: who.User.ID, ClientID: cl.ID, Scopes: scopes, CreatedAt: created, UpdatedAt: now}); err != nil {
			return err
		}
		return p.audit(ctx, tx, latchkey.AuditProviderConsent, latchkey.OutcomeSuccess, "client "+cl.ID+": "+strings.Join(r.Params.Scopes, " "), who.User.ID, who.SessionID)
	})
	if err != nil {
		return nil, err
	}
	return p.complete(ctx, r, who)
}

// complete binds the request to the browser's session and sends it to
// op's callback, which makes the code.
func (p *Provider) complete(ctx context.Context, r *latchkey.AuthRequest, who *auth.Principal) (*Step, error) {
	d := latchkey.AuthDone{UserID: who.User.ID, SessionID: who.SessionID, AuthTime: who.AuthTime.UTC(), AMR: who.AMR, ACR: who.ACR(), At: p.now().UTC()}
	err := p.store.InTx(ctx, func(tx latchkey.Tx) error {
		if err := tx.CompleteAuthRequest(ctx, r.ID, d); err != nil {
			return err
		}
		return p.audit(ctx, tx, latchkey.AuditProviderCodeIssued, latchkey.OutcomeSuccess, "client "+r.ClientID, who.User.ID, who.SessionID)
	})
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return nil, errRequestExpired
	}
	if err != nil {
		return nil, err
	}
	return &Step{Redirect: CallbackURL(r.ID)}, nil
}

// CheckCallback lets op's callback make a code only for the browser whose
// session completed the request: someone else who learnt the request id
// gets nothing.
func (p *Provider) CheckCallback(ctx context.Context, id, sessionID string) error {
	r, _, err := p.loadRequest(ctx, id)
	if err != nil {
		return err
	}
	if r.DoneAt == nil || sessionID == "" || r.SessionID != sessionID {
		return latchkey.Errorf(latchkey.EForbidden, "This sign-in request belongs to another browser session. Go back to the application and try again.")
	}
	return nil
}

// CallbackURL is op's callback for a completed request.
func CallbackURL(id string) string {
	return PathCallback + "?" + url.Values{"id": {id}}.Encode()
}

// clientError is the URL that sends the client an error for its request
// (with state and iss).
func (p *Provider) clientError(r *latchkey.AuthRequest, e *oidc.Error) string {
	e.State = r.Params.State
	u, err := op.AuthResponseURL(r.Params.RedirectURI, oidc.ResponseTypeCode, oidc.ResponseModeQuery, e, p.op.Encoder())
	if err != nil {
		return r.Params.RedirectURI
	}
	return p.withIss(u)
}

// withIss adds the issuer to an authorization response (RFC 9207), so the
// client can tell which provider answered (mix-up attacks).
func (p *Provider) withIss(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	q.Set("iss", p.cfg.Issuer)
	u.RawQuery = q.Encode()
	return u.String()
}

// ConsentEntry is one of a user's consents, for the account page.
type ConsentEntry struct {
	ClientID   string
	ClientName string
	Scopes     []string
	Updated    time.Time
}

// Consents lists a user's remembered consents.
func (p *Provider) Consents(ctx context.Context, userID string) ([]ConsentEntry, error) {
	list, err := p.store.ListConsents(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]ConsentEntry, 0, len(list))
	for _, c := range list {
		e := ConsentEntry{ClientID: c.ClientID, ClientName: c.ClientID, Scopes: c.Scopes, Updated: c.UpdatedAt}
		if cl, err := p.store.ClientByID(ctx, c.ClientID); err == nil {
			e.ClientName = cl.Name
		}
		out = append(out, e)
	}
	return out, nil
}

// RevokeConsent forgets a user's consent to a client and revokes every
// grant the client holds for the user: its tokens stop working.
func (p *Provider) RevokeConsent(ctx context.Context, who *auth.Principal, clientID string) error {
	return p.store.InTx(ctx, func(tx latchkey.Tx) error {
		if err := tx.DeleteConsent(ctx, who.User.ID, clientID); err != nil {
			if latchkey.IsCode(err, latchkey.ENotFound) {
				return latchkey.Errorf(latchkey.ENotFound, "No such consent.")
			}
			return err
		}
		if _, err := tx.RevokeUserClientGrants(ctx, who.User.ID, clientID, p.now().UTC()); err != nil {
			return err
		}
		return p.audit(ctx, tx, latchkey.AuditProviderConsentGone, latchkey.OutcomeSuccess, "client "+clientID, who.User.ID, who.SessionID)
	})
}

// RedirectOrigin is the origin (and host) of a live request's redirect
// URI, where the browser ends up; "" for none (or a native app's scheme).
func (p *Provider) RedirectOrigin(ctx context.Context, id string) (origin, host string) {
	r, _, err := p.loadRequest(ctx, id)
	if err != nil {
		return "", ""
	}
	u, err := url.Parse(r.Params.RedirectURI)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", ""
	}
	return u.Scheme + "://" + u.Host, u.Host
}

// Introspection describes a live token the provider issued to a client.
type Introspection struct {
	TokenType string // access_token or refresh_token
	Subject   string
	ClientID  string
	Audience  []string
	Scope     string
	SessionID string
	IssuedAt  time.Time
	ExpiresAt time.Time
	AMR       []string
	ACR       string
}

// Introspect tells whether raw is a live access or refresh token of a
// client (RFC 7662); nil when it is not (or not the provider's), an error
// only when the answer cannot be known. A refresh token is only looked at.
func (p *Provider) Introspect(ctx context.Context, raw string) (*Introspection, error) {
	if raw == "" || len(raw) > token.MaxTokenLength {
		return nil, nil
	}
	if strings.Count(raw, ".") == 2 {
		c, err := p.liveToken(ctx, raw)
		if err != nil {
			if errors.Is(err, errNotOurs) || isGone(err) {
				return nil, nil
			}
			return nil, err
		}
		in := &Introspection{TokenType: "access_token", Subject: c.Subject, ClientID: c.ClientID, Audience: c.Audience, Scope: c.Scope,
			SessionID: c.SessionID, IssuedAt: c.IssuedAt.Time, ExpiresAt: c.ExpiresAt.Time, AMR: c.AMR, ACR: c.ACR}
		return in, nil
	}
	if len(raw) > 128 {
		return nil, nil
	}
	rt, err := p.store.ClientRefreshTokenByHash(ctx, crypt.Hash(raw))
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	g, err := p.store.GrantByID(ctx, rt.GrantID)
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := p.now()
	if rt.UsedAt != nil || !now.Before(rt.ExpiresAt) || !g.Live(now) {
		return nil, nil
	}
	var why string
	if err := p.store.InTx(ctx, func(tx latchkey.Tx) error {
		why, err = p.sessionLive(ctx, tx, g.UserID, g.SessionID)
		return err
	}); err != nil {
		return nil, err
	}
	if why != "" {
		return nil, nil
	}
	return &Introspection{TokenType: "refresh_token", Subject: g.UserID, ClientID: g.ClientID, Audience: g.Audience,
		Scope: strings.Join(g.Scopes, " "), SessionID: g.SessionID, IssuedAt: rt.CreatedAt, ExpiresAt: rt.ExpiresAt, AMR: g.AMR, ACR: g.ACR}, nil
}

// isGone: the token's grant, session or user has ended.
func isGone(err error) bool {
	return errors.Is(err, errGone) || latchkey.IsCode(err, latchkey.ENotFound)
}
