// Package auth holds latchkey's use cases: sign-up, login, refresh with
// rotation and reuse detection, logout, sessions and password change. It is
// backend-neutral: storage, hashing and token signing are passed in.
package auth

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/apikey"
	"github.com/latchkey/latchkey/internal/crypt"
	"github.com/latchkey/latchkey/internal/mail"
	"github.com/latchkey/latchkey/internal/password"
	"github.com/latchkey/latchkey/internal/token"
)

// Config holds the lifetimes that shape sessions.
type Config struct {
	AccessTokenTTL     time.Duration
	RefreshTokenTTL    time.Duration // absolute session lifetime
	SessionIdleTimeout time.Duration
	RefreshReuseGrace  time.Duration
	// Email shapes the mailed flows: verification, password reset, email
	// change and sign-in by mail.
	Email EmailConfig
	// MFA shapes second factors.
	MFA MFAConfig
	// Passkeys is the WebAuthn relying party (RPID "": passkeys off).
	Passkeys PasskeyConfig
}

// Store is the storage the use cases need: accounts, sessions, refresh
// tokens, API keys, linked identities, one-time codes and the audit log,
// outside a transaction and inside one. Signing keys are not theirs
// (token.KeyManager keeps them), nor is the clean-up of expired rows.
type Store interface {
	latchkey.UserStore
	latchkey.SessionStore
	latchkey.RefreshTokenStore
	latchkey.APIKeyStore
	latchkey.IdentityStore
	latchkey.OneTimeCodeStore
	latchkey.MFAStore
	latchkey.PasskeyStore
	latchkey.AuditStore
	InTx(ctx context.Context, fn func(tx latchkey.Tx) error) error
}

// accounts is what a Store and a transaction both offer for reading a
// session and its user.
type accounts interface {
	latchkey.UserStore
	latchkey.SessionStore
}

// Service runs the use cases.
type Service struct {
	store      Store
	hasher     Hasher
	policy     password.Policy
	issuer     *token.Issuer
	verifier   *token.Verifier
	cfg        Config
	now        func() time.Time
	log        *slog.Logger
	events     Events
	keys       *apikey.Verifier
	tokenCache *token.Cache
	sessions   *SessionCache // nil: every token-authenticated request reads its session

	email     EmailConfig
	emailHash emailHasher
	mail      MailRenderer
	nudge     func()
	bgRun     func(func())
	bgSlots   chan struct{}
	bgWait    sync.WaitGroup

	mfa         MFAConfig
	sealer      *crypt.Sealer
	recoveryKey []byte
	passkeys    *relyingParty // nil: passkeys are off
}

// Hasher is the password hashing the use cases need; *password.Hasher is
// the one latchkey runs with.
type Hasher interface {
	Hash(ctx context.Context, password string) (string, error)
	Verify(ctx context.Context, password, encoded string) (ok, needsRehash bool, err error)
	// VerifyDummy does the work of a failed Verify, so that a refusal
	// without a stored hash costs what a wrong password costs.
	VerifyDummy(ctx context.Context, password string) error
}

var _ Hasher = (*password.Hasher)(nil)

// Events receives what happened, for metrics and cross-instance
// revocation. Every method must be cheap and must not block.
type Events interface {
	Login(outcome string)
	TokensIssued(kind string)
	Refresh(outcome string)
	SessionsRevoked(ids []string)
	// SessionsChanged: the sessions are live, but what caches hold about
	// them (their authentication time) is out of date.
	SessionsChanged(ids []string)
	APIKeysRevoked(ids []string)
	// UserChanged: the user's roles, status or existence changed, so
	// anything cached about them must go.
	UserChanged(userID string)
}

// Deps are the Service's collaborators.
type Deps struct {
	Store    Store
	Hasher   Hasher
	Policy   password.Policy
	Issuer   *token.Issuer
	Verifier *token.Verifier
	Clock    func() time.Time
	Logger   *slog.Logger
	Events   Events
	APIKeys  *apikey.Verifier
	// Sessions, when set, answers session lookups of token-authenticated
	// requests for a few seconds; whoever owns it must invalidate it on
	// every revocation (see Events).
	Sessions *SessionCache
	// EmailKey keys the hashes of mailed tokens and codes:
	// crypt.DeriveKey(master, EmailKeyPurpose). Every instance needs the
	// same. Without one, a random key is drawn (tokens then die with the
	// process: for tests only).
	EmailKey []byte
	// Mail renders mails; nil: the embedded templates.
	Mail MailRenderer
	// MailQueued, when set, is called after a transaction that queued mail
	// commits, so that a sender can deliver it at once. It must not block.
	MailQueued func()
	// Background runs the work that mailed requests do off the request
	// path; nil: a goroutine. Tests run it in place.
	Background func(func())
	// Sealer seals TOTP secrets: the master key's, as for signing keys.
	// Without one, a random key is drawn (for tests only).
	Sealer *crypt.Sealer
	// RecoveryKey keys the hashes of recovery codes:
	// crypt.DeriveKey(master, RecoveryKeyPurpose). Without one, a random
	// key is drawn (for tests only).
	RecoveryKey []byte
}

