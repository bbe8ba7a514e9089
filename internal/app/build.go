package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/apikey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/config"
	"github.com/latchkey/latchkey/internal/crypt"
	"github.com/latchkey/latchkey/internal/device"
	"github.com/latchkey/latchkey/internal/password"
	"github.com/latchkey/latchkey/internal/server"
	"github.com/latchkey/latchkey/internal/store"
	"github.com/latchkey/latchkey/internal/token"
)

// components are the long-lived parts every command builds from a Config.
type components struct {
	cfg     *config.Config
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
}

func (c *components) Close() error {
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

// build opens the database, applies migrations, loads the master key and
// the signing keys, and assembles the use cases.
func build(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*components, error) {
	clock := time.Now
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("invalid --data-dir: %w", err)
	}
	st, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return nil, err
	}
	c := &components{cfg: cfg, log: logger, store: st, clock: clock, metrics: server.NewMetrics()}
	if err := c.init(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return c, nil
}

func (c *components) init(ctx context.Context) error {
	cfg := c.cfg
	if err := c.store.Migrate(ctx); err != nil {
		return fmt.Errorf("migrating the database (%s): %w", store.Redact(cfg.Database), err)
	}
	master, err := crypt.LoadOrCreateKeyFile(filepath.Join(cfg.DataDir, "master.key"))
	if err != nil {
		return fmt.Errorf("master key: %w", err)
	}
	if c.sealer, err = crypt.NewSealer(master); err != nil {
		return fmt.Errorf("master key: %w", err)
	}
	if c.devices, err = device.New(crypt.DeriveKey(master, device.KeyPurpose), c.clock, device.DefaultTTL); err != nil {
		return fmt.Errorf("device cookies: %w", err)
	}
	c.keys = token.NewKeyManager(c.store, c.sealer, cfg.SigningAlg, cfg.AccessTokenTTL, c.clock, c.log)
	if err := c.keys.Init(ctx); err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	params := password.Params{Memory: uint32(cfg.HashMemoryKiB), Iterations: uint32(cfg.HashIterations), Parallelism: 1}
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
	policy := password.DefaultPolicy()
	policy.MinLength = cfg.PasswordMinLength
	c.auth = auth.New(auth.Config{
		AccessTokenTTL: cfg.AccessTokenTTL, RefreshTokenTTL: cfg.RefreshTokenTTL,
		SessionIdleTimeout: cfg.SessionIdleTimeout, RefreshReuseGrace: cfg.RefreshReuseGrace,
	}, auth.Deps{
		Store:    c.store,
		Hasher:   password.NewHasher(params, runtime.NumCPU(), 10*time.Second),
		Policy:   policy,
		Issuer:   token.NewIssuer(c.keys.Keyring, cfg.Issuer, cfg.Audience, cfg.AccessTokenTTL, c.clock),
		Verifier: token.NewVerifier(c.keys.Keyring, cfg.Issuer, cfg.Audience, 0, c.clock), // no leeway: exp is exact
		Clock:    c.clock,
		Logger:   c.log,
		Events:   events{metrics: c.metrics, rev: c.rev},
		APIKeys:  c.apiKeys,
		Sessions: sessions,
	})
	return c.buildLimits()
}

// withComponents loads the shared settings from args, builds the
// components, runs fn with them and closes them: the shape of every
// administration command.
func withComponents(ctx context.Context, name string, args []string, env Env, fn func(c *components) error) error {
	cfg, err := loadConfig(name, args, env)
	if err != nil {
		return err
	}
	c, err := build(ctx, cfg, newLogger(cfg, env.Stderr))
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(c)
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

// ready is /readyz's check of the shared services.
func (c *components) ready(ctx context.Context) error {
	if err := c.limits.ready(ctx); err != nil {
		return err
	}
	return c.rev.ready(ctx)
}
