package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/provider"
	"github.com/latchkey/latchkey/internal/web"
)

// The OpenID provider's routes: op (github.com/zitadel/oidc) serves the
// protocol endpoints; latchkey serves the pages between authorize and
// op's callback (sign-in with the session cookie, consent).

// handleProvider hands a request to op, telling it who calls (audit).
func (s *Server) handleProvider() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		if s.provider == nil {
			return errNoSuchEndpoint
		}
		s.providerHandler.ServeHTTP(w, r.WithContext(provider.WithMeta(r.Context(), s.meta(r))))
		return nil
	}
}

// providerErrorPage is how the provider answers an authorization request
// it cannot send back to its client.
func (s *Server) providerErrorPage(w http.ResponseWriter, r *http.Request, status int, message string) {
	if err := s.pages.Error(w, status, web.ErrorView{Title: "Sign-in request refused", Message: message, Back: "/account"}); err != nil {
		s.log.ErrorContext(r.Context(), "rendering an error page", "err", err)
	}
}

// signedIn is the browser's live cookie session, or nil. A cookie that no
// longer works is cleared; a cross-site request is refused.
func (s *Server) signedIn(w http.ResponseWriter, r *http.Request) (*auth.Principal, error) {
	p, found, err := s.cookiePrincipal(r)
	switch {
	case !found:
		return nil, nil
	case latchkey.IsCode(err, latchkey.EForbidden):
		return nil, err
	case latchkey.IsCode(err, latchkey.ETokenRequired):
		s.clearSessionCookie(w)
		return nil, nil
	case err != nil:
		return nil, err
	}
	return p, nil
}

// handleProviderContinue is where op sends the browser with a new
// authorization request: sign in first (the hosted login page, which comes
// back here), then consent for a third-party client, then op's callback.
func (s *Server) handleProviderContinue() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		if s.provider == nil {
			return errNoSuchEndpoint
		}
		who, err := s.signedIn(w, r)
		if err != nil {
			return err
		}
		id := r.URL.Query().Get("id")
		ctx := provider.WithMeta(r.Context(), s.meta(r))
		step, err := s.provider.Continue(ctx, id, who)
		if err != nil {
			return err
		}
		return s.providerStep(w, r, id, who, step)
	}
}

// handleProviderConsent takes the consent page's answer.
func (s *Server) handleProviderConsent() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		form, err := parseForm(w, r)
		if err != nil {
			return err
		}
		var agree bool
		switch form.Get("decision") {
		case "allow":
			agree = true
		case "deny":
		default:
			return latchkey.Errorf(latchkey.EInvalidRequest, "Choose Allow or Deny.")
		}
		id := form.Get("id")
		step, err := s.provider.Consent(provider.WithMeta(r.Context(), s.meta(r)), id, p, agree)
		if err != nil {
			return err
		}
		return s.providerStep(w, r, id, p, step)
	}
}

// providerStep does what the provider decided.
func (s *Server) providerStep(w http.ResponseWriter, r *http.Request, id string, who *auth.Principal, step *provider.Step) error {
	switch {
	case step.Login:
		back := provider.PathContinue + "?" + url.Values{"id": {id}}.Encode()
		s.seeOther(w, r, "/login?"+url.Values{"return_to": {back}}.Encode())
	case step.StepUp:
		return s.providerStepUp(w, r, id, who, step)
	case step.Consent:
		v := web.ConsentView{RequestID: id, ClientName: step.Client.Name, Email: who.User.Email}
		if origin, host := s.provider.RedirectOrigin(r.Context(), id); origin != "" {
			v.FormTargets, v.ClientHost = []string{origin}, host
		}
		for _, sc := range step.Scopes {
			v.Scopes = append(v.Scopes, web.ScopeView{Name: sc, Description: scopeDescription(sc)})
		}
		if err := s.pages.Consent(w, http.StatusOK, v); err != nil {
			s.log.ErrorContext(r.Context(), "rendering the consent page", "err", err)
		}
	default:
		s.seeOther(w, r, step.Redirect)
	}
	return nil
}

// providerStepUp answers a client that asks for a second factor the
// session has not proved: a user with an authenticator app proves it on
// the step-up page, which comes back to the authorization; one with only a
// passkey signs in with it (the login page, which comes back too); one
// with neither cannot, and the client is told so.
func (s *Server) providerStepUp(w http.ResponseWriter, r *http.Request, id string, who *auth.Principal, step *provider.Step) error {
	back := provider.PathContinue + "?" + url.Values{"id": {id}}.Encode()
	hasTOTP, err := s.auth.HasMFA(r.Context(), who.User.ID)
	if err != nil {
		return err
	}
	if hasTOTP {
		v := web.ProviderStepUpView{ClientName: step.Client.Name, Email: who.User.Email, ReturnTo: back}
		v.FormTargets, v.ClientHost = s.providerTargets(r, id)
		if err := s.pages.ProviderStepUp(w, http.StatusOK, v); err != nil {
			s.log.ErrorContext(r.Context(), "rendering the step-up page", "err", err)
		}
		return nil
	}
	hasAny, err := s.auth.HasSecondFactor(r.Context(), who.User.ID)
	if err != nil {
		return err
	}
	if hasAny {
		s.seeOther(w, r, "/login?"+url.Values{"return_to": {back}}.Encode())
		return nil
	}
	to, err := s.provider.Unmet(provider.WithMeta(r.Context(), s.meta(r)), id, who)
	if err != nil {
		return err
	}
	s.seeOther(w, r, to)
	return nil
}

