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
