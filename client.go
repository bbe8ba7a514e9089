package latchkey

import (
	"context"
	"slices"
	"time"
)

// Client types (RFC 6749 §2.1).
const (
	ClientPublic       = "public"       // cannot keep a secret: a browser or native app; PKCE is its proof
	ClientConfidential = "confidential" // authenticates at the token endpoint
)

// Client authentication methods at the token endpoint (RFC 8414 names).
const (
	AuthMethodNone          = "none"
	AuthMethodSecretBasic   = "client_secret_basic"
	AuthMethodSecretPost    = "client_secret_post"
	AuthMethodPrivateKeyJWT = "private_key_jwt"
)

// Grant types a client may be allowed.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	GrantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
)

// Client is an application registered to sign users in through latchkey
// (latchkey as an OAuth 2.1 / OpenID Connect provider). Its secret is
// stored only as a SHA-256 hash; during a rotation the previous secret's
// hash stays valid until PreviousSecretExpiresAt.
type Client struct {
	ID   string
	Name string
	Type string // ClientPublic or ClientConfidential
	// AuthMethod is how the client authenticates at the token endpoint:
	// AuthMethodNone for a public client.
	AuthMethod              string
	SecretHash              []byte
	PreviousSecretHash      []byte
	PreviousSecretExpiresAt *time.Time
	// JWKS holds the client's public keys (a JSON Web Key Set) for
	// private_key_jwt; empty otherwise.
	JWKS                   string
	RedirectURIs           []string // matched exactly
	PostLogoutRedirectURIs []string // matched exactly
	GrantTypes             []string
	Scopes                 []string // the scopes it may ask for
	// FirstParty clients belong to the operator: their users are not asked
	// for consent.
	FirstParty bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// AllowsGrant reports whether the client may use grant.
func (c *Client) AllowsGrant(grant string) bool { return slices.Contains(c.GrantTypes, grant) }

// AllowsScope reports whether the client may ask for scope.
func (c *Client) AllowsScope(scope string) bool { return slices.Contains(c.Scopes, scope) }

// ClientPatch changes some of a client's settings: a nil field is left as
// it is. UpdatedAt is always written. Secrets change only through
// ClientStore.RotateClientSecret.
type ClientPatch struct {
	Name                   *string
	RedirectURIs           *[]string
	PostLogoutRedirectURIs *[]string
	GrantTypes             *[]string
	Scopes                 *[]string
	FirstParty             *bool
	JWKS                   *string
	UpdatedAt              time.Time
}

// Audit event types of the provider. None records a secret.
const (
	AuditClientCreated       = "client.created"
	AuditClientUpdated       = "client.updated"
	AuditClientDeleted       = "client.deleted"
	AuditClientSecretRotated = "client.secret_rotated"
)

// ClientStore keeps the provider's registered clients.
type ClientStore interface {
	CreateClient(ctx context.Context, c *Client) error // EConflict if the id exists
	ClientByID(ctx context.Context, id string) (*Client, error)
	// ListClients returns every client, newest first.
	ListClients(ctx context.Context) ([]Client, error)
	// UpdateClient writes the fields p sets, and UpdatedAt, in one statement
	// and returns the client as stored after it (ENotFound if unknown).
	UpdateClient(ctx context.Context, id string, p ClientPatch) (*Client, error)
	// RotateClientSecret makes newHash the client's secret and keeps the
	// current one valid until previousExpiresAt, atomically, only if the
	// stored secret still equals currentHash: ENotFound for an unknown
	// client, EConflict when the secret changed meanwhile.
	RotateClientSecret(ctx context.Context, id string, currentHash, newHash []byte, previousExpiresAt, at time.Time) error
	// DeleteClient removes the client and everything issued to it.
	DeleteClient(ctx context.Context, id string) error
}
