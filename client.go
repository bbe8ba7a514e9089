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
	// Resources are the resource servers (their identifiers) it may ask
	// tokens for (RFC 8707 resource); its tokens' aud.
	Resources []string
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
	Resources              *[]string
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

// AuthParams are the parameters of an authorization request that the
// provider keeps until the code is exchanged.
type AuthParams struct {
	RedirectURI   string   `json:"redirect_uri"`
	Scopes        []string `json:"scopes"`
	State         string   `json:"state,omitempty"`
	Nonce         string   `json:"nonce,omitempty"`
	ResponseMode  string   `json:"response_mode,omitempty"`
	CodeChallenge string   `json:"code_challenge"` // S256 only
	Prompt        []string `json:"prompt,omitempty"`
	MaxAge        *uint    `json:"max_age,omitempty"`
	LoginHint     string   `json:"login_hint,omitempty"`
	UILocales     []string `json:"ui_locales,omitempty"`
	ACRValues     []string `json:"acr_values,omitempty"`
	// Resources are the resource servers asked for (RFC 8707).
	Resources []string `json:"resource,omitempty"`
}

// AuthRequest is an authorization request of a client on its way through
// sign-in and consent to a code, and the code until it is exchanged (kept
// after, so that a second exchange can be told apart from an unknown code).
type AuthRequest struct {
	ID        string
	ClientID  string
	Params    AuthParams
	CreatedAt time.Time
	ExpiresAt time.Time
	// Set when the signed-in user agreed (DoneAt): whose session answered.
	UserID    string
	SessionID string
	AuthTime  *time.Time
	AMR       []string
	ACR       string
	DoneAt    *time.Time
	// The code: only its SHA-256, its expiry and when it was exchanged.
	CodeHash      []byte
	CodeExpiresAt *time.Time
	CodeUsedAt    *time.Time
}

// AuthDone is what completing an authorization request records.
type AuthDone struct {
	UserID    string
	SessionID string
	AuthTime  time.Time
	AMR       []string
	ACR       string
	At        time.Time
}

