package verify

import (
	"context"
	"slices"
	"time"
)

// Kinds of credential an Identity was established with.
const (
	KindAccessToken = "access_token"
	KindAPIKey      = "api_key"
)

// Identity is the authenticated caller. Treat it as read-only: the same
// slices may be shared by every request that presents the same credential.
type Identity struct {
	Kind      string // KindAccessToken or KindAPIKey
	UserID    string
	SessionID string // access tokens only
	APIKeyID  string // API keys only
	Roles     []string
	// Scopes limits the credential. Empty means the credential carries all
	// of its owner's rights.
	Scopes    []string
	ExpiresAt time.Time // zero for an API key without expiry
	// AuthTime is when the user last signed in (the access token's
	// auth_time); zero for an API key or a token that does not say.
	AuthTime time.Time
	// AMR says how the user authenticated in the session (RFC 8176
	// values: "pwd", "otp", "mfa", …) and ACR the assurance level that
	// follows ("aal1", or "aal2" after a second factor): the access
	// token's amr and acr claims. Both are empty for an API key.
	AMR []string
	ACR string
}

// Assurance levels of the acr claim.
const (
	AAL1 = "aal1"
	AAL2 = "aal2"
)

// MeetsACR reports whether the caller's session reached the assurance
// level acr: aal2 is met by aal2, aal1 by either. An API key, which has no
// session, meets no level; an unknown level is never met.
func (id *Identity) MeetsACR(acr string) bool {
	rank := func(a string) int {
		switch a {
		case AAL1:
			return 1
		case AAL2:
			return 2
		}
		return 0
	}
	want := rank(acr)
	return want > 0 && rank(id.ACR) >= want
}

// HasRole reports whether the caller has role.
func (id *Identity) HasRole(role string) bool { return slices.Contains(id.Roles, role) }

// HasScope reports whether the credential grants scope: an unscoped
// credential grants everything its owner may do.
func (id *Identity) HasScope(scope string) bool {
	return len(id.Scopes) == 0 || slices.Contains(id.Scopes, scope)
}

type identityKey struct{}

// NewContext returns a copy of ctx carrying id.
func NewContext(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the Identity the Middleware stored in ctx.
func FromContext(ctx context.Context) (*Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(*Identity)
	return id, ok && id != nil
}
