package server

import (
	"context"
	_ "embed"
	"net"
	"net/http"
	"time"

	"github.com/latchkey/latchkey/internal/auth"
)

//go:embed openapi.yaml
var openapiYAML []byte

func (s *Server) handleJWKS() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		// Short enough that a rotation's next key is in every cache well
		// before it signs (it is published an access-token lifetime ahead).
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("Access-Control-Allow-Origin", "*")
		_, _ = w.Write(s.keys.Keyring().JWKS())
		return nil
	}
}

func (s *Server) handleOpenAPI() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(openapiYAML)
		return nil
	}
}

func (s *Server) handleHealthz() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return nil
	}
}

// handleReadyz reports whether this instance can serve: the database
// answers, and the shared services (Redis) are healthy. It lists each one,
// healthy or not.
func (s *Server) handleReadyz() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		checks := map[string]string{"database": "ok"}
		status := http.StatusOK
		if err := s.store.Ping(ctx); err != nil {
			s.log.WarnContext(ctx, "readiness: database", "err", err)
			checks["database"], status = "unavailable", http.StatusServiceUnavailable
		}
		if s.ready != nil {
			more, ok := s.ready(ctx)
			for name, state := range more {
				checks[name] = state
			}
			if !ok {
				status = http.StatusServiceUnavailable
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, status, map[string]any{"status": map[bool]string{true: "ok", false: "unavailable"}[status == http.StatusOK], "checks": checks})
		return nil
	}
}

// handleMetrics serves Prometheus metrics to the networks in
// --metrics-allow only (loopback by default): metrics describe the
// deployment and are not for the public.
func (s *Server) handleMetrics() handler {
	var allowed []*net.IPNet
	for _, c := range s.cfg.MetricsAllow {
		if _, n, err := net.ParseCIDR(c); err == nil {
			allowed = append(allowed, n)
		}
	}
	inner := s.metrics.Handler()
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		ip := net.ParseIP(s.clientIP(r))
		for _, n := range allowed {
			if ip != nil && n.Contains(ip) {
				inner.ServeHTTP(w, r)
				return nil
			}
		}
		return errNoSuchEndpoint
	}
}
