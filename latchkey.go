// Package latchkey holds the domain of the latchkey authentication server:
// the types every other package shares, the error codes, and the narrow
// storage interfaces that each database adapter implements. It imports
// nothing of latchkey's own.
package latchkey

import (
	"crypto/rand"
	"encoding/binary"
	"slices"
	"strings"
	"time"
)

// Roles every deployment knows about. Roles are otherwise free strings.
const (
	RoleUser  = "user"
	RoleAdmin = "admin"
)

// User is an account. PasswordHash is an argon2id PHC string, or empty for
// an account that can only sign in through a social provider.
type User struct {
	ID           string
	Email        string // canonical form: see internal/auth.CanonicalEmail
	Name         string
	Roles        []string
	Disabled     bool
	PasswordHash string
	// EmailVerifiedAt is when the user last proved that Email is theirs;
	// nil when the address was never proven.
	EmailVerifiedAt *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// HasRole reports whether u carries role.
func (u *User) HasRole(role string) bool { return slices.Contains(u.Roles, role) }

// EmailVerified reports whether the user's email address was proven.
func (u *User) EmailVerified() bool { return u.EmailVerifiedAt != nil }

// UserPatch is a change to some of a user's fields: a nil field is left as
// it is. UpdatedAt is always written. The password hash is not part of it:
// it changes only through UserStore.SetPasswordHash.
type UserPatch struct {
	Email    *string
	Name     *string
	Roles    *[]string
	Disabled *bool
	// EmailVerifiedAt, when not nil, sets User.EmailVerifiedAt to its At
	// (an At of nil clears it: the address is no longer proven).
	EmailVerifiedAt *TimePatch
	UpdatedAt       time.Time
}

// TimePatch is the new value of an optional time in a patch; At nil clears it.
type TimePatch struct{ At *time.Time }

// Session is one sign-in: the server-side state that refresh tokens, access
// tokens (through their sid claim) and browser cookies all point at.
type Session struct {
	ID         string
	UserID     string
	CreatedAt  time.Time
	LastUsedAt time.Time
	ExpiresAt  time.Time // absolute: no refresh or cookie use extends it
	RevokedAt  *time.Time
	// AuthTime is when the user last proved who they are in this session:
	// the sign-in that started it, or a later re-authentication.
	AuthTime time.Time
	// AMR says how the user proved who they are in this session (RFC 8176
	// method references: "pwd", "otp", "mfa", …): set at sign-in, added
	// to by a step-up. Empty for a session that predates it.
	AMR       []string
	IP        string
	UserAgent string
	// CookieHash is the SHA-256 of the browser session cookie, when the
	// session was started by the hosted login page; nil otherwise.
	CookieHash []byte
}

// Active reports whether the session can still be used at now, given the
// idle timeout.
func (s *Session) Active(now time.Time, idle time.Duration) bool {
	if s.RevokedAt != nil || !now.Before(s.ExpiresAt) {
		return false
	}
	return idle <= 0 || now.Before(s.LastUsedAt.Add(idle))
}

// RefreshToken is the stored half of an opaque refresh token: only the
// SHA-256 of the token is kept.
type RefreshToken struct {
	Hash      []byte
	SessionID string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
	// SealedSuccessor is the token that replaced this one, encrypted with a
	// key derived from this token's plaintext. Only a client that still holds
	// this token can open it, which lets a retry inside the grace period get
	// the same successor without the server ever storing a usable token.
	SealedSuccessor []byte
}

// APIKey is the stored half of an API key: only its SHA-256 is kept.
type APIKey struct {
	ID     string
	UserID string
	Name   string
	Prefix string // the first characters of the key, shown in lists
	Hash   []byte
	Scopes []string
	// Audiences, when set, are the only services (resource identifiers)
	// the key is good for: any other refuses it. Empty: every service.
	Audiences  []string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// Usable reports whether the key may authenticate at now.
func (k *APIKey) Usable(now time.Time) bool {
	return k.RevokedAt == nil && (k.ExpiresAt == nil || now.Before(*k.ExpiresAt))
}

// HasScope reports whether the key grants scope. A key with no scopes
// carries all of its owner's rights.
func (k *APIKey) HasScope(scope string) bool {
	return len(k.Scopes) == 0 || slices.Contains(k.Scopes, scope)
}

// Identity links a user to an account at a social login provider.
type Identity struct {
	ID        string
	UserID    string
	Provider  string
	Subject   string
	Email     string
	CreatedAt time.Time
}

// OneTimeCode is a short-lived, single-use code that a browser carries back
// to an app after social login; the app exchanges it for tokens.
type OneTimeCode struct {
	Hash      []byte
	UserID    string
	Provider  string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Signing-key states, in the order a key passes through them.
const (
	KeyNext    = "next"    // published, not yet signing
	KeyCurrent = "current" // signing new tokens
	KeyRetired = "retired" // published until the tokens it signed expire
)

// SigningKey is a JWT signing key. The private key is stored sealed with
// the master key (AES-GCM); PublicKey is the PKIX DER encoding.
type SigningKey struct {
	ID            string // the kid
	Algorithm     string // ES256, EdDSA or RS256: the only one this key verifies
	State         string
	PublicKey     []byte
	SealedPrivate []byte
	CreatedAt     time.Time
	ActivatedAt   *time.Time
	RetiredAt     *time.Time
}

// Audit event types.
const (
	AuditSignup         = "signup"
	AuditLoginSucceeded = "login.succeeded"
	AuditLoginFailed    = "login.failed"
	AuditLogout         = "logout"
	AuditRefresh        = "refresh"
	AuditRefreshReuse   = "refresh.reuse_detected"
	// AuditRefreshGrace: a retried refresh inside the grace period got the
	// same successor again.
	AuditRefreshGrace = "refresh.grace"
	// AuditReauthenticated: a signed-in user confirmed the password, making
	// the session fresh for sensitive operations.
	AuditReauthenticated = "session.reauthenticated"
	AuditSessionRevoked  = "session.revoked"
	AuditPasswordChanged = "password.changed"
	AuditAPIKeyCreated   = "apikey.created"
	AuditAPIKeyRevoked   = "apikey.revoked"
	AuditOAuthLogin      = "oauth.login"
	AuditOAuthLinked     = "oauth.linked"
	AuditUserUpdated     = "user.updated"
	AuditUserDeleted     = "user.deleted"
	AuditKeysRotated     = "keys.rotated"
	AuditRateLimited     = "rate_limited"
	// The mailed flows. None of them records an address, a token or a code.
	AuditEmailVerificationSent = "email.verification_sent"
	AuditEmailVerified         = "email.verified"
	AuditPasswordResetAsked    = "password.reset_requested"
	AuditPasswordReset         = "password.reset"
	AuditEmailChangeRequested  = "email.change_requested"
	AuditEmailChanged          = "email.changed"
	// AuditEmailChangeCancelled: the old address's "this wasn't me" link
	// was followed: the change is void and every session ended.
	AuditEmailChangeCancelled = "email.change_cancelled"
	AuditEmailSignIn          = "email.sign_in"
	// Passkeys. None records a credential ID (it names the authenticator);
	// the reason names latchkey's id of the passkey.
	AuditPasskeyRegistered = "passkey.registered"
	AuditPasskeyRenamed    = "passkey.renamed"
	AuditPasskeyRemoved    = "passkey.removed"
	AuditPasskeySignIn     = "passkey.sign_in"
	// AuditPasskeyFlagsChanged: a sign-in reported other backup flags
	// than the ones recorded (a synced passkey was backed up, or flags
	// were recorded for the first time); they were updated.
	AuditPasskeyFlagsChanged = "passkey.flags_changed"
	// AuditPasskeyCloneSuspected: a sign-in's signature counter did not
	// move forward, as when a copy of the authenticator is used; refused.
	AuditPasskeyCloneSuspected = "passkey.clone_suspected"
	OutcomeSuccess             = "success"
	OutcomeFailure             = "failure"
)

// AuditEvent records one authentication event. It never holds a secret.
type AuditEvent struct {
	ID        string
	Time      time.Time
	Type      string
	UserID    string
	SessionID string
	APIKeyID  string
	IP        string
	UserAgent string
	Outcome   string
	Reason    string
}

// Page asks for one page of a newest-first listing. Cursor is the ID of the
// last item of the previous page ("" for the first page).
type Page struct {
	Cursor string
	Limit  int
}

// UserFilter selects users for the admin listing.
type UserFilter struct {
	Query string // substring of the email
	Page
}

// AuditFilter selects audit events: those that match every field set.
type AuditFilter struct {
	UserID  string
	Type    string
	Outcome string    // OutcomeSuccess or OutcomeFailure
	Since   time.Time // at or after
	Until   time.Time // before
	Page
}

// NewID returns an opaque, unique identifier that sorts by creation time:
// 48 bits of milliseconds followed by 80 random bits, in lower-case
// Crockford base32 (26 characters).
func NewID(now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic("latchkey: crypto/rand failed: " + err.Error())
	}
	const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	var sb strings.Builder
	sb.Grow(26)
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	for i := 25; i >= 0; i-- {
		// 128 bits in 26 groups of 5 bits (130 bits, the top two are zero).
		shift := uint(i * 5)
		var v uint64
		switch {
		case shift >= 64:
			v = hi >> (shift - 64)
		case shift+5 > 64:
			v = lo>>shift | hi<<(64-shift)
		default:
			v = lo >> shift
		}
		sb.WriteByte(alphabet[v&31])
	}
	return sb.String()
}
