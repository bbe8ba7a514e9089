package latchkey

import (
	"context"
	"time"
)

// The storage interfaces are narrow, one per concern. A database adapter
// implements all of them, both on its connection and inside a transaction.
// Adapters hold no business rules: they store, find and atomically update,
// and report ENotFound / EConflict through *Error. Every other failure is an
// operator-only error (the HTTP layer answers it with 500 or 503). The
// caller names every new record (NewID) and sets its values: an adapter
// makes no IDs, fills in no defaults, and refuses a user, session, API key,
// identity, email token, mail or audit event without an ID (an
// operator-only error).

// UserStore keeps accounts. Emails are unique.
type UserStore interface {
	CreateUser(ctx context.Context, u *User) error // EConflict if the email exists
	UserByID(ctx context.Context, id string) (*User, error)
	UserByEmail(ctx context.Context, email string) (*User, error)
	// UpdateUser writes the fields that p sets, and UpdatedAt, in one
	// statement, and returns the user as stored after it: nothing it does
	// not set is written back over a concurrent change. ENotFound for an
	// unknown id; EConflict if the new email is another user's.
	UpdateUser(ctx context.Context, id string, p UserPatch) (*User, error)
	// SetPasswordHash replaces the password hash, and sets UpdatedAt, only
	// if the stored hash still equals oldHash, atomically: ENotFound for an
	// unknown user, EConflict when the hash changed meanwhile. Under any
	// number of concurrent calls with the same oldHash at most one succeeds.
	SetPasswordHash(ctx context.Context, id, oldHash, newHash string, at time.Time) error
	// DeleteUser removes the user with every session, refresh token, API key,
	// identity, one-time code, email token, second factor and passkey of
	// theirs.
	DeleteUser(ctx context.Context, id string) error
	// ListUsers returns users newest first, and the cursor of the next page
	// ("" when there is none).
	ListUsers(ctx context.Context, f UserFilter) ([]User, string, error)
	// CountActiveUsersWithRole counts enabled users that carry role.
	CountActiveUsersWithRole(ctx context.Context, role string) (int, error)
}

// SessionStore keeps sessions.
type SessionStore interface {
	// CreateSession stores a new session. AuthTime is required (a new
	// sign-in's is CreatedAt).
	CreateSession(ctx context.Context, s *Session) error
	SessionByID(ctx context.Context, id string) (*Session, error)
	SessionByCookieHash(ctx context.Context, hash []byte) (*Session, error)
	// TouchSession sets LastUsedAt.
	TouchSession(ctx context.Context, id string, at time.Time) error
	// SetSessionCookieHash replaces the browser cookie of a session.
	SetSessionCookieHash(ctx context.Context, id string, hash []byte) error
	// SetSessionAuth records a re-authentication or step-up: it sets
	// AuthTime and AMR, in one write and whatever they were, on a session
	// that is not revoked (ENotFound if it is unknown or revoked). The
	// caller decides the new AMR (a step-up adds to the old one).
	SetSessionAuth(ctx context.Context, id string, at time.Time, amr []string) error
	// ListSessions returns the user's sessions that are not revoked and whose
	// absolute expiry is after now, newest first.
	ListSessions(ctx context.Context, userID string, now time.Time) ([]Session, error)
	// RevokeSession marks one session revoked (ENotFound if it is unknown;
	// revoking a revoked session is not an error).
	RevokeSession(ctx context.Context, id string, at time.Time) error
	// RevokeUserSessions revokes every live session of the user except
	// exceptID (which may be ""), and returns the IDs it revoked.
	RevokeUserSessions(ctx context.Context, userID, exceptID string, at time.Time) ([]string, error)
}

// RefreshTokenStore keeps refresh-token hashes.
type RefreshTokenStore interface {
	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	RefreshTokenByHash(ctx context.Context, hash []byte) (*RefreshToken, error)
	// MarkRefreshTokenUsed sets UsedAt and SealedSuccessor on the token only
	// if it is still unused, atomically; it reports whether it did. Under any
	// number of concurrent calls for one hash exactly one returns true.
	MarkRefreshTokenUsed(ctx context.Context, hash []byte, at time.Time, sealedSuccessor []byte) (bool, error)
}

// APIKeyStore keeps API-key hashes and their metadata.
type APIKeyStore interface {
	CreateAPIKey(ctx context.Context, k *APIKey) error
	APIKeyByHash(ctx context.Context, hash []byte) (*APIKey, error)
	APIKeyByID(ctx context.Context, id string) (*APIKey, error)
	// ListAPIKeys returns the user's keys that are not revoked, newest first.
	ListAPIKeys(ctx context.Context, userID string) ([]APIKey, error)
	RevokeAPIKey(ctx context.Context, id string, at time.Time) error
	// RevokeUserAPIKeys revokes every key of the user and returns their IDs.
	RevokeUserAPIKeys(ctx context.Context, userID string, at time.Time) ([]string, error)
	// TouchAPIKeys records last use for many keys in one write.
	TouchAPIKeys(ctx context.Context, lastUsed map[string]time.Time) error
}

