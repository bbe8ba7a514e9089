package auth

import (
	"slices"
	"time"

	"github.com/latchkey/latchkey"
)

// The scopes latchkey itself understands. A key or token may carry any
// other scope too: those mean something to the services that check them
// (through /v1/verify, introspection or the verify package), not to
// latchkey.
const (
	// ScopeProfileWrite lets a credential change its owner's profile.
	ScopeProfileWrite = "profile:write"
	// ScopeAPIKeysWrite lets an API key list, create and revoke its owner's
	// API keys.
	ScopeAPIKeysWrite = "apikeys:write"
	// ScopeIntrospect lets an API key call the introspection endpoint.
	ScopeIntrospect = "introspect"
	// ScopeAdmin lets an API key of an administrator use the admin API.
	ScopeAdmin = "admin"
)

// Scope describes one of latchkey's own scopes.
type Scope struct {
	Name string
	// Allows says what a credential holding the scope may do.
	Allows string
	// Unscoped reports whether a key created without scopes carries it.
	// The powers that could entrench a stolen key (minting keys,
	// administration, reading other people's credentials) never are.
	Unscoped bool
}

// Scopes is latchkey's scope vocabulary; docs/api-keys.md shows it as a
// table and a test keeps the two equal.
var Scopes = []Scope{
	{ScopeProfileWrite, "change the owner's profile (PATCH /v1/me)", true},
	{ScopeAPIKeysWrite, "list, create and revoke the owner's API keys", false},
	{ScopeIntrospect, "introspect tokens and keys (POST /v1/introspect)", false},
	{ScopeAdmin, "use the admin API (/v1/admin/*) when the owner has the admin role", false},
}

// impliedByUnscoped reports whether a credential without scopes carries scope.
func impliedByUnscoped(scope string) bool {
	i := slices.IndexFunc(Scopes, func(s Scope) bool { return s.Name == scope })
	return i < 0 || Scopes[i].Unscoped
}

// Principal is who a request acts for.
type Principal struct {
	User      *latchkey.User
	SessionID string           // the session behind an access token or cookie; "" for API keys
	APIKey    *latchkey.APIKey // set when an API key authenticated the request
	Scopes    []string         // nil: unscoped
	Via       string           // "bearer", "cookie" or "api_key"
	// AuthTime is when the session's user last proved who they are (sign-in
	// or re-authentication); zero for API keys.
	AuthTime time.Time
	// AMR is how the session's user authenticated (RFC 8176 values, see
	// amr.go), as the session records it now; nil for API keys.
	AMR []string
}

// ACR is the assurance level of the principal's session ("aal1" or
// "aal2"); "" for an API key, which has no sign-in.
func (p *Principal) ACR() string {
	if p.SessionID == "" {
		return ""
	}
	return ACRFor(p.AMR)
}

// HasScope reports whether the credential carries scope for another
// service: an unscoped credential carries all of its owner's rights there.
func (p *Principal) HasScope(scope string) bool {
	return p.Scopes == nil || slices.Contains(p.Scopes, scope)
}

// Allows reports whether the credential may use one of latchkey's own
// scopes. A scoped credential needs the scope itself; an unscoped API key
// carries only the scopes marked Unscoped; a signed-in session (an
// unscoped access token or cookie) acts with all of its user's rights.
func (p *Principal) Allows(scope string) bool {
	switch {
	case p.Scopes != nil:
		return slices.Contains(p.Scopes, scope)
	case p.APIKey != nil:
		return impliedByUnscoped(scope)
	default:
		return true
	}
}
