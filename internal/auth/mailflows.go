package auth

import (
	"context"
	"crypto/rand"
	"net/url"
	"strconv"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/mail"
)

// The mailed flows share one design: a mail carries a link token and a
// code (emailsecret.go), only keyed hashes of which are stored, in the
// transaction that queues the mail in the outbox; a token is spent once,
// in the transaction that applies what it proves.

// The settings of --email-verification.
const (
	VerificationOff      = "off"
	VerificationOptional = "optional"
	VerificationRequired = "required"
)

// EmailConfig shapes the mailed flows.
type EmailConfig struct {
	// Verification is VerificationOff, VerificationOptional (also "") or
	// VerificationRequired.
	Verification string
	// SignIn allows signing in with a mailed link or code.
	SignIn bool
	// PublicURL is the base of every link in a mail. It comes from the
	// configuration only, never from a request's Host or X-Forwarded-Host
	// (CVE-2025-64101 was exactly that).
	PublicURL string
	// Product names the service in mails (default "latchkey").
	Product string
}

// How long a mailed token lives, by purpose.
const (
	VerifyEmailTTL   = 24 * time.Hour
	PasswordResetTTL = 30 * time.Minute
	EmailSignInTTL   = 15 * time.Minute
	EmailChangeTTL   = time.Hour
	// EmailChangeCancelTTL: the old address may undo a change for a week,
	// also after it was confirmed.
	EmailChangeCancelTTL = 7 * 24 * time.Hour
)

// MaxCodeAttempts is how many wrong codes a token survives: the fifth
// kills it, and a right code after that fails too.
const MaxCodeAttempts = 5

var emailTokenTTL = map[string]time.Duration{
	latchkey.PurposeVerifyEmail:       VerifyEmailTTL,
	latchkey.PurposePasswordReset:     PasswordResetTTL,
	latchkey.PurposeSignIn:            EmailSignInTTL,
	latchkey.PurposeEmailChange:       EmailChangeTTL,
	latchkey.PurposeEmailChangeCancel: EmailChangeCancelTTL,
}

// The hosted pages that mail links open. A GET shows the page and changes
// nothing (mail scanners follow links); only its form's POST spends the
// token.
const (
	PageVerifyEmail       = "/verify-email"
	PageResetPassword     = "/reset-password"
	PageForgotPassword    = "/forgot-password"
	PageEmailSignIn       = "/email-sign-in"
	PageConfirmEmail      = "/confirm-email"
	PageCancelEmailChange = "/cancel-email-change"
)

// MailRenderer turns a kind of mail and its data into a message;
// *mail.Renderer is the one latchkey runs with.
type MailRenderer interface {
	Render(k mail.Kind, d mail.Data) (mail.Message, error)
}

var _ MailRenderer = (*mail.Renderer)(nil)

// EmailProof proves control of an address: the link token of a mail, or
// the address the mail went to and its code.
type EmailProof struct {
	Token string
	Email string
	Code  string
}

// maxLinkToken bounds a presented link token before it is hashed (ours
// are 43 characters).
const maxLinkToken = 128

var errInvalidEmailProof = latchkey.Errorf(latchkey.EInvalidGrant, "The link or code is invalid, used or expired; ask for a new mail.")

// check validates the proof's shape: one of the two forms, well formed.
func (p EmailProof) check() (EmailProof, error) {
	switch {
	case p.Token != "" && (p.Code != "" || p.Email != ""):
		return p, latchkey.Errorf(latchkey.EInvalidRequest, "Send either token, or email and code.")
	case p.Token != "":
		if len(p.Token) > maxLinkToken {
			return p, errInvalidEmailProof
		}
		return p, nil
	case p.Code == "":
		return p, latchkey.Errorf(latchkey.EInvalidRequest, "Send either token, or email and code.")
	}
	email, err := CanonicalEmail(p.Email)
	if err != nil {
		return p, err
	}
	p.Email = email
	if !validCode(p.Code) {
		return p, errInvalidEmailProof
	}
	return p, nil
}

func (s *Service) verificationMode() string {
	if s.email.Verification == "" {
		return VerificationOptional
	}
	return s.email.Verification
}

// EmailVerificationRequired reports whether accounts sign in only with a
// proven address (sign-up then answers 202 without tokens).
func (s *Service) EmailVerificationRequired() bool {
	return s.verificationMode() == VerificationRequired
}

// EmailSignInEnabled reports whether passwordless sign-in by mail is on.
func (s *Service) EmailSignInEnabled() bool { return s.email.SignIn }

// link is the hosted page's address for a token: the configured public
// URL, the page, and the token.
func (s *Service) link(page, token string) string {
	if token == "" {
		return s.email.PublicURL + page
	}
	return s.email.PublicURL + page + "?" + url.Values{"token": {token}}.Encode()
}