// providerTargets are the form-action origins and the host shown for an
// authorization request's client.
func (s *Server) providerTargets(r *http.Request, id string) ([]string, string) {
	if origin, host := s.provider.RedirectOrigin(r.Context(), id); origin != "" {
		return []string{origin}, host
	}
	return nil, ""
}

// authorizationReturn is return_to when it is an authorization's continuation
// (the provider's step-up page comes back there), else "".
func (s *Server) authorizationReturn(to string) string {
	if s.provider == nil || !strings.HasPrefix(to, provider.PathContinue+"?") {
		return ""
	}
	if safe, ok := s.pageRedirects.Safe(to); ok && safe == to {
		return to
	}
	return ""
}

// scopeDescription says what a scope lets a client do, in words.
func scopeDescription(scope string) string {
	switch scope {
	case provider.ScopeOpenID:
		return "Know who you are (your account's identifier)"
	case provider.ScopeEmail:
		return "See your email address and whether it is confirmed"
	case provider.ScopeProfile:
		return "See your name"
	case provider.ScopeOfflineAccess:
		return "Keep access while you are away (refresh tokens)"
	}
	return "Use the scope " + scope
}

// handleProviderCallback runs op's callback (which makes the code and
// sends it to the client) only for the browser session that completed the
// request.
func (s *Server) handleProviderCallback() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		if s.provider == nil {
			return errNoSuchEndpoint
		}
		who, err := s.signedIn(w, r)
		if err != nil {
			return err
		}
		sessionID := ""
		if who != nil {
			sessionID = who.SessionID
		}
		if err := s.provider.CheckCallback(r.Context(), r.URL.Query().Get("id"), sessionID); err != nil {
			return err
		}
		return s.handleProvider()(w, r, p)
	}
}

// providerFormTargets are the origins a sign-in for an authorization
// request leads on to: the client's.
func (s *Server) providerFormTargets(r *http.Request, returnTo string) []string {
	if s.provider == nil || !strings.HasPrefix(returnTo, provider.PathContinue+"?") {
		return nil
	}
	q, err := url.ParseQuery(strings.TrimPrefix(returnTo, provider.PathContinue+"?"))
	if err != nil {
		return nil
	}
	if origin, _ := s.provider.RedirectOrigin(r.Context(), q.Get("id")); origin != "" {
		return []string{origin}
	}
	return nil
}

// handleRevokeAppForm takes back a client's access from the account page.
func (s *Server) handleRevokeAppForm() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		if s.provider == nil {
			return errNoSuchEndpoint
		}
		if err := s.provider.RevokeConsent(provider.WithMeta(r.Context(), s.meta(r)), p, r.PathValue("id")); err != nil {
			return err
		}
		s.seeOther(w, r, "/account?done=app-revoked")
		return nil
	}
}

// accountApps lists, on the account page, the clients the user agreed to.
func (s *Server) accountApps(r *http.Request, userID string, v *web.AccountView) error {
	if s.provider == nil {
		return nil
	}
	list, err := s.provider.Consents(r.Context(), userID)
	if err != nil {
		return err
	}
	for _, c := range list {
		v.Apps = append(v.Apps, web.AppView{ClientID: c.ClientID, Name: c.ClientName, Scopes: c.Scopes, Updated: c.Updated})
	}
	return nil
}

// handleProviderEndSession is RP-initiated logout: op checks the request
// (id_token_hint, the client's post-logout URI); latchkey ends the
// browser's session when it is the hint's user, clears the cookie, and
// every client's tokens on that session stop.
func (s *Server) handleProviderEndSession() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		if s.provider == nil {
			return errNoSuchEndpoint
		}
		who, err := s.signedIn(w, r)
		if err != nil {
			return err
		}
		logout := func(ctx context.Context, userID string) error {
			if who == nil || who.User.ID != userID {
				return nil // nothing of this user's to end in this browser
			}
			if err := s.auth.Logout(ctx, who, auth.LogoutLocal, s.meta(r)); err != nil {
				return err
			}
			s.clearSessionCookie(w)
			return nil
		}
		ctx := provider.WithLogout(provider.WithMeta(r.Context(), s.meta(r)), logout)
		s.providerHandler.ServeHTTP(w, r.WithContext(ctx))
		return nil
	}
}

// providerCORSPath reports the OpenID provider's endpoints that a
// single-page app calls from the browser (discovery, keys, token,
// userinfo, revocation): they answer CORS for --cors-origins as the JSON
// API does. The pages (authorize, consent, device, logout) are navigated
// to, never fetched.
func providerCORSPath(path string) bool {
	switch path {
	case provider.PathDiscovery, provider.PathJWKS, provider.PathToken, provider.PathUserinfo, provider.PathRevoke:
		return true
	}
	return false
}
