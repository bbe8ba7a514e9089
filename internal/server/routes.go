package server

import (
	"net/http"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/provider"
	"github.com/latchkey/latchkey/internal/ratelimit"
	"github.com/latchkey/latchkey/internal/web"
)

// router is what routes registers on: an *http.ServeMux, or a recorder in
// the tests that check every route's policy and OpenAPI entry.
type router interface {
	Handle(pattern string, handler http.Handler)
}

// The rate-limit rules, by name, for the policy table.
func loginIP(r ratelimit.Rules) ratelimit.Rule          { return r.LoginIP }
func loginAccount(r ratelimit.Rules) ratelimit.Rule     { return r.LoginAccount }
func signupIP(r ratelimit.Rules) ratelimit.Rule         { return r.SignupIP }
func refreshIP(r ratelimit.Rules) ratelimit.Rule        { return r.RefreshIP }
func passwordChangeIP(r ratelimit.Rules) ratelimit.Rule { return r.PasswordChangeIP }
func passwordChangeUser(r ratelimit.Rules) ratelimit.Rule {
	return r.PasswordChangeAccount
}
func oauthCallbackIP(r ratelimit.Rules) ratelimit.Rule { return r.OAuthCallbackIP }
func apiKeyCreateUser(r ratelimit.Rules) ratelimit.Rule {
	return r.APIKeyCreateAccount
}
func codeExchangeIP(r ratelimit.Rules) ratelimit.Rule { return r.CodeExchangeIP }
func emailSendIP(r ratelimit.Rules) ratelimit.Rule    { return r.EmailSendIP }
func emailSendAccount(r ratelimit.Rules) ratelimit.Rule {
	return r.EmailSendAccount
}
func emailConfirmIP(r ratelimit.Rules) ratelimit.Rule { return r.EmailConfirmIP }
func emailChangeUser(r ratelimit.Rules) ratelimit.Rule {
	return r.EmailChangeAccount
}
func mfaVerifyIP(r ratelimit.Rules) ratelimit.Rule      { return r.MFAVerifyIP }
func mfaVerifyAccount(r ratelimit.Rules) ratelimit.Rule { return r.MFAVerifyAccount }
func mfaChangeUser(r ratelimit.Rules) ratelimit.Rule    { return r.MFAChangeAccount }
func passkeyIP(r ratelimit.Rules) ratelimit.Rule        { return r.PasskeyIP }
func passkeyRegisterUser(r ratelimit.Rules) ratelimit.Rule {
	return r.PasskeyRegisterAccount
}
func providerAuthorizeIP(r ratelimit.Rules) ratelimit.Rule { return r.ProviderAuthorizeIP }
func providerTokenIP(r ratelimit.Rules) ratelimit.Rule     { return r.ProviderTokenIP }
func providerUserinfoIP(r ratelimit.Rules) ratelimit.Rule  { return r.ProviderUserinfoIP }
func providerDeviceIP(r ratelimit.Rules) ratelimit.Rule    { return r.ProviderDeviceIP }
func providerDeviceUser(r ratelimit.Rules) ratelimit.Rule  { return r.ProviderDeviceAccount }

