package latchkey

import "time"

// Passkey is a WebAuthn credential registered to a user: what a later
// assertion is verified against. Nothing in it is secret (the private key
// never leaves the authenticator), but the credential ID identifies the
// authenticator, so it is never logged or audited.
type Passkey struct {
	ID     string
	UserID string
	// CredentialID is the authenticator's id of the credential: unique
	// across all users (a credential belongs to one account only).
	CredentialID []byte
	// PublicKey is the credential's COSE public key.
	PublicKey []byte
	// AAGUID names the authenticator model (16 bytes; all zero when the
	// authenticator does not say).
	AAGUID []byte
	// SignCount is the signature counter as last seen; 0 for an
	// authenticator that keeps none.
	SignCount uint32
	// Transports are the authenticator's hints ("internal", "usb",
	// "hybrid", …), echoed back in excludeCredentials.
	Transports []string
	// BackupEligible and BackedUp are the authenticator's BE and BS flags
	// as last recorded; nil for a credential registered before latchkey
	// stored them, which the next sign-in records.
	BackupEligible *bool
	BackedUp       *bool
	// AttestationType is what the registration's attestation proved
	// ("none", "self", "basic", …); latchkey asks for none.
	AttestationType string
	Name            string
	CreatedAt       time.Time
	LastUsedAt      *time.Time
}

// PasskeyUse is what one sign-in with a passkey records: the counter and
// the flags the authenticator reported, and when.
type PasskeyUse struct {
	SignCount      uint32
	BackupEligible bool
	BackedUp       bool
	At             time.Time
}

// The purposes of WebAuthn challenges.
const (
	// ChallengeRegister: registering a passkey, for one user and session.
	ChallengeRegister = "register"
	// ChallengeSignIn: a username-less sign-in.
	ChallengeSignIn = "sign_in"
	// ChallengeReauthenticate: a signed-in user confirming it's them, for
	// one user and session.
	ChallengeReauthenticate = "reauthenticate"
	// ChallengeSecondFactor: the second step of a sign-in, for the user of
	// one MFA challenge (whose ID is the SessionID).
	ChallengeSecondFactor = "second_factor"
)

// PasskeyChallenge is the server-side half of one WebAuthn ceremony: the
// SHA-256 of the challenge sent to the browser, what it is for, and, for
// a registration, who asked. It is spent by the ceremony's finish, once,
// whatever the outcome.
type PasskeyChallenge struct {
	Hash    []byte
	Purpose string
	// UserID and SessionID bind a registration or re-authentication to
	// the signed-in session that began it, and a second factor to the
	// sign-in's MFA challenge (its ID); empty for a username-less sign-in.
	UserID    string
	SessionID string
	// Name is the name asked for the passkey being registered.
	Name      string
	CreatedAt time.Time
	ExpiresAt time.Time
}
