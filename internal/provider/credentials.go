package provider

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/latchkey/latchkey"
)

// The client credentials grant (RFC 6749 §4.4): a service's own token, no
// user, no refresh token, no ID token. Checking the secret costs one
// SHA-256 and a constant-time comparison.

// credentialsRequest is a client-credentials grant as op sees it.
type credentialsRequest struct {
	clientID string
	scopes   []string
	audience []string
}

func (r *credentialsRequest) GetSubject() string    { return r.clientID }
func (r *credentialsRequest) GetAudience() []string { return r.audience }
func (r *credentialsRequest) GetScopes() []string   { return r.scopes }

var _ op.ClientCredentialsStorage = storage{}

// ClientCredentials authenticates a client for the grant: with its secret,
// or with a private_key_jwt assertion (which the token endpoint verified
// and recorded before op got the request).
func (s storage) ClientCredentials(ctx context.Context, clientID, secret string) (op.Client, error) {
	if asserted := assertedClient(ctx); asserted != "" {
		clientID, secret = asserted, ""
	}
	cl, err := s.p.clientByID(ctx, clientID)
	if err != nil {
		return nil, err
	}
	switch {
	case cl.AuthMethod == latchkey.AuthMethodPrivateKeyJWT && assertedClient(ctx) == cl.ID:
	case CheckSecret(cl, secret, s.p.now()):
	default:
		s.p.clientAuthFailed(ctx, cl.ID)
		return nil, oidc.ErrInvalidClient().WithDescription("client authentication failed")
	}
	// op checks the grant type next (unauthorized_client).
	return &opClient{c: cl, p: s.p}, nil
}

// ClientCredentialsTokenRequest decides the token's scopes: those asked
// for, each of which the client must be allowed (invalid_scope
// otherwise), or when none is asked for, all the client's own scopes.
func (s storage) ClientCredentialsTokenRequest(ctx context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	if asserted := assertedClient(ctx); asserted != "" {
		clientID = asserted
	}
	cl, err := s.p.clientByID(ctx, clientID)
	if err != nil {
		return nil, err
	}
	var granted []string
	for _, sc := range scopes {
		if isUserScope(sc) || !cl.AllowsScope(sc) {
			return nil, oidc.ErrInvalidScope().WithDescription("The client may not ask for the scope %q.", limit(sc, 80))
		}
		if !slices.Contains(granted, sc) {
			granted = append(granted, sc)
		}
	}
	if len(scopes) == 0 {
		for _, sc := range cl.Scopes {
			if !isUserScope(sc) {
				granted = append(granted, sc)
			}
		}
	}
	aud, err := audienceFor(cl, resourcesOf(ctx))
	if err != nil {
		return nil, err
	}
	return &credentialsRequest{clientID: cl.ID, scopes: granted, audience: aud}, nil
}

// isUserScope: the OpenID scopes are about a user, which a service's own
// token has none of.
func isUserScope(s string) bool {
	return s == ScopeOpenID || s == ScopeProfile || s == ScopeEmail || s == ScopeOfflineAccess
}

// clientByID finds a client through a short cache: the client-credentials
// grant is the provider's hot path.
func (p *Provider) clientByID(ctx context.Context, id string) (*latchkey.Client, error) {
	if id == "" || len(id) > 64 {
		return nil, errClientUnknown
	}
	if cl, ok := p.clients.get(id, p.now()); ok {
		return cl, nil
	}
	cl, err := p.store.ClientByID(ctx, id)
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return nil, errClientUnknown
	}
	if err != nil {
		return nil, err
	}
	p.clients.put(cl, p.now())
	return cl, nil
}

// clientAuthFailed audits a failed client authentication.
func (p *Provider) clientAuthFailed(ctx context.Context, clientID string) {
	err := p.store.InTx(ctx, func(tx latchkey.Tx) error {
		return p.audit(ctx, tx, latchkey.AuditProviderClientAuthFailed, latchkey.OutcomeFailure, "client "+clientID, "", "")
	})
	if err != nil {
		p.log.ErrorContext(ctx, "auditing a failed client authentication", "err", err)
	}
}

// clientCache keeps clients for a few seconds. A change (a rotated secret,
// a deleted client) reaches the token endpoint within its TTL: the
// previous secret keeps working that long at most after its overlap.
type clientCache struct {
	ttl time.Duration
	m   sync.Map // client id → cachedClient
}

type cachedClient struct {
	c  *latchkey.Client
	at time.Time
}

func (c *clientCache) get(id string, now time.Time) (*latchkey.Client, bool) {
	if c == nil || c.ttl <= 0 {
		return nil, false
	}
	v, ok := c.m.Load(id)
	if !ok {
		return nil, false
	}
	e := v.(cachedClient)
	if now.Sub(e.at) >= c.ttl {
		return nil, false
	}
	return e.c, true
}

func (c *clientCache) put(cl *latchkey.Client, now time.Time) {
	if c == nil || c.ttl <= 0 {
		return
	}
	c.m.Store(cl.ID, cachedClient{c: cl, at: now})
}

// drop forgets a client that changed on this instance.
func (c *clientCache) drop(id string) {
	if c != nil {
		c.m.Delete(id)
	}
}

// clientCacheTTL bounds how long another instance may use a client's old
// settings.
const clientCacheTTL = 2 * time.Second
