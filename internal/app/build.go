package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/apikey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/config"
	"github.com/latchkey/latchkey/internal/crypt"
	"github.com/latchkey/latchkey/internal/device"
	"github.com/latchkey/latchkey/internal/mail"
	"github.com/latchkey/latchkey/internal/password"
	"github.com/latchkey/latchkey/internal/provider"
	"github.com/latchkey/latchkey/internal/server"
	"github.com/latchkey/latchkey/internal/store"
	"github.com/latchkey/latchkey/internal/token"
)

// components are the long-lived parts of a running server.
type components struct {
	cfg     *config.Config
	hooks   TestHooks
	log     *slog.Logger
	store   store.Store
	sealer  *crypt.Sealer
	devices *device.Cookies
	keys    *token.KeyManager
	auth    *auth.Service
	metrics *server.Metrics
	apiKeys *apikey.Verifier
	limits  limits
	rev     *revocations
	clock   func() time.Time
	// mailer renders mails; sender delivers the outbox (Nudge: a mail was
	// just committed).
	mailer *mail.Renderer
	sender *mail.Sender
	// provider is latchkey as an OpenID provider.
	provider *provider.Provider
}

func (c *components) Close() error {
	if c.auth != nil {
		c.auth.Close() // mailed requests still being worked on
	}
	c.limits.close()
	if c.rev != nil && c.rev.client != nil {
		_ = c.rev.client.Close()
	}
	return c.store.Close()
}

// newLogger returns a JSON logger, or a text one when stderr is a terminal
// and no format was chosen. Request ids are added to every record.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	format := cfg.LogFormat
	if format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if format == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(server.RequestIDHandler{Handler: h})
}