// queueMail renders a mail to to and queues it in the outbox within tx.
func (s *Service) queueMail(ctx context.Context, tx latchkey.Tx, k mail.Kind, to string, d mail.Data) error {
	d.Email, d.Product = to, s.email.Product
	msg, err := s.mail.Render(k, d)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	return tx.EnqueueMail(ctx, &latchkey.OutboxMail{ID: latchkey.NewID(now), Kind: string(k), To: to, Subject: msg.Subject,
		Text: msg.Text, HTML: msg.HTML, CreatedAt: now, NextAttemptAt: now})
}

// mailToken creates a token of purpose for the user, sent to to (which
// voids the user's previous one of that purpose), and queues the mail of
// kind that carries it, linking to page. withCode leaves the code out
// when false. d may carry more data (NewEmail).
func (s *Service) mailToken(ctx context.Context, tx latchkey.Tx, userID, purpose, to string, k mail.Kind, page string, withCode bool, d mail.Data) error {
	sec := newEmailSecret()
	now := s.now().UTC()
	ttl := emailTokenTTL[purpose]
	t := &latchkey.EmailToken{ID: latchkey.NewID(now), UserID: userID, Purpose: purpose, Email: to,
		LinkHash: s.emailHash.link(purpose, sec.Token), CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if withCode {
		t.CodeHash = s.emailHash.code(purpose, to, sec.Code)
		d.Code = sec.Code
	}
	if err := tx.CreateEmailToken(ctx, t); err != nil {
		return err
	}
	d.Link, d.ExpiresIn = s.link(page, sec.Token), humanDuration(ttl)
	return s.queueMail(ctx, tx, k, to, d)
}

// withEmailToken spends the token of purpose that p proves and runs apply
// on it, in one transaction: if apply fails, the token stays unspent. A
// proof that matches no live token is refused with invalid_grant, and the
// transaction still commits, so that a wrong code is charged to the token
// it was tried against.
func (s *Service) withEmailToken(ctx context.Context, purpose string, p EmailProof, apply func(tx latchkey.Tx, t *latchkey.EmailToken) error) error {
	p, err := p.check()
	if err != nil {
		return err
	}
	refused := false
	err = s.store.InTx(ctx, func(tx latchkey.Tx) error {
		refused = false
		now := s.now().UTC()
		var t *latchkey.EmailToken
		var err error
		if p.Token != "" {
			t, err = tx.ConsumeEmailTokenByLink(ctx, purpose, s.emailHash.link(purpose, p.Token), now)
		} else {
			t, err = tx.ConsumeEmailTokenByCode(ctx, purpose, p.Email, s.emailHash.code(purpose, p.Email, p.Code), now, MaxCodeAttempts)
		}
		if latchkey.IsCode(err, latchkey.ENotFound) {
			refused = true
			return nil
		}
		if err != nil {
			return err
		}
		return apply(tx, t)
	})
	if err == nil && refused {
		return errInvalidEmailProof
	}
	return err
}

// mailQueued tells the sender that a committed transaction queued mail.
func (s *Service) mailQueued() {
	if s.nudge != nil {
		s.nudge()
	}
}

// maxBackground bounds the mailed requests being worked on off the
// request path; beyond it a request is refused (503) whatever its address.
const maxBackground = 64

var errBusy = latchkey.Errorf(latchkey.EUnavailable, "The server is busy; try again shortly.")

// background runs fn off the request path, so that a request's answer
// and its timing are the same whether or not its address belongs to an
// account. Failures are logged: the client was answered already.
func (s *Service) background(ctx context.Context, what string, fn func(ctx context.Context) error) error {
	select {
	case s.bgSlots <- struct{}{}:
	default:
		return errBusy
	}
	s.bgWait.Add(1)
	ctx = context.WithoutCancel(ctx)
	s.bgRun(func() {
		defer s.bgWait.Done()
		defer func() { <-s.bgSlots }()
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := fn(ctx); err != nil {
			s.log.WarnContext(ctx, what+" failed", "err", err)
		}
	})
	return nil
}

// Close waits for the work started off the request path to end.
func (s *Service) Close() { s.bgWait.Wait() }

// setVerified marks u's address proven at now, if it was not.
func (s *Service) setVerified(ctx context.Context, tx latchkey.Tx, u *latchkey.User, now time.Time) (*latchkey.User, error) {
	if u.EmailVerified() {
		return u, nil
	}
	return tx.UpdateUser(ctx, u.ID, latchkey.UserPatch{EmailVerifiedAt: &latchkey.TimePatch{At: &now}, UpdatedAt: now})
}

func humanDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0 && d > 24*time.Hour:
		return strconv.Itoa(int(d/(24*time.Hour))) + " days"
	case d%time.Hour == 0 && d > time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " hours"
	case d == time.Hour:
		return "1 hour"
	default:
		return strconv.Itoa(int(d/time.Minute)) + " minutes"
	}
}

// randomKey is the fallback mail key of a Service built without one
// (tests): tokens then live only as long as the process.
func randomKey() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	return k
}
