package provider

import (
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/latchkey/latchkey"
)

// opClient is a latchkey client as op sees it.
type opClient struct {
	c *latchkey.Client
	p *Provider
}

var _ op.Client = (*opClient)(nil)

func (o *opClient) GetID() string                    { return o.c.ID }
func (o *opClient) RedirectURIs() []string           { return o.c.RedirectURIs }
func (o *opClient) PostLogoutRedirectURIs() []string { return o.c.PostLogoutRedirectURIs }

// ApplicationType: a confidential client is a web app; a public one is a
// native app (which op lets use loopback and private-use redirect URIs;
// CreateAuthRequest still insists on an exact match).
func (o *opClient) ApplicationType() op.ApplicationType {
	if o.c.Type == latchkey.ClientConfidential {
		return op.ApplicationTypeWeb
	}
	return op.ApplicationTypeNative
}

func (o *opClient) AuthMethod() oidc.AuthMethod { return oidc.AuthMethod(o.c.AuthMethod) }

func (o *opClient) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

// GrantTypes are the client's grants that this provider serves.
func (o *opClient) GrantTypes() []oidc.GrantType {
	var out []oidc.GrantType
	for _, g := range o.c.GrantTypes {
		if slices.Contains(o.p.servedGrants, g) {
			out = append(out, oidc.GrantType(g))
		}
	}
	return out
}

// LoginURL is where op sends the browser with a new request: latchkey's
// page that signs the user in (with the session cookie) and asks for
// consent.
func (o *opClient) LoginURL(id string) string {
	return PathContinue + "?" + url.Values{"id": {id}}.Encode()
}

func (o *opClient) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeBearer }
func (o *opClient) IDTokenLifetime() time.Duration       { return o.p.cfg.IDTokenTTL }
func (o *opClient) DevMode() bool                        { return false }
func (o *opClient) IsScopeAllowed(scope string) bool     { return o.c.AllowsScope(scope) }
func (o *opClient) IDTokenUserinfoClaimsAssertion() bool { return true }
func (o *opClient) ClockSkew() time.Duration             { return 0 }
func (o *opClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (o *opClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
