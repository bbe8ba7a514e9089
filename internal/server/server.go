// Package server is latchkey's HTTP layer: routes, middleware, request
// decoding and the mapping of errors to problem documents. Use cases live
// in internal/auth; the server only translates HTTP to them and back.
package server

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/config"
	"github.com/latchkey/latchkey/internal/token"
)

// Deps are everything the HTTP layer needs. NewServer takes them all; the
// server reaches nothing through globals.
type Deps struct {
	Config  *config.Config
	Store   latchkey.Store
	Auth    *auth.Service
	Keys    *token.KeyManager
	Metrics *Metrics
	Logger  *slog.Logger
	Clock   func() time.Time
	// Ready reports extra readiness problems (e.g. Redis down); nil if none.
	Ready func(ctx context.Context) error
}

// Server is latchkey's http.Handler.
type Server struct {
	cfg     *config.Config
	store   latchkey.Store
	auth    *auth.Service
	keys    *token.KeyManager
	metrics *Metrics
	log     *slog.Logger
	clock   func() time.Time
	ready   func(ctx context.Context) error
	handler http.Handler
}

// NewServer wires the routes and middleware.
func NewServer(d Deps) *Server {
	if d.Clock == nil {
		d.Clock = time.Now
	}
	if d.Metrics == nil {
		d.Metrics = NewMetrics()
	}
	s := &Server{cfg: d.Config, store: d.Store, auth: d.Auth, keys: d.Keys, metrics: d.Metrics,
		log: d.Logger, clock: d.Clock, ready: d.Ready}
	mux := http.NewServeMux()
	s.routes(mux)
	var h http.Handler = s.withProblemFallback(mux)
	h = s.accessLog(h)
	h = s.securityHeaders(h)
	h = withRequestID(h)
	s.handler = s.recoverer(h)
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// clientIP is the address a request came from, for audit and limits.
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) isHTTPS(r *http.Request) bool { return r.TLS != nil }

func (s *Server) meta(r *http.Request) auth.Meta {
	return auth.Meta{IP: s.clientIP(r), UserAgent: r.UserAgent()}
}
