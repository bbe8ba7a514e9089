package latchkey

import (
	"context"
	"time"
)

// TOTPFactor is an authenticator app of a user (RFC 6238). Its shared
// secret is stored sealed with the master key: latchkey must compute codes
// from it, so it cannot be hashed. A factor counts only once confirmed
// (the user proved a code from it); until then ExpiresAt bounds how long
// the enrollment may take.
type TOTPFactor struct {
	ID           string
	UserID       string
	Name         string
	SealedSecret []byte
	CreatedAt    time.Time
	// ExpiresAt is when an unconfirmed enrollment lapses; nil once
	// confirmed.
	ExpiresAt   *time.Time
	ConfirmedAt *time.Time
	// LastStep is the last RFC 6238 time step accepted from this factor
	// (0: none): a code of that step or an earlier one is never accepted
	// again, which makes every code single use (RFC 6238 §5.2).
	LastStep   int64
	LastUsedAt *time.Time
}

// Confirmed reports whether the factor is active.
func (f *TOTPFactor) Confirmed() bool { return f.ConfirmedAt != nil }

// MFAChallenge is the server's half of a sign-in that proved its first
// factor and waits for the second: the SHA-256 of the mfa_token the client
// holds, whose sign-in it is, and how far it got.
type MFAChallenge struct {
	ID     string
	Hash   []byte
	UserID string
	// AMR and Audit are how the first step authenticated and the audit
	// event the sign-in is recorded as once it completes.
	AMR   []string
	Audit string
	// Attempts counts the codes tried against the challenge.
	Attempts   int
	CreatedAt  time.Time
	ExpiresAt  time.Time
	ConsumedAt *time.Time
}

// Audit event types of second factors. None records a secret or a code.
const (
	// AuditMFAChallenged: the first factor was right; the sign-in waits
	// for the second.
	AuditMFAChallenged = "mfa.challenged"
	// AuditMFAVerified: a second factor was proven (reason: totp or
	// recovery_code; "step_up" when it raised a live session).
	AuditMFAVerified = "mfa.verified"
	// AuditMFAFailed: a wrong, replayed or late code.
	AuditMFAFailed       = "mfa.failed"
	AuditTOTPAdded       = "mfa.totp_added"
	AuditTOTPRemoved     = "mfa.totp_removed"
	AuditRecoveryCodes   = "mfa.recovery_codes_generated"
	AuditRecoveryUsed    = "mfa.recovery_code_used"
	AuditMFAResetByAdmin = "mfa.reset"
)

// MFAStore keeps second factors: TOTP factors, recovery codes (only their
// keyed hashes) and the challenges of sign-ins that wait for a factor.
// Lifetimes, limits and what counts as a later step are the caller's.
type MFAStore interface {
	// CreateTOTPFactor stores a new factor (ENotFound for an unknown user).
	CreateTOTPFactor(ctx context.Context, f *TOTPFactor) error
	// ListTOTPFactors returns the user's factors, confirmed or not, oldest
	// first.
	ListTOTPFactors(ctx context.Context, userID string) ([]TOTPFactor, error)
	// ConfirmTOTPFactor activates the user's factor id: it sets ConfirmedAt
	// to at, clears ExpiresAt and records step as the last accepted step,
	// only if the factor is unconfirmed and its enrollment has not lapsed
	// at at, atomically. ENotFound for an unknown id, another user's, a
	// confirmed or a lapsed factor.
	ConfirmTOTPFactor(ctx context.Context, userID, id string, step int64, at time.Time) error
	// UseTOTPStep records step as the last accepted step of the confirmed
	// factor id, and at as its last use, only if step is later than the
	// step recorded: it reports whether it did. Under any number of
	// concurrent calls with one step, at most one returns true. An unknown
	// or unconfirmed factor is false, not an error.
	UseTOTPStep(ctx context.Context, id string, step int64, at time.Time) (bool, error)
	// DeleteTOTPFactor removes the user's factor id (ENotFound for an
	// unknown id or another user's).
	DeleteTOTPFactor(ctx context.Context, userID, id string) error

	// ReplaceRecoveryCodes deletes every recovery code of the user and
	// stores hashes as their new, unused set.
	ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte, at time.Time) error
	// UseRecoveryCode marks the user's unused code whose hash is hash used
	// at at, and reports whether it did: under any number of concurrent
	// calls for one code exactly one returns true.
	UseRecoveryCode(ctx context.Context, userID string, hash []byte, at time.Time) (bool, error)
	// CountRecoveryCodes counts the user's unused recovery codes.
	CountRecoveryCodes(ctx context.Context, userID string) (int, error)
	// UsersWithMFA returns those of userIDs (at most a page of users, 200)
	// that have a confirmed factor, in no particular order, in one query.
	UsersWithMFA(ctx context.Context, userIDs []string) ([]string, error)
	// DeleteMFA removes every factor, recovery code and challenge of the
	// user (MFA is off), and returns how many factors it removed.
	DeleteMFA(ctx context.Context, userID string) (int, error)

	// CreateMFAChallenge stores a challenge (ENotFound for an unknown user).
	CreateMFAChallenge(ctx context.Context, c *MFAChallenge) error
	// MFAChallengeByHash returns the challenge whose token hash is hash,
	// live or not (ENotFound when there is none).
	MFAChallengeByHash(ctx context.Context, hash []byte) (*MFAChallenge, error)
	// AttemptMFAChallenge charges one attempt to the live challenge whose
	// token hash is hash — unconsumed, unexpired at now and with fewer
	// than maxAttempts attempts — and returns it as charged; ENotFound when
	// there is no such challenge. The check and the charge are one atomic
	// step, so that concurrent attempts never test more than maxAttempts
	// codes against a challenge.
	AttemptMFAChallenge(ctx context.Context, hash []byte, now time.Time, maxAttempts int) (*MFAChallenge, error)
	// ConsumeMFAChallenge marks the challenge id consumed at at, only if it
	// is not consumed yet, and reports whether it did: of concurrent calls
	// exactly one returns true.
	ConsumeMFAChallenge(ctx context.Context, id string, at time.Time) (bool, error)
}