// IdentityStore keeps links between users and social-login accounts.
type IdentityStore interface {
	CreateIdentity(ctx context.Context, id *Identity) error // EConflict if (provider, subject) exists
	IdentityByProviderSubject(ctx context.Context, provider, subject string) (*Identity, error)
	ListIdentities(ctx context.Context, userID string) ([]Identity, error)
	DeleteIdentity(ctx context.Context, userID, id string) error
}

// OneTimeCodeStore keeps the hashes of one-time login codes.
type OneTimeCodeStore interface {
	CreateOneTimeCode(ctx context.Context, c *OneTimeCode) error
	// ConsumeOneTimeCode deletes the code and returns it, atomically; a code
	// can be consumed once. It returns ENotFound for an unknown, used or
	// expired code.
	ConsumeOneTimeCode(ctx context.Context, hash []byte, now time.Time) (*OneTimeCode, error)
}

// EmailTokenStore keeps the hashes of the tokens and codes that mails
// carry. A token is live until it is consumed, expires, or is voided; a
// user has at most one unconsumed token per purpose. Numbers such as
// lifetimes and the wrong-code limit are the caller's.
type EmailTokenStore interface {
	// CreateEmailToken stores t and, atomically with it, voids (deletes)
	// every other unconsumed token of the same user and purpose: a new
	// request voids the previous one. ENotFound for an unknown user.
	CreateEmailToken(ctx context.Context, t *EmailToken) error
	// ConsumeEmailTokenByLink marks the live token of purpose whose link
	// hash is linkHash consumed at now and returns it, atomically: under
	// any number of concurrent calls exactly one succeeds. ENotFound for
	// an unknown, consumed, voided or expired token. Wrong codes do not
	// affect the link, whose token cannot be guessed.
	ConsumeEmailTokenByLink(ctx context.Context, purpose string, linkHash []byte, now time.Time) (*EmailToken, error)
	// ConsumeEmailTokenByCode checks codeHash against the live tokens of
	// purpose sent to email that have fewer than maxAttempts wrong codes:
	// the one it matches is marked consumed at now and returned; every
	// other is charged one wrong attempt, and the call returns ENotFound.
	// The check and the charge are one atomic step, so that concurrent
	// guesses never test more than maxAttempts codes against a token, and
	// of concurrent right codes exactly one succeeds. (Should the code
	// match two tokens, all it matches are consumed and the newest is
	// returned.)
	ConsumeEmailTokenByCode(ctx context.Context, purpose, email string, codeHash []byte, now time.Time, maxAttempts int) (*EmailToken, error)
	// VoidEmailTokens voids (deletes) every unconsumed token of the user
	// whose purpose is one of purposes, or of any purpose when none is
	// given, and returns how many it voided: a password reset voids pending
	// sign-in links, a "this wasn't me" cancels an email change.
	VoidEmailTokens(ctx context.Context, userID string, purposes ...string) (int, error)
}

// OutboxStore is the durable outbox: mails are queued in the transaction
// of what they announce and delivered by a sender, which claims them with
// a lease so that several instances never hold one mail at once, and one
// that dies lets go of it when the lease runs out.
type OutboxStore interface {
	// EnqueueMail queues m as it is: the caller sets NextAttemptAt
	// (usually CreatedAt).
	EnqueueMail(ctx context.Context, m *OutboxMail) error
	// MailByID returns one mail, for an operator's view (ENotFound if it
	// is unknown).
	MailByID(ctx context.Context, id string) (*OutboxMail, error)
	// ClaimMail leases up to limit mails that are due at now (neither sent
	// nor given up, NextAttemptAt not after now, held by no sender or by
	// one whose lease ran out), oldest first: it sets LeaseUntil to
	// now+lease and counts an attempt. Concurrent claims, from any number
	// of instances, never return the same mail while its lease runs.
	ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]OutboxMail, error)
	// MarkMailSent records that the mail was sent at at, releases its
	// lease and drops its bodies. ENotFound for an unknown mail.
	MarkMailSent(ctx context.Context, id string, at time.Time) error
	// MarkMailFailed records a failed attempt: it releases the lease and
	// keeps reason (cut to 1000 bytes) as LastError; the mail falls due
	// again at next, or, when gaveUp, is given up at next (FailedAt) and
	// its bodies are dropped. A mail that was sent meanwhile stays sent.
	// ENotFound for an unknown mail.
	MarkMailFailed(ctx context.Context, id string, next time.Time, reason string, gaveUp bool) error
	// OutboxStats counts the outbox's mails as they stand at now.
	OutboxStats(ctx context.Context, now time.Time) (OutboxStats, error)
}

