// Package server is latchkey's HTTP layer: routes, middleware, request
// decoding and the mapping of errors to problem documents. Use cases live
// in internal/auth; the server only translates HTTP to them and back.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/clientip"
	"github.com/latchkey/latchkey/internal/config"
	"github.com/latchkey/latchkey/internal/device"
	"github.com/latchkey/latchkey/internal/oauth"
	"github.com/latchkey/latchkey/internal/provider"
	"github.com/latchkey/latchkey/internal/ratelimit"
	"github.com/latchkey/latchkey/internal/redirect"
	"github.com/latchkey/latchkey/internal/token"
	"github.com/latchkey/latchkey/internal/web"
)

// Deps are everything the HTTP layer needs. NewServer takes them all; the
// server reaches nothing through globals.
type Deps struct {
	Config *config.Config
	// Store is the database, which the server only asks whether it answers
	// (the use cases in Auth and Keys do the rest).
	Store   Pinger
	Auth    *auth.Service
	Keys    *token.KeyManager
	Metrics *Metrics
	Logger  *slog.Logger
	Clock   func() time.Time
	// Ready reports the shared services besides the database (Redis), by
	// name, each as "ok" or what is wrong; ok is false if one is wrong.
	// /readyz lists every one, healthy or not.
	Ready func(ctx context.Context) (checks map[string]string, ok bool)
	// IPs tells the client address, believing forwarded headers only from
	// trusted proxies.
	IPs *clientip.Resolver
	// Limits is the rate limiter and failure back-off; nil turns them off.
	Limits ratelimit.Store
	Rules  ratelimit.Rules
	// Social login: the providers, the sealer of the flow cookie (AEAD under
	// the master key) and the redirect allow-list. OAuth nil serves no provider.
	OAuth     *oauth.Registry
	Sealer    oauth.Sealer
	Redirects *redirect.Allowlist
	// Identity signs the X-Auth-Identity header of /v1/verify; nil: none.
	Identity *IdentitySigner
	// Devices signs the device cookies that keep a known device out of an
	// account's sign-in back-off; nil: every client shares the account's.
	Devices *device.Cookies
	// Clients are the OpenID provider's registered clients; nil: the
	// server is no provider.
	Clients *provider.Clients
	// Provider is latchkey as an OpenID provider; nil serves none of its
	// endpoints.
	Provider *provider.Provider
}

// Pinger reports whether a dependency answers (latchkey.Store does).
type Pinger interface {
	Ping(ctx context.Context) error
}

// Server is latchkey's http.Handler.
type Server struct {
	cfg     *config.Config
	store   Pinger
	auth    *auth.Service
	keys    *token.KeyManager
	metrics *Metrics
	log     *slog.Logger
	clock   func() time.Time
	ready   func(ctx context.Context) (map[string]string, bool)
	ips     *clientip.Resolver
	limits  ratelimit.Store
	rules   ratelimit.Rules
	csrf    *http.CrossOriginProtection
	handler http.Handler

	oauth     *oauth.Registry
	sealer    oauth.Sealer
	redirects *redirect.Allowlist
	// selfRedirects allows latchkey's own origin as a social-login target.
	selfRedirects *redirect.Allowlist
	// Browser sessions.
	pages         *web.Pages
	pageRedirects *web.Redirects
	providers     []string
	corsOrigins   map[string]bool
	identity      *IdentitySigner
	devices       *device.Cookies
	clients       *provider.Clients
	// The OpenID provider and op's handler.
	provider        *provider.Provider
	providerHandler http.Handler
}

// NewServer wires the routes and middleware.
func NewServer(d Deps) *Server {
	if d.Clock == nil {
		d.Clock = time.Now
	}
	if d.Metrics == nil {
		d.Metrics = NewMetrics()
	}
	if d.IPs == nil {
		d.IPs, _ = clientip.NewResolver(nil)
	}
	s := &Server{cfg: d.Config, store: d.Store, auth: d.Auth, keys: d.Keys, metrics: d.Metrics,
		log: d.Logger, clock: d.Clock, ready: d.Ready, ips: d.IPs, limits: d.Limits, rules: d.Rules}
	s.oauth, s.sealer, s.redirects = d.OAuth, d.Sealer, d.Redirects
	s.selfRedirects, _ = redirect.NewAllowlist([]string{d.Config.Issuer + "/"}) // the issuer was validated by config
	s.identity, s.devices = d.Identity, d.Devices
	s.clients = d.Clients
	if d.Provider != nil {
		s.provider, s.providerHandler = d.Provider, d.Provider.Handler(s.providerErrorPage)
		if s.clients == nil {
			s.clients = d.Provider.Clients
		}
	}
	s.csrf = http.NewCrossOriginProtection()
	for _, o := range d.Config.CORSOrigins {
		_ = s.csrf.AddTrustedOrigin(o) // validated by config
	}
	s.initWeb(d)
	mux := http.NewServeMux()
	s.routes(mux)
	s.handler = s.middleware(s.cors(s.withProblemFallback(mux)))
	return s
}

// middleware wraps the routes in what every request passes through. Every
// request gets an id, the security headers and an access-log line with a
// metric, even when a handler panics: the recoverer sits inside them and
// answers 500.
func (s *Server) middleware(h http.Handler) http.Handler {
	h = s.strictFraming(h)
	h = s.recoverer(h)
	h = s.accessLog(h)
	h = s.securityHeaders(h)
	return withRequestID(h)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// clientIP is the address a request came from, for audit and limits.
func (s *Server) clientIP(r *http.Request) string { return s.ips.ClientIP(r).String() }

// isHTTPS reports whether the client reached latchkey over TLS, directly or
// through a trusted proxy.
func (s *Server) isHTTPS(r *http.Request) bool { return s.ips.IsHTTPS(r) }

func (s *Server) meta(r *http.Request) auth.Meta {
	return auth.Meta{IP: s.clientIP(r), UserAgent: r.UserAgent()}
}