// The policies most routes share.
var (
	// public: anyone, no credential looked at.
	public = policy{Public: true}
	// anyCredential: a session (token or cookie) or an unscoped or scoped
	// API key of the user.
	anyCredential = policy{Accepts: credAny}
	// sessionOnly: acting on a sign-in (sessions, logout) needs one; an API
	// key has none.
	sessionOnly = policy{Accepts: credSession}
	// sensitive: changes how the account signs in or mints a lasting
	// credential, so a stolen session must not do it unnoticed: a session
	// that signed in recently, never an API key.
	sensitive = policy{Accepts: credSession, Fresh: true}
	// admin: the admin role, and for an API key the admin scope, which an
	// unscoped key never carries.
	admin = policy{Accepts: credAny, Role: latchkey.RoleAdmin, Scope: auth.ScopeAdmin}
	// adminMinting: an administration that mints a lasting credential (a
	// client secret): for a session, a recent sign-in.
	adminMinting = policy{Accepts: credAny, Role: latchkey.RoleAdmin, Scope: auth.ScopeAdmin, Fresh: true}
	// keyManagement: a session, or an API key holding apikeys:write.
	keyManagement = policy{Accepts: credAny, Scope: auth.ScopeAPIKeysWrite}
	// hostedPage: a hosted page behind the session cookie.
	hostedPage = policy{Accepts: credCookie, Page: true}
	// sensitivePage: a hosted page's sensitive form.
	sensitivePage = policy{Accepts: credCookie, Page: true, Fresh: true}
	// adminPage: a page or form of the admin console, for an administrator
	// signed in with the session cookie.
	adminPage = policy{Accepts: credCookie, Role: latchkey.RoleAdmin, Page: true}
	// adminSensitivePage: a console form that ends someone's access, cannot
	// be undone or grants a role: it needs a recent sign-in.
	adminSensitivePage = policy{Accepts: credCookie, Role: latchkey.RoleAdmin, Page: true, Fresh: true}
	// signInLimits: a sign-in by password is limited per address and per
	// account (with Backoff on the account).
	signInLimits = []limit{ip(loginIP), account(loginAccount)}
	// mailSend: a request that mails the address it names, to anyone:
	// limited per client and to one mail a minute per address.
	mailSend = public.with(ip(emailSendIP), account(emailSendAccount))
	// mailProof: spending a mailed link or code. A code dies after five
	// wrong guesses; the per-client limit slows guessing across accounts.
	mailProof = public.with(ip(emailConfirmIP))
	// mfaProof: a second-factor code at sign-in or step-up, limited like a
	// password (per client, per account, and the account's back-off).
	mfaProof = []limit{ip(mfaVerifyIP), account(mfaVerifyAccount)}
	// mfaChange: adding or removing a second factor or recovery codes.
	mfaChange = user(mfaChangeUser)
)

// with returns a copy of p with more limits.
func (p policy) with(limits ...limit) policy {
	p.Limits = append(append([]limit(nil), p.Limits...), limits...)
	return p
}