// PasskeyStore keeps users' WebAuthn credentials and the challenges of
// the ceremonies in flight. Business rules (how many per user, which
// flags count) are the caller's; the store keeps credential IDs unique
// and spends a challenge, and moves a counter forward, atomically.
type PasskeyStore interface {
	// CreatePasskey stores a new credential: EConflict if its credential
	// ID is registered already (to anyone), ENotFound for an unknown user.
	CreatePasskey(ctx context.Context, p *Passkey) error
	// PasskeyByCredentialID finds a credential by the authenticator's id.
	PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*Passkey, error)
	// ListPasskeys returns the user's passkeys, newest first.
	ListPasskeys(ctx context.Context, userID string) ([]Passkey, error)
	// RenamePasskey sets the name of the user's passkey id (ENotFound if
	// the user has no such passkey).
	RenamePasskey(ctx context.Context, userID, id, name string) error
	// DeletePasskey removes the user's passkey id (ENotFound if the user
	// has no such passkey).
	DeletePasskey(ctx context.Context, userID, id string) error
	// UsePasskey records a sign-in: it writes u's counter, flags and time
	// only if the counter moves forward (u.SignCount is greater than the
	// stored one) or both are zero, in one atomic step, so that of
	// concurrent uses with the same counter at most one succeeds.
	// EConflict when the counter did not move forward, ENotFound for an
	// unknown passkey.
	UsePasskey(ctx context.Context, id string, u PasskeyUse) error
	// CreatePasskeyChallenge stores a ceremony's challenge (by its hash,
	// which must be new).
	CreatePasskeyChallenge(ctx context.Context, c *PasskeyChallenge) error
	// ConsumePasskeyChallenge deletes the challenge of purpose whose hash
	// is hash and returns it, atomically: under any number of concurrent
	// calls exactly one gets it. ENotFound for an unknown, spent or
	// expired (at now) challenge.
	ConsumePasskeyChallenge(ctx context.Context, purpose string, hash []byte, now time.Time) (*PasskeyChallenge, error)
}

// SigningKeyStore keeps JWT signing keys.
type SigningKeyStore interface {
	CreateSigningKey(ctx context.Context, k *SigningKey) error
	// ListSigningKeys returns every key, newest first.
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// UpdateSigningKey writes State, ActivatedAt and RetiredAt.
	UpdateSigningKey(ctx context.Context, k *SigningKey) error
	DeleteSigningKey(ctx context.Context, id string) error
}

// AuditStore keeps the audit log.
type AuditStore interface {
	AppendAudit(ctx context.Context, e *AuditEvent) error
	// ListAudit returns events newest first and the next page's cursor.
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, string, error)
	// CountAuditByHour counts the events of the given types (every type
	// when none is given) that happened at or after since and before until,
	// per UTC hour, type and outcome, ordered by hour, type and outcome (as
	// Go compares strings). Hours without such events are left out.
	CountAuditByHour(ctx context.Context, since, until time.Time, types []string) ([]AuditCount, error)
}

// AuditCount is how many audit events of one type and outcome happened in
// one hour.
type AuditCount struct {
	Hour    time.Time // the hour's start, in UTC
	Type    string
	Outcome string
	Count   int64
}

// Janitor removes what has outlived its use.
type Janitor interface {
	// DeleteExpired removes sessions, refresh tokens, one-time codes, email
	// tokens, MFA challenges and passkey challenges that expired (or were
	// revoked or consumed) before the cut-off, TOTP enrollments that lapsed
	// unconfirmed before it, and audit events older than auditBefore. It returns the
	// number of rows removed.
	DeleteExpired(ctx context.Context, before, auditBefore time.Time) (int64, error)
	// DeleteOldMail removes the mails of the outbox that were sent or given
	// up before the cut-off, and returns how many.
	DeleteOldMail(ctx context.Context, before time.Time) (int64, error)
}

// Tx is everything a use case can do inside one transaction.
type Tx interface {
	UserStore
	SessionStore
	RefreshTokenStore
	APIKeyStore
	IdentityStore
	OneTimeCodeStore
	EmailTokenStore
	OutboxStore
	MFAStore
	PasskeyStore
	SigningKeyStore
	AuditStore
	ClientStore
	ProviderStore
	ClientTokenStore
	DeviceStore
	ResourceStore
}

// Store is a database. Its own methods run outside a transaction; InTx runs
// fn in one read-write transaction that is committed when fn returns nil and
// rolled back otherwise.
type Store interface {
	Tx
	Janitor
	InTx(ctx context.Context, fn func(tx Tx) error) error
	Ping(ctx context.Context) error
	Close() error
}