// Consent is a user's standing agreement that a third-party client may
// have some scopes; it is asked for once and can be revoked from /account.
type Consent struct {
	UserID    string
	ClientID  string
	Scopes    []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Grant is what one authorization produced for a client: the tokens of a
// code exchange (and later their refreshes) point at it, so that revoking
// it ends them all.
type Grant struct {
	ID        string
	ClientID  string
	UserID    string
	SessionID string
	Scopes    []string
	Audience  []string
	AuthTime  time.Time
	AMR       []string
	ACR       string
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt *time.Time
}

// Live reports whether the grant can still be used at now.
func (g *Grant) Live(now time.Time) bool { return g.RevokedAt == nil && now.Before(g.ExpiresAt) }

// More audit event types of the provider.
const (
	AuditProviderConsent      = "provider.consent"
	AuditProviderConsentGone  = "provider.consent_revoked"
	AuditProviderCodeIssued   = "provider.code_issued"
	AuditProviderTokenIssued  = "provider.token_issued"
	AuditProviderCodeReuse    = "provider.code_reuse_detected"
	AuditProviderGrantRevoked = "provider.grant_revoked"
	// AuditProviderClientAuthFailed: a client presented a wrong secret or
	// a bad or replayed assertion.
	AuditProviderClientAuthFailed = "provider.client_auth_failed"
	AuditResourceCreated          = "resource.created"
	AuditResourceDeleted          = "resource.deleted"
	// AuditAPIKeyAudiences: an API key was bound to services (or freed).
	AuditAPIKeyAudiences = "apikey.audiences_set"
)

// ProviderStore keeps what the provider's flows need between requests:
// authorization requests and their codes, consents and grants.
type ProviderStore interface {
	CreateAuthRequest(ctx context.Context, r *AuthRequest) error
	// AuthRequestByID returns a request (ENotFound if unknown).
	AuthRequestByID(ctx context.Context, id string) (*AuthRequest, error)
	// CompleteAuthRequest records who answered the request, only if no one
	// has yet, atomically (ENotFound otherwise).
	CompleteAuthRequest(ctx context.Context, id string, d AuthDone) error
	// SetAuthCode stores the hash of the request's code, only on a
	// completed request that has none yet, atomically (ENotFound otherwise).
	SetAuthCode(ctx context.Context, id string, codeHash []byte, expiresAt time.Time) error
	// UseAuthCode marks the code whose hash is codeHash exchanged at at,
	// atomically, and returns its request; first reports whether this call
	// used it (false: it was exchanged before). ENotFound for an unknown code.
	UseAuthCode(ctx context.Context, codeHash []byte, at time.Time) (r *AuthRequest, first bool, err error)

	// SaveConsent stores or replaces the user's consent to the client.
	SaveConsent(ctx context.Context, c *Consent) error
	ConsentByUserClient(ctx context.Context, userID, clientID string) (*Consent, error)
	// ListConsents returns the user's consents, newest first.
	ListConsents(ctx context.Context, userID string) ([]Consent, error)
	DeleteConsent(ctx context.Context, userID, clientID string) error

	CreateGrant(ctx context.Context, g *Grant) error // EConflict if the id exists
	GrantByID(ctx context.Context, id string) (*Grant, error)
	// RevokeGrant marks a grant revoked (ENotFound if unknown; revoking a
	// revoked grant is not an error).
	RevokeGrant(ctx context.Context, id string, at time.Time) error
	// RevokeUserClientGrants revokes every live grant of the user to the
	// client and returns their IDs.
	RevokeUserClientGrants(ctx context.Context, userID, clientID string, at time.Time) ([]string, error)
}

// ClientRefreshToken is the stored half of a refresh token the provider
// issued to a client: only its SHA-256, the grant it belongs to, and its
// successor sealed under it (the same rotation as latchkey's own refresh
// tokens: RefreshToken).
type ClientRefreshToken struct {
	Hash            []byte
	GrantID         string
	CreatedAt       time.Time
	ExpiresAt       time.Time
	UsedAt          *time.Time
	SealedSuccessor []byte
}

// ClientTokenStore keeps the provider's refresh tokens and the jti of the
// client assertions it accepted (private_key_jwt).
type ClientTokenStore interface {
	CreateClientRefreshToken(ctx context.Context, t *ClientRefreshToken) error
	ClientRefreshTokenByHash(ctx context.Context, hash []byte) (*ClientRefreshToken, error)
	// MarkClientRefreshTokenUsed sets UsedAt and SealedSuccessor only if
	// the token is unused, atomically; it reports whether it did.
	MarkClientRefreshTokenUsed(ctx context.Context, hash []byte, at time.Time, sealedSuccessor []byte) (bool, error)
	// UseAssertionID records a client assertion's jti until expiresAt;
	// EConflict if the client used it before (a replay).
	UseAssertionID(ctx context.Context, clientID, jti string, expiresAt time.Time) error
}

// DeviceAuthorization is a device's request to sign in (RFC 8628): the
// device polls with the device code while the user, on another screen,
// enters the user code and agrees. Only the codes' hashes are stored.
type DeviceAuthorization struct {
	ID             string
	ClientID       string
	DeviceCodeHash []byte
	UserCodeHash   []byte
	Scopes         []string
	CreatedAt      time.Time
	ExpiresAt      time.Time
	LastPolledAt   *time.Time
	// Set when the user answered: who agreed (ApprovedAt), or that they
	// refused (DeniedAt).
	UserID     string
	SessionID  string
	AuthTime   *time.Time
	AMR        []string
	ACR        string
	ApprovedAt *time.Time
	DeniedAt   *time.Time
	// ConsumedAt: the device got its tokens (a device code works once).
	ConsumedAt *time.Time
}

// DeviceStore keeps device authorizations.
type DeviceStore interface {
	CreateDeviceAuthorization(ctx context.Context, d *DeviceAuthorization) error // EConflict on a user code in use
	DeviceAuthorizationByDeviceCode(ctx context.Context, hash []byte) (*DeviceAuthorization, error)
	DeviceAuthorizationByUserCode(ctx context.Context, hash []byte) (*DeviceAuthorization, error)
	// PollDeviceAuthorization records a poll at at, atomically, unless the
	// previous one was less than interval before: then it reports tooFast
	// and records nothing. ENotFound for an unknown id.
	PollDeviceAuthorization(ctx context.Context, id string, at time.Time, interval time.Duration) (tooFast bool, err error)
	// AnswerDeviceAuthorization records the user's answer (d.At is the
	// time; approved false: refused), only if there was none, atomically
	// (ENotFound otherwise).
	AnswerDeviceAuthorization(ctx context.Context, id string, d AuthDone, approved bool) error
	// ConsumeDeviceAuthorization marks an approved authorization used,
	// only once, atomically (ENotFound otherwise).
	ConsumeDeviceAuthorization(ctx context.Context, id string, at time.Time) error
}

// Resource is a resource server (an API) registered with the provider:
// clients ask for tokens for it by its identifier (RFC 8707), which
// becomes the tokens' aud.
type Resource struct {
	ID        string // the identifier: an absolute URI, e.g. https://api.example.com
	Name      string
	CreatedAt time.Time
}

// ResourceStore keeps resource servers and the audiences of API keys.
type ResourceStore interface {
	CreateResource(ctx context.Context, r *Resource) error // EConflict if it exists
	ResourceByID(ctx context.Context, id string) (*Resource, error)
	ListResources(ctx context.Context) ([]Resource, error)
	DeleteResource(ctx context.Context, id string) error
	// SetAPIKeyAudiences replaces the audiences of the user's live key
	// (ENotFound for another user's, a revoked or an unknown key).
	SetAPIKeyAudiences(ctx context.Context, id, userID string, audiences []string) error
}