// routes lists every route latchkey serves with its policy: who may call
// it, with which credential, how recently signed in, and which limits
// apply. guard enforces the policy before the handler runs.
func (s *Server) routes(mux router) {
	route := func(pattern string, p policy, h handler) { mux.Handle(pattern, s.guard(pattern, p, h)) }

	// Accounts and tokens.
	route("POST /v1/auth/signup", public.with(ip(signupIP), account(emailSendAccount)), s.handleSignup())
	route("POST /v1/auth/login", policy{Public: true, Backoff: true}.with(signInLimits...), s.handleLogin())
	route("POST /v1/auth/refresh", public.with(ip(refreshIP)), s.handleRefresh())
	route("POST /v1/auth/logout", sessionOnly, s.handleLogout())
	route("POST /v1/auth/reauthenticate", sessionOnly.with(ip(passwordChangeIP), user(passwordChangeUser)), s.handleReauthenticate())
	route("POST /v1/auth/reauthenticate/passkey/begin", sessionOnly.with(ip(passwordChangeIP), user(passwordChangeUser)),
		s.handleBeginPasskeyReauthentication())

	// Mailed links and codes: verification, password reset, sign-in by
	// mail, and the "this wasn't me" of an email change.
	route("POST /v1/auth/email-verification", mailSend, s.handleSendVerification())
	route("POST /v1/auth/email-verification/confirm", mailProof, s.handleConfirmEmail())
	route("POST /v1/auth/password/forgot", mailSend, s.handleForgotPassword())
	route("POST /v1/auth/password/reset", mailProof, s.handleResetPassword())
	route("POST /v1/auth/email/start", mailSend, s.handleStartEmailSignIn())
	route("POST /v1/auth/email/verify", mailProof, s.handleVerifyEmailSignIn())
	route("POST /v1/auth/email-change/cancel", mailProof, s.handleCancelEmailChange())

	// Passkeys: username-less sign-in, and the caller's passkeys. Adding
	// or removing one changes how the account signs in.
	route("POST /v1/auth/passkey/begin", public.with(ip(passkeyIP)), s.handleBeginPasskeySignIn())
	route("POST /v1/auth/passkey/finish", public.with(ip(passkeyIP)), s.handleFinishPasskeySignIn())
	route("POST /v1/auth/mfa/passkey/begin", public.with(ip(passkeyIP)), s.handleBeginMFAPasskey())
	route("POST /v1/auth/mfa/passkey/finish", policy{Public: true, Backoff: true}.with(mfaProof...), s.handleFinishMFAPasskey())
	route("POST /v1/me/passkeys/begin", sensitive.with(user(passkeyRegisterUser)), s.handleBeginPasskeyRegistration())
	route("POST /v1/me/passkeys/finish", sensitive, s.handleFinishPasskeyRegistration())
	route("GET /v1/me/passkeys", sessionOnly, s.handleListPasskeys())
	route("PATCH /v1/me/passkeys/{id}", sessionOnly, s.handleRenamePasskey())
	route("DELETE /v1/me/passkeys/{id}", sensitive, s.handleRemovePasskey())

	// The caller.
	route("GET /v1/me", anyCredential, s.handleMe())
	route("PATCH /v1/me", policy{Accepts: credAny, Scope: auth.ScopeProfileWrite}, s.handleUpdateMe())
	route("POST /v1/me/password", sensitive.with(ip(passwordChangeIP), user(passwordChangeUser)), s.handleChangePassword())
	route("POST /v1/me/email", sensitive.with(user(emailChangeUser)), s.handleRequestEmailChange())
	route("POST /v1/me/email/confirm", sessionOnly.with(ip(emailConfirmIP)), s.handleConfirmEmailChange())
	route("GET /v1/sessions", sessionOnly, s.handleListSessions())
	route("DELETE /v1/sessions/{id}", sessionOnly, s.handleRevokeSession())

	// API keys: creating one mints a lasting credential, so a session must
	// be fresh; a key with apikeys:write was given that power explicitly.
	route("POST /v1/api-keys", policy{Accepts: credAny, Scope: auth.ScopeAPIKeysWrite, Fresh: true, Assured: true}.with(user(apiKeyCreateUser)), s.handleCreateAPIKey())
	route("GET /v1/api-keys", keyManagement, s.handleListAPIKeys())
	route("DELETE /v1/api-keys/{id}", keyManagement, s.handleRevokeAPIKey())
	// Binding a key to services narrows it; unbinding widens it: a fresh
	// session, as for creating one.
	route("PUT /v1/api-keys/{id}/audiences", sensitive, s.handleSetAPIKeyAudiences())

	// Administration: users, audit log, signing keys.
	route("GET /v1/admin/users", admin, s.handleAdminListUsers())
	route("GET /v1/admin/users/{id}", admin, s.handleAdminGetUser())
	route("PATCH /v1/admin/users/{id}", admin, s.handleAdminUpdateUser())
	route("DELETE /v1/admin/users/{id}", admin, s.handleAdminDeleteUser())
	route("GET /v1/admin/users/{id}/sessions", admin, s.handleAdminUserSessions())
	route("DELETE /v1/admin/users/{id}/sessions", admin, s.handleAdminRevokeUserSessions())
	route("DELETE /v1/admin/users/{id}/api-keys", admin, s.handleAdminRevokeUserAPIKeys())
	route("POST /v1/admin/users/{id}/email-verification", admin, s.handleAdminResendVerification())
	route("GET /v1/admin/audit", admin, s.handleAdminAudit())
	route("GET /v1/admin/keys", admin, s.handleAdminListKeys())
	route("POST /v1/admin/keys/rotate", admin, s.handleAdminRotateKeys())
	route("GET /v1/admin/stats", admin, s.handleAdminStats())
	route("GET /v1/admin/clients", admin, s.handleAdminListClients())
	route("POST /v1/admin/clients", adminMinting, s.handleAdminCreateClient())
	route("GET /v1/admin/clients/{id}", admin, s.handleAdminGetClient())
	route("PATCH /v1/admin/clients/{id}", admin, s.handleAdminUpdateClient())
	route("DELETE /v1/admin/clients/{id}", admin, s.handleAdminDeleteClient())
	route("POST /v1/admin/clients/{id}/rotate-secret", adminMinting, s.handleAdminRotateClientSecret())
	route("GET /v1/admin/resources", admin, s.handleAdminListResources())
	route("POST /v1/admin/resources", admin, s.handleAdminCreateResource())
	route("DELETE /v1/admin/resources", admin, s.handleAdminDeleteResource())

	// Social login (OAuth 2.0 / OpenID Connect). Unlinking changes how the
	// account signs in.
	route("GET /v1/oauth/{provider}/authorize", public, s.handleOAuthAuthorize())
	route("GET /v1/oauth/{provider}/callback", public.with(ip(oauthCallbackIP)), s.handleOAuthCallback())
	route("POST /v1/oauth/token", public.with(ip(codeExchangeIP)), s.handleOAuthToken())
	route("DELETE /v1/me/identities/{id}", sensitive, s.handleUnlinkIdentity())

	// Second factors: the sign-in's second step (or a session's step-up,
	// whose bearer token the handler checks), the caller's authenticators
	// and recovery codes, an administrator's reset.
	route("POST /v1/auth/mfa/verify", policy{Public: true, Backoff: true,
		Note: "with a session's bearer token instead of mfa_token: a step-up of that session (the handler authenticates it)"}.with(mfaProof...),
		s.handleMFAVerify())
	route("GET /v1/me/mfa", sessionOnly, s.handleListMFA())
	route("POST /v1/me/mfa/totp", sensitive.with(mfaChange), s.handleEnrollTOTP())
	route("POST /v1/me/mfa/totp/{id}/confirm", sessionOnly.with(mfaChange), s.handleConfirmTOTP())
	route("DELETE /v1/me/mfa/totp/{id}", sensitive.with(mfaChange), s.handleRemoveTOTP())
	route("POST /v1/me/mfa/recovery-codes", sensitive.with(mfaChange), s.handleRegenerateRecoveryCodes())
	route("DELETE /v1/admin/users/{id}/mfa", admin, s.handleAdminResetMFA())

	// Browser sessions: hosted login and account pages (cookie + CSRF).
	route("GET /login", policy{Public: true, Page: true}, s.handleLoginPage())
	route("POST /login", policy{Public: true, Page: true, CSRF: true, Backoff: true}.with(signInLimits...), s.handleLoginForm())
	route("POST /logout", policy{Public: true, Page: true, CSRF: true}, s.handleLogoutForm())
	route("GET "+PageLoginMFA, policy{Public: true, Page: true}, s.handleLoginMFAPage())
	route("POST "+PageLoginMFA, policy{Public: true, Page: true, CSRF: true, Backoff: true}.with(mfaProof...), s.handleLoginMFAForm())
	route("POST /account/mfa/totp", sensitivePage.with(mfaChange), s.handleEnrollTOTPForm())
	route("POST /account/mfa/totp/{id}/confirm", hostedPage.with(mfaChange), s.handleConfirmTOTPForm())
	route("POST /account/mfa/totp/{id}/remove", sensitivePage.with(mfaChange), s.handleRemoveTOTPForm())
	route("POST /account/mfa/recovery-codes", sensitivePage.with(mfaChange), s.handleRecoveryCodesForm())
	route("POST /account/mfa/verify", policy{Accepts: credCookie, Page: true, Backoff: true}.with(mfaProof...), s.handleStepUpForm())
	// Pages behind mailed links: GET shows, the page's POST spends the token.
	for _, page := range s.linkPages() {
		show, use := policy{Public: true, Page: true}, policy{Public: true, Page: true, CSRF: true}
		if page.signedIn {
			show, use = hostedPage, hostedPage
		}
		route("GET "+page.path, show, s.handleLinkPage(page))
		route("POST "+page.path, use.with(ip(emailConfirmIP)), s.handleLinkForm(page))
	}
	route("POST /account/email", sensitivePage.with(user(emailChangeUser)), s.handleChangeEmailForm())
	route("GET "+PageEmailSignInStart, policy{Public: true, Page: true}, s.handleEmailSignInPage())
	route("POST "+PageEmailSignInStart, policy{Public: true, Page: true, CSRF: true}.with(ip(emailSendIP), account(emailSendAccount)),
		s.handleEmailSignInForm())
	route("GET "+auth.PageForgotPassword, policy{Public: true, Page: true}, s.handleForgotPage())
	route("POST "+auth.PageForgotPassword, policy{Public: true, Page: true, CSRF: true}.with(ip(emailSendIP), account(emailSendAccount)),
		s.handleForgotForm())
	route("GET /account", hostedPage, s.handleAccountPage())
	route("POST /account/reauthenticate", hostedPage.with(ip(passwordChangeIP), user(passwordChangeUser)), s.handleReauthenticateForm())
	route("POST /account/password", sensitivePage.with(ip(passwordChangeIP), user(passwordChangeUser)), s.handleChangePasswordForm())
	route("POST /account/sessions/{id}/revoke", hostedPage, s.handleRevokeSessionForm())
	route("POST /account/sessions/revoke-others", hostedPage, s.handleRevokeOthersForm())
	route("POST /account/api-keys", policy{Accepts: credCookie, Page: true, Fresh: true, Assured: true}.with(user(apiKeyCreateUser)), s.handleCreateKeyForm())
	route("POST /account/api-keys/{id}/revoke", hostedPage, s.handleRevokeKeyForm())
	route("POST /account/identities/{provider}/link", sensitivePage, s.handleLinkIdentityForm())
	route("POST /account/identities/{id}/unlink", sensitivePage, s.handleUnlinkIdentityForm())
	route("POST /login/passkey", policy{Public: true, Page: true, CSRF: true}.with(ip(passkeyIP)), s.handlePasskeyLoginForm())
	// The second step's script reads its options here: the mfa_token is in an HttpOnly cookie.
	route("POST /login/mfa/passkey/begin", policy{Public: true, CSRF: true}.with(ip(passkeyIP)), s.handleLoginMFAPasskeyBegin())
	route("POST /login/mfa/passkey", policy{Public: true, Page: true, CSRF: true, Backoff: true}.with(mfaProof...), s.handleLoginMFAPasskeyForm())
	route("POST /account/passkeys", sensitivePage, s.handleAddPasskeyForm())
	route("POST /account/passkeys/{id}/remove", sensitivePage, s.handleRemovePasskeyForm())
	route("POST /account/reauthenticate/passkey", hostedPage.with(ip(passwordChangeIP), user(passwordChangeUser)), s.handlePasskeyReauthenticateForm())
	route("GET "+web.StylesheetPath, public, plain(web.Static()))
	route("GET "+web.PasskeyScriptPath, public, plain(web.Static()))

	// The admin console (handlers_console*.go): the admin API's users,
	// audit log and signing keys as pages. Each action on a user is one
	// form (consoleActions); those that end access or cannot be undone are
	// confirmed on a page of their own first.
	route("GET /admin", adminPage, s.handleConsoleActivity())
	route("GET /admin/users", adminPage, s.handleConsoleUsers())
	route("GET /admin/users/{id}", adminPage, s.handleConsoleUser())
	route("GET /admin/users/{id}/confirm", adminPage, s.handleConsoleConfirm())
	for _, a := range consoleActions {
		route("POST /admin/users/{id}/"+a.Name, a.policy(), s.handleConsoleAction(a))
	}
	route("GET /admin/audit", adminPage, s.handleConsoleAudit())
	route("GET /admin/audit/export", adminPage, s.handleConsoleAuditExport())
	// OAuth clients (handlers_console_clients.go): creating one or rotating
	// its secret mints a credential, deleting one ends its access: a fresh
	// sign-in, like the API's adminMinting.
	route("GET /admin/clients", adminPage, s.handleConsoleClients())
	route("POST /admin/clients", adminSensitivePage, s.handleConsoleCreateClient())
	route("GET /admin/clients/{id}", adminPage, s.handleConsoleClient())
	route("GET /admin/clients/{id}/confirm", adminPage, s.handleConsoleClientConfirm())
	route("POST /admin/clients/{id}/rotate-secret", adminSensitivePage, s.handleConsoleRotateClientSecret())
	route("POST /admin/clients/{id}/delete", adminSensitivePage, s.handleConsoleDeleteClient())
	route("POST /admin/resources", adminPage, s.handleConsoleCreateResource())
	route("POST /admin/resources/delete", adminSensitivePage, s.handleConsoleDeleteResource())
	route("GET /admin/keys", adminPage, s.handleConsoleKeys())
	route("POST /admin/keys/rotate", adminPage, s.handleConsoleRotate())
	route("GET /admin/reauthenticate", adminPage, s.handleConsoleReauthPage())
	route("POST /admin/reauthenticate", adminPage.with(ip(passwordChangeIP), user(passwordChangeUser)), s.handleConsoleReauth())

	// latchkey as an OpenID provider. op (zitadel/oidc) serves the protocol
	// endpoints, which authenticate their callers themselves (clients at the
	// token endpoint, access tokens at userinfo); latchkey serves the pages
	// between authorize and op's callback, with the session cookie.
	oidcFlow := policy{Public: true, Page: true}.with(ip(providerAuthorizeIP))
	opAuth := policy{Public: true, Note: "OAuth 2.1 / OpenID Connect (op): the client authenticates itself"}
	route("GET "+provider.PathDiscovery, public, s.handleProvider())
	route("GET "+provider.PathAuthorize, oidcFlow, s.handleProvider())
	route("POST "+provider.PathAuthorize, oidcFlow, s.handleProvider())
	route("GET "+provider.PathCallback, oidcFlow, s.handleProviderCallback())
	route("GET "+provider.PathContinue, oidcFlow, s.handleProviderContinue())
	route("POST "+provider.PathConsent, hostedPage.with(ip(providerAuthorizeIP)), s.handleProviderConsent())
	route("POST "+provider.PathToken, opAuth.with(ip(providerTokenIP)), s.handleProvider())
	route("POST "+provider.PathRevoke, opAuth.with(ip(providerTokenIP)), s.handleProvider())
	route("POST "+provider.PathDeviceAuthorization, opAuth.with(ip(providerTokenIP)), s.handleProvider())
	route("GET "+provider.PathDevice, hostedPage, s.handleDevicePage())
	route("POST "+provider.PathDevice, hostedPage.with(ip(providerDeviceIP), user(providerDeviceUser)), s.handleDeviceForm())
	route("POST /device/approve", hostedPage.with(ip(providerDeviceIP), user(providerDeviceUser)), s.handleDeviceApprove())
	route("GET "+provider.PathUserinfo, opAuth.with(ip(providerUserinfoIP)), s.handleProvider())
	route("POST "+provider.PathUserinfo, opAuth.with(ip(providerUserinfoIP)), s.handleProvider())
	route("GET "+provider.PathEndSession, oidcFlow, s.handleProviderEndSession())
	route("POST "+provider.PathEndSession, oidcFlow, s.handleProviderEndSession())
	route("POST /account/apps/{id}/revoke", hostedPage, s.handleRevokeAppForm())

	// Protecting other services: forward auth for reverse proxies (any
	// method: nginx and Envoy send the original one) and RFC 7662
	// introspection for resource servers.
	forwardAuth := policy{Public: true, Note: "forward auth: checks the credential it is asked about (limits on failed API keys apply)"}
	route("/v1/verify", forwardAuth, s.handleVerify())
	route("/v1/verify/", forwardAuth, s.handleVerify()) // Envoy ext_authz appends the original path
	route("POST /v1/introspect", policy{Accepts: credAPIKey, Scope: auth.ScopeIntrospect}, s.handleIntrospect())
	route("GET /.well-known/identity-jwks.json", public, s.handleIdentityJWKS())

	// Public documents and operations.
	route("GET /.well-known/jwks.json", public, s.handleJWKS())
	route("GET /openapi.yaml", public, s.handleOpenAPI())
	route("GET /healthz", public, s.handleHealthz())
	route("GET /readyz", public, s.handleReadyz())
	route("GET /metrics", policy{Public: true, Note: "only the networks of --metrics-allow (checked by the handler)"}, s.handleMetrics())
}
