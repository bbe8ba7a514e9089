package latchkey

import (
	"fmt"
	"log/slog"
	"time"
)

// The purposes of email tokens: what proving control of an address is for.
const (
	PurposeVerifyEmail   = "verify_email"
	PurposePasswordReset = "password_reset"
	// PurposeEmailChange: the token goes to the new address and applies
	// the change.
	PurposeEmailChange = "email_change"
	PurposeSignIn      = "sign_in"
	// PurposeEmailChangeCancel: the token goes to the old address with the
	// notice of a change, and cancels it ("this wasn't me").
	PurposeEmailChangeCancel = "email_change_cancel"
)

// EmailToken is the stored half of what one mail carries: a link token and
// a short code, either of which proves that the reader controls Email.
// Only keyed hashes (HMAC with a server key) of the two are kept: a bare
// hash of an 8-digit code falls to an offline search.
type EmailToken struct {
	ID      string
	UserID  string
	Purpose string
	// Email is the address the mail went to: for an email change, the new
	// address.
	Email    string
	LinkHash []byte
	// CodeHash is nil for a token that has no code.
	CodeHash []byte
	// Attempts counts wrong codes entered for this token.
	Attempts   int
	CreatedAt  time.Time
	ExpiresAt  time.Time
	ConsumedAt *time.Time
}

// OutboxMail is one mail in the durable outbox, written in the same
// transaction as what it announces and delivered later by a sender.
// Text and HTML may carry a link token or a code: they are dropped from
// the outbox once the mail is sent or given up, and never logged.
type OutboxMail struct {
	ID      string
	Kind    string // the template: "verify-email", "password-reset", …
	To      string
	Subject string
	Text    string
	HTML    string
	// CreatedAt is when the mail was queued.
	CreatedAt time.Time
	// Attempts counts the times a sender claimed the mail.
	Attempts      int
	NextAttemptAt time.Time
	// LeaseUntil is when the claim of the sender that holds the mail runs
	// out; nil when no sender holds it.
	LeaseUntil *time.Time
	SentAt     *time.Time
	// FailedAt is when the sender gave up on the mail.
	FailedAt  *time.Time
	LastError string
}

// String and LogValue leave out the bodies, which may carry a token.
func (m OutboxMail) String() string {
	return fmt.Sprintf("latchkey.OutboxMail{ID:%q Kind:%q Attempts:%d}", m.ID, m.Kind, m.Attempts)
}

func (m OutboxMail) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", m.ID), slog.String("kind", m.Kind), slog.Int("attempts", m.Attempts))
}

// OutboxStats is the state of the outbox at one instant, for /readyz and
// the metrics.
type OutboxStats struct {
	Queued  int // neither sent nor given up
	Due     int // queued, due, and held by no sender: claimable now
	Leased  int // queued and held by a sender
	GivenUp int
	// OldestDue is how long the mail that has been due the longest has
	// waited since it fell due (0 when none is due). A sender that runs
	// keeps it near its polling interval; a large value is a stuck outbox.
	OldestDue time.Duration
}
