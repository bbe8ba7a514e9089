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
	mux.Handle("PATCH /v1/me", s.requireUser(s.requireScopeFor(ScopeProfileWrite, s.handleUpdateMe())))
	mux.Handle("POST /v1/me/password", s.requireUser(s.sessionOnly(s.handleChangePassword())))
	mux.Handle("GET /v1/sessions", s.requireUser(s.sessionOnly(s.handleListSessions())))
	mux.Handle("DELETE /v1/sessions/{id}", s.requireUser(s.sessionOnly(s.handleRevokeSession())))

	// API keys. A key can manage keys only with the apikeys:write scope.
	mux.Handle("POST /v1/api-keys", s.requireUser(s.handleCreateAPIKey()))
	mux.Handle("GET /v1/api-keys", s.requireUser(s.handleListAPIKeys()))
	mux.Handle("DELETE /v1/api-keys/{id}", s.requireUser(s.handleRevokeAPIKey()))

	// Protecting other services: forward auth for reverse proxies (any
	// method: nginx and Envoy send the original one) and RFC 7662
	// introspection for resource servers.
	mux.Handle("/v1/verify", s.handleVerify())
	mux.Handle("/v1/verify/", s.handleVerify()) // Envoy ext_authz appends the original path
	mux.Handle("POST /v1/introspect", s.requireUser(s.handleIntrospect()))
	mux.Handle("GET /.well-known/identity-jwks.json", s.handleIdentityJWKS())

	// Public documents and operations.
	mux.Handle("GET /.well-known/jwks.json", s.handleJWKS())
	mux.Handle("GET /openapi.yaml", s.handleOpenAPI())
	mux.Handle("GET /healthz", s.handleHealthz())
	mux.Handle("GET /readyz", s.handleReadyz())
	mux.Handle("GET /metrics", s.handleMetrics())
}
