package server

import (
	"net/http"

	"github.com/latchkey/latchkey/internal/web"
)

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

	// Browser sessions: hosted login and account pages (cookie + CSRF).
	mux.Handle("GET /login", s.handleLoginPage())
	mux.Handle("POST /login", s.handleLoginForm())
	mux.Handle("POST /logout", s.handleLogoutForm())
	mux.Handle("GET /account", s.webPage(s.handleAccountPage()))
	mux.Handle("POST /account/password", s.webPage(s.handleChangePasswordForm()))
	mux.Handle("POST /account/sessions/{id}/revoke", s.webPage(s.handleRevokeSessionForm()))
	mux.Handle("POST /account/sessions/revoke-others", s.webPage(s.handleRevokeOthersForm()))
	mux.Handle("POST /account/api-keys", s.webPage(s.handleCreateKeyForm()))
	mux.Handle("POST /account/api-keys/{id}/revoke", s.webPage(s.handleRevokeKeyForm()))
	mux.Handle("GET "+web.StylesheetPath, web.Static())

	// Public documents and operations.
	mux.Handle("GET /.well-known/jwks.json", s.handleJWKS())
	mux.Handle("GET /openapi.yaml", s.handleOpenAPI())
	mux.Handle("GET /healthz", s.handleHealthz())
	mux.Handle("GET /readyz", s.handleReadyz())
	mux.Handle("GET /metrics", s.handleMetrics())
}
