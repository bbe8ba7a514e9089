package server

import (
	"net/http"

	"github.com/latchkey/latchkey/internal/web"
)

// router is what routes registers on: an *http.ServeMux, or a recorder in
// the test that checks every route is in the OpenAPI document.
type router interface {
	Handle(pattern string, handler http.Handler)
}

// routes lists every route latchkey serves, in one place.
func (s *Server) routes(mux router) {
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

	// Administration: roles, users, audit log, signing keys (role admin).
	mux.Handle("GET /v1/admin/users", s.admin(s.handleAdminListUsers()))
	mux.Handle("GET /v1/admin/users/{id}", s.admin(s.handleAdminGetUser()))
	mux.Handle("PATCH /v1/admin/users/{id}", s.admin(s.handleAdminUpdateUser()))
	mux.Handle("DELETE /v1/admin/users/{id}", s.admin(s.handleAdminDeleteUser()))
	mux.Handle("GET /v1/admin/users/{id}/sessions", s.admin(s.handleAdminUserSessions()))
	mux.Handle("DELETE /v1/admin/users/{id}/sessions", s.admin(s.handleAdminRevokeUserSessions()))
	mux.Handle("GET /v1/admin/audit", s.admin(s.handleAdminAudit()))
	mux.Handle("GET /v1/admin/keys", s.admin(s.handleAdminListKeys()))
	mux.Handle("POST /v1/admin/keys/rotate", s.admin(s.handleAdminRotateKeys()))

	// Social login (OAuth 2.0 / OpenID Connect).
	mux.Handle("GET /v1/oauth/{provider}/authorize", s.handleOAuthAuthorize())
	mux.Handle("GET /v1/oauth/{provider}/callback", s.handleOAuthCallback())
	mux.Handle("POST /v1/oauth/token", s.handleOAuthToken())
	mux.Handle("DELETE /v1/me/identities/{id}", s.requireUser(s.handleUnlinkIdentity()))

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