// New returns a Service.
func New(cfg Config, d Deps) *Service {
	if d.Clock == nil {
		d.Clock = time.Now
	}
	if d.Events == nil {
		d.Events = noEvents{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.EmailKey == nil {
		d.EmailKey = randomKey()
	}
	if d.Mail == nil {
		r, err := mail.NewRenderer("")
		if err != nil {
			panic("auth: the embedded mail templates: " + err.Error())
		}
		d.Mail = r
	}
	if d.Background == nil {
		d.Background = func(f func()) { go f() }
	}
	if cfg.Email.Product == "" {
		cfg.Email.Product = "latchkey"
	}
	if cfg.MFA.Issuer == "" {
		cfg.MFA.Issuer = cfg.Email.Product
	}
	if d.Sealer == nil {
		sealer, err := crypt.NewSealer(randomKey())
		if err != nil {
			panic("auth: " + err.Error())
		}
		d.Sealer = sealer
	}
	if d.RecoveryKey == nil {
		d.RecoveryKey = randomKey()
	}
	s := &Service{store: d.Store, hasher: d.Hasher, policy: d.Policy, issuer: d.Issuer, verifier: d.Verifier,
		cfg: cfg, now: d.Clock, log: d.Logger, events: d.Events, keys: d.APIKeys,
		tokenCache: token.NewCache(d.Verifier, d.Clock, 0), sessions: d.Sessions,
		email: cfg.Email, emailHash: emailHasher{key: d.EmailKey}, mail: d.Mail, nudge: d.MailQueued,
		bgRun: d.Background, bgSlots: make(chan struct{}, maxBackground),
		mfa: cfg.MFA, sealer: d.Sealer, recoveryKey: d.RecoveryKey}
	var err error
	if s.passkeys, err = newRelyingParty(cfg.Passkeys); err != nil {
		// internal/config checks the same settings before anything starts.
		panic("auth: the passkey relying party: " + err.Error())
	}
	return s
}

// Config returns the lifetimes the service runs with.
func (s *Service) Config() Config { return s.cfg }

// Meta is what a request says about its client, for sessions and the audit log.
type Meta struct {
	IP        string
	UserAgent string
}

// Tokens is a token response: an access token, a refresh token and the
// session and user they belong to.
type Tokens struct {
	AccessToken      latchkey.Secret
	AccessExpiresAt  time.Time
	RefreshToken     latchkey.Secret
	RefreshExpiresAt time.Time
	Session          *latchkey.Session
	User             *latchkey.User
	// Challenge, when set, means the sign-in needs a second factor first:
	// no session was started, and nothing but User is set besides it.
	Challenge *MFAChallenge
}

func (s *Service) audit(ctx context.Context, tx latchkey.Tx, typ, outcome, reason, userID, sessionID string, m Meta) error {
	return tx.AppendAudit(ctx, &latchkey.AuditEvent{
		ID: latchkey.NewID(s.now()), Time: s.now().UTC(), Type: typ, UserID: userID, SessionID: sessionID,
		IP: m.IP, UserAgent: truncate(m.UserAgent, 512), Outcome: outcome, Reason: reason,
	})
}

// Audit records an event outside any other change (e.g. a refused request).
func (s *Service) Audit(ctx context.Context, e latchkey.AuditEvent) error {
	e.ID = latchkey.NewID(s.now())
	e.Time = s.now().UTC()
	e.UserAgent = truncate(e.UserAgent, 512)
	return s.store.AppendAudit(ctx, &e)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

type noEvents struct{}

func (noEvents) Login(string)             {}
func (noEvents) TokensIssued(string)      {}
func (noEvents) Refresh(string)           {}
func (noEvents) SessionsRevoked([]string) {}
func (noEvents) SessionsChanged([]string) {}
func (noEvents) APIKeysRevoked([]string)  {}
func (noEvents) UserChanged(string)       {}