// cliLogger is the log of the administration commands: warnings and
// errors only (or fewer, with --log-level error), as text on stderr, so
// that no log line mixes into what a command prints.
func cliLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	level := slog.LevelWarn
	var asked slog.Level
	if asked.UnmarshalText([]byte(cfg.LogLevel)) == nil && asked > level {
		level = asked
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// installation is an opened installation with its master key and signing
// keys loaded.
type installation struct {
	store      store.Store
	master     []byte
	sealer     *crypt.Sealer
	keys       *token.KeyManager
	createdKey bool // this start created the master key
}

// setUp opens the installation for serve and migrate, creating it on the
// very first start: the database schema (migrations), the master key and
// the first signing keys. A failed first start leaves no empty data
// directory behind.
func setUp(ctx context.Context, cfg *config.Config, logger *slog.Logger, clock func() time.Time) (*installation, error) {
	first := newFirstStart(cfg.DataDir)
	st, err := openOrCreate(ctx, cfg)
	if err != nil {
		first.undo()
		return nil, err
	}
	in, err := loadKeys(ctx, cfg, st, logger, clock, true)
	if err != nil {
		st.Close()
		first.undo()
		return nil, err
	}
	return in, nil
}

// loadKeys loads the master key and the signing keys. With create (serve
// and migrate), a database without keys gets its master key and first
// signing keys; otherwise nothing is created.
func loadKeys(ctx context.Context, cfg *config.Config, st store.Store, logger *slog.Logger, clock func() time.Time, create bool) (*installation, error) {
	master, created, err := masterKey(ctx, cfg, st, create)
	if err != nil {
		return nil, err
	}
	sealer, err := crypt.NewSealer(master)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	keys := token.NewKeyManager(st, sealer, cfg.SigningAlg, cfg.AccessTokenTTL, clock, logger)
	if create {
		err = keys.Init(ctx)
	} else {
		err = keys.Reload(ctx)
	}
	if err != nil {
		removeStrayKey(cfg, created, err)
		return nil, wrongMasterKey(cfg, err)
	}
	return &installation{store: st, master: master, sealer: sealer, keys: keys, createdKey: created}, nil
}

// build sets the installation up and assembles the server's use cases.
func build(ctx context.Context, cfg *config.Config, logger *slog.Logger, hooks TestHooks, m mailSetup) (*components, error) {
	clock := time.Now
	in, err := setUp(ctx, cfg, logger, clock)
	if err != nil {
		return nil, err
	}
	c := &components{cfg: cfg, hooks: hooks, log: logger, store: in.store, sealer: in.sealer, keys: in.keys,
		clock: clock, metrics: server.NewMetrics(), mailer: m.renderer}
	c.sender = c.newSender(m)
	if err := c.init(in.master); err != nil {
		in.store.Close()
		return nil, err
	}
	return c, nil
}

func (c *components) init(master []byte) error {
	cfg := c.cfg
	var err error
	if c.devices, err = device.New(crypt.DeriveKey(master, device.KeyPurpose), c.clock, device.DefaultTTL); err != nil {
		return fmt.Errorf("device cookies: %w", err)
	}
	params := hashParams(cfg)
	if params.Memory < password.DefaultParams.Memory || params.Iterations < password.DefaultParams.Iterations {
		c.log.Warn("argon2id parameters are below the OWASP recommendation (m=19456 KiB, t=2); use them for tests only",
			"memory_kib", params.Memory, "iterations", params.Iterations)
	}
	c.apiKeys = apikey.NewVerifier(newCountingKeyStore(c.store, c.metrics.Registry()), c.clock,
		apikey.Options{Toucher: c.store, Logger: c.log})
	sessions := auth.NewSessionCache(cfg.SessionCacheTTL, 0)
	if err := c.buildRevocations(sessions); err != nil {
		return err
	}
	c.auth = auth.New(authConfig(cfg), auth.Deps{
		Store:    c.store,
		Hasher:   password.NewHasher(params, runtime.NumCPU(), 10*time.Second),
		Policy:   passwordPolicy(cfg),
		Issuer:   token.NewIssuer(c.keys.Keyring, cfg.Issuer, cfg.Audience, cfg.AccessTokenTTL, c.clock),
		Verifier: token.NewVerifier(c.keys.Keyring, cfg.Issuer, cfg.Audience, 0, c.clock), // no leeway: exp is exact
		Clock:    c.clock,
		Logger:   c.log,
		Events:   events{metrics: c.metrics, rev: c.rev},
		APIKeys:  c.apiKeys,
		Sessions: sessions,
		EmailKey: crypt.DeriveKey(master, auth.EmailKeyPurpose),
		// TOTP secrets are sealed with the master key, as the signing keys
		// are; recovery codes are hashed under a key derived from it.
		Sealer:      c.sealer,
		RecoveryKey: crypt.DeriveKey(master, auth.RecoveryKeyPurpose),
		Mail:        c.mailer,
		// The sender delivers at once what a committed transaction queued.
		MailQueued: c.sender.Nudge,
	})
	if c.provider, err = provider.New(provider.Config{Issuer: cfg.Issuer, AccessTokenTTL: cfg.AccessTokenTTL,
		GrantTTL: cfg.RefreshTokenTTL, RefreshReuseGrace: cfg.RefreshReuseGrace}, provider.Deps{Store: c.store, Keys: c.keys.Keyring, Clock: c.clock, Logger: c.log,
		APIKeysChanged: events{metrics: c.metrics, rev: c.rev}.APIKeysRevoked}); err != nil {
		return err
	}
	if err := c.buildLimits(); err != nil {
		return err
	}
	c.registerRedisGauge()
	return nil
}

func hashParams(cfg *config.Config) password.Params {
	return password.Params{Memory: uint32(cfg.HashMemoryKiB), Iterations: uint32(cfg.HashIterations), Parallelism: 1}
}

func passwordPolicy(cfg *config.Config) password.Policy {
	policy := password.DefaultPolicy()
	policy.MinLength = cfg.PasswordMinLength
	return policy
}

func authConfig(cfg *config.Config) auth.Config {
	// Checked with the rest of the configuration (and after the listener
	// settled a defaulted issuer's port): an error here cannot happen.
	rpID, origins, _ := cfg.WebAuthn()
	return auth.Config{
		AccessTokenTTL: cfg.AccessTokenTTL, RefreshTokenTTL: cfg.RefreshTokenTTL,
		SessionIdleTimeout: cfg.SessionIdleTimeout, RefreshReuseGrace: cfg.RefreshReuseGrace,
		Email:    auth.EmailConfig{Verification: cfg.EmailVerification, SignIn: cfg.EmailSignIn, PublicURL: cfg.PublicURL},
		MFA:      auth.MFAConfig{Issuer: cfg.MFAIssuer, RequiredRoles: cfg.MFARequiredRoles},
		Passkeys: auth.PasskeyConfig{RPID: rpID, RPName: rpID, Origins: origins},
	}
}

// loadConfig parses a command's flags with the shared settings.
func loadConfig(name string, args []string, env Env) (*config.Config, error) {
	cfg, err := config.Load(name, args, env.Getenv, env.Stderr)
	if err != nil && !config.IsHelp(err) {
		return nil, configError(err)
	}
	return cfg, err
}

// configError is how a bad configuration is printed after "latchkey: ":
// one bad setting as its one line, several under a heading, one indented
// line each, so that every one of them can be fixed in one go.
func configError(err error) usageError {
	msg := err.Error()
	if !strings.Contains(msg, "\n") {
		return usageError{msg}
	}
	return usageError{"invalid configuration:\n  " + strings.ReplaceAll(msg, "\n", "\n  ")}
}

// ready is /readyz's report on Redis (listed whether it is healthy, down
// or not configured) and on the mail outbox.
func (c *components) ready(ctx context.Context) (map[string]string, bool) {
	checks := map[string]string{"mail": c.mailReady(ctx)}
	if c.cfg.Redis == "" {
		checks["redis"] = "not configured"
		return checks, true
	}
	for _, check := range []func(context.Context) error{c.limits.ready, c.rev.ready} {
		if err := check(ctx); err != nil {
			checks["redis"] = err.Error()
			return checks, false
		}
	}
	checks["redis"] = "ok"
	return checks, true
}
