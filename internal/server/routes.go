package server

import "net/http"

// routes lists every route latchkey serves, in one place.
func (s *Server) routes(mux *http.ServeMux) {
	// Accounts and tokens.
	mux.Handle("POST /v1/auth/signup", s.handleSignup())
	mux.Handle("POST /v1/auth/login", s.handleLogin())
	mux.Handle("POST /v1/auth/refresh", s.handleRefresh())
	mux.Handle("POST /v1/auth/logout", s.requireUser(s.handleLogout()))

	// The caller.
	mux.Handle("GET /v1/me", s.requireUser(s.handleMe()))
	mux.Handle("PATCH /v1/me", s.requireUser(s.handleUpdateMe()))
	mux.Handle("POST /v1/me/password", s.requireUser(s.handleChangePassword()))
	mux.Handle("GET /v1/sessions", s.requireUser(s.handleListSessions()))
	mux.Handle("DELETE /v1/sessions/{id}", s.requireUser(s.handleRevokeSession()))

	// Social login (OAuth 2.0 / OpenID Connect).
	mux.Handle("GET /v1/oauth/{provider}/authorize", s.handleOAuthAuthorize())
	mux.Handle("GET /v1/oauth/{provider}/callback", s.handleOAuthCallback())
	mux.Handle("POST /v1/oauth/token", s.handleOAuthToken())
	mux.Handle("DELETE /v1/me/identities/{id}", s.requireUser(s.handleUnlinkIdentity()))

	// Public documents and operations.
	mux.Handle("GET /.well-known/jwks.json", s.handleJWKS())
	mux.Handle("GET /openapi.yaml", s.handleOpenAPI())
	mux.Handle("GET /healthz", s.handleHealthz())
	mux.Handle("GET /readyz", s.handleReadyz())
	mux.Handle("GET /metrics", s.handleMetrics())
}
