package server

import (
	"context"
	_ "embed"
	"net"
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
)

//go:embed openapi.yaml
var openapiYAML []byte

func (s *Server) handleJWKS() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		// Short enough that a rotation's next key is in every cache well
		// before it signs (it is published an access-token lifetime ahead).
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("Access-Control-Allow-Origin", "*")
		_, _ = w.Write(s.keys.Keyring().JWKS())
	})
}

func (s *Server) handleOpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(openapiYAML)
	})
}

func (s *Server) handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// handleReadyz reports whether this instance can serve: the database
// answers, and the shared services (Redis) are healthy. It lists each one,
// healthy or not.
func (s *Server) handleReadyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	})
}

// handleMetrics serves Prometheus metrics to the networks in
// --metrics-allow only (loopback by default): metrics describe the
// deployment and are not for the public.
func (s *Server) handleMetrics() http.Handler {
	var allowed []*net.IPNet
	for _, c := range s.cfg.MetricsAllow {
		if _, n, err := net.ParseCIDR(c); err == nil {
			allowed = append(allowed, n)
		}
	}
	inner := s.metrics.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := net.ParseIP(s.clientIP(r))
		for _, n := range allowed {
			if ip != nil && n.Contains(ip) {
				inner.ServeHTTP(w, r)
				return
			}
		}
		s.writeProblem(w, r, latchkey.Errorf(latchkey.ENotFound, "No such endpoint."))
	})
}
