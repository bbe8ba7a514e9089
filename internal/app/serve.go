package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/clientip"
	"github.com/latchkey/latchkey/internal/config"
	"github.com/latchkey/latchkey/internal/ratelimit"
	"github.com/latchkey/latchkey/internal/server"
)

// HTTP server limits: oversized headers are refused with 431. The timeouts
// that stop slow clients from holding connections (slowloris) are settings
// (--http-read-header-timeout and friends; defaults 5s, 15s, 30s, 60s).
const (
	maxHeaderBytes  = 64 << 10
	shutdownTimeout = 20 * time.Second
)

func serve(ctx context.Context, args []string, env Env) error {
	cfg, err := loadConfig("serve", args, env)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, env.Stderr)
	redisLogger.to.Store(logger)
	// The OpenID provider's protocol library (zitadel/oidc op) logs refused
	// requests through slog's default logger: make it latchkey's, so those
	// lines carry the request id and go where every other line goes.
	slog.SetDefault(logger)
	// Everything that can be checked without touching the data directory
	// or the database is checked first, so that a mistake leaves nothing
	// behind.
	social, err := loadSocialLogin(cfg, env.Environ)
	if err != nil {
		return err
	}
	web, err := loadHTTPSettings(cfg)
	if err != nil {
		return err
	}
	mailer, err := loadMail(cfg)
	if err != nil {
		return err
	}
	if err := checkRedis(ctx, cfg, logger); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("invalid --addr: %w", err)
	}
	defer ln.Close()
	adoptListenAddress(cfg, ln.Addr().String())

	c, err := build(ctx, cfg, logger, env.hooks, mailer)
	if err != nil {
		return err
	}
	defer c.Close()
	// Start-up leaves tens of MiB of garbage (the hasher's calibration
	// hash alone is 19 MiB, the blocklist is built from a larger list):
	// give it back to the system now rather than over minutes.
	debug.FreeOSMemory()

	handler := c.httpHandler(ctx, web, social)
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.HTTPReadHeaderTimeout,
		ReadTimeout:       cfg.HTTPReadTimeout,
		WriteTimeout:      cfg.HTTPWriteTimeout,
		IdleTimeout:       cfg.HTTPIdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		// net/http's own complaints (TLS handshake failures from scanners,
		// malformed requests) go to the structured log, at debug level.
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	if cfg.TLSCert != "" {
		srv.TLSConfig = tlsConfig()
	}

	stopBackground, err := c.startBackground(ctx, logger)
	if err != nil {
		return err
	}
	defer stopBackground()

	errc := make(chan error, 1)
	go func() {
		if cfg.TLSCert != "" {
			errc <- srv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	mailer.log(cfg, logger)
	if rpID, origins, _ := cfg.WebAuthn(); rpID != "" {
		logger.Info("passkeys on", "rp_id", rpID, "origins", origins)
	} else {
		logger.Info("passkeys off: they need --issuer or --public-url on a domain over https (or localhost), or --webauthn-rp-id")
	}
	logger.Info("latchkey started", "url", cfg.Issuer, "database", redactedDatabase(cfg))
	fmt.Fprintf(env.Stdout, "latchkey listening on %s\n", listenURL(cfg, ln.Addr().String()))

	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serving: %w", err)
		}
		return nil
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// httpSettings are the HTTP layer's settings that are read from files or
// parsed before the server starts.
type httpSettings struct {
	ips      *clientip.Resolver
	identity *server.IdentitySigner
}

func loadHTTPSettings(cfg *config.Config) (httpSettings, error) {
	var h httpSettings
	var err error
	if h.ips, err = clientip.NewResolver(cfg.TrustedProxies); err != nil {
		return h, usageError{"invalid " + err.Error()}
	}
	if cfg.IdentityHeaderKey != "" {
		if h.identity, err = server.LoadIdentityKey(cfg.IdentityHeaderKey); err != nil {
			return h, usageError{"invalid --identity-header-key: " + err.Error()}
		}
	}
	return h, nil
}

// httpHandler builds latchkey's HTTP handler from the components: the one
// place that hands them all to the server. social may be nil (no social
// login).
func (c *components) httpHandler(ctx context.Context, web httpSettings, social *socialLogin) http.Handler {
	cfg := c.cfg
	d := server.Deps{
		Config: cfg, Store: c.store, Auth: c.auth, Keys: c.keys, Metrics: c.metrics, Logger: c.log, Clock: c.clock,
		IPs: web.ips, Limits: c.limits.store, Rules: ratelimit.Defaults().Scaled(c.hooks.scale()), Ready: c.ready,
		Sealer: c.sealer, Identity: web.identity, Devices: c.devices, Provider: c.provider,
	}
	if social != nil {
		d.OAuth, d.Redirects = social.registry(ctx, cfg, c.log), social.redirects
	}
	return server.NewServer(d)
}

// adoptListenAddress fills a defaulted issuer with the address actually
// bound (so --addr 127.0.0.1:0 gets a usable issuer), and so a public URL
// that defaulted to it.
func adoptListenAddress(cfg *config.Config, bound string) {
	for _, scheme := range []string{"http://", "https://"} {
		if cfg.Issuer == scheme+cfg.Addr {
			if cfg.PublicURL == cfg.Issuer {
				cfg.PublicURL = scheme + bound
			}
			cfg.Issuer = scheme + bound
		}
	}
	cfg.Addr = bound
}

func listenURL(cfg *config.Config, bound string) string {
	if cfg.TLSCert != "" {
		return "https://" + bound
	}
	return "http://" + bound
}

func redactedDatabase(cfg *config.Config) string {
	if strings.Contains(cfg.Database, "://") && !strings.HasPrefix(cfg.Database, "sqlite://") {
		return strings.SplitN(cfg.Database, "://", 2)[0] + "://…"
	}
	return cfg.Database
}

// tlsConfig allows TLS 1.2 and 1.3 only, with AEAD suites and forward
// secrecy (Go's TLS 1.3 suites are fixed and all modern).
func tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
}
