package server

import (
	"net/http"
	"slices"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
)

// Forward-auth response headers. The proxy copies them to the upstream;
// latchkey never reads them from a request.
const (
	HeaderAuthUserID    = "X-Auth-User-Id"
	HeaderAuthRoles     = "X-Auth-Roles"
	HeaderAuthSessionID = "X-Auth-Session-Id"
	HeaderAuthAPIKeyID  = "X-Auth-Api-Key-Id"
	HeaderAuthScopes    = "X-Auth-Scopes"
	HeaderAuthIdentity  = "X-Auth-Identity"
	// HeaderAuthACR and HeaderAuthAMR say how a session authenticated:
	// its assurance level (aal1, aal2) and its RFC 8176 methods
	// (comma-separated). An API key gets neither.
	HeaderAuthACR = "X-Auth-Acr"
	HeaderAuthAMR = "X-Auth-Amr"
)

// handleVerify is forward auth for nginx auth_request, Traefik ForwardAuth,
// Caddy forward_auth and Envoy ext_authz: 200 with the identity headers
// and an empty body, 401 without valid credentials, 403 when a ?role= or
// ?scope= requirement (all of them must hold) is not met, and 403
// insufficient_authentication when the session's assurance is below an
// ?acr= requirement (an API key meets none).
//
// CSRF: a browser's session cookie reaches this endpoint with the original
// request's Origin and Sec-Fetch-Site. When the original method is unsafe
// (the verify request's own method, or X-Forwarded-Method / X-Original-Method
// as Traefik, Caddy and the nginx example send it — whichever is unsafe
// wins, so a client-sent header can only make the check stricter), a
// cookie-authenticated request must pass the same cross-origin protection
// as latchkey's own endpoints. Tokens and API keys are not affected.
func (s *Server) handleVerify() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		if handled, err := s.verifyClientToken(w, r); handled {
			return err
		}
		p, err := s.authenticate(withOriginalMethod(r))
		if err == nil {
			err = s.audienceAllows(p, r)
		}
		if err == nil {
			err = meetsRequirements(p, r)
		}
		if latchkey.IsCode(err, latchkey.EInvalidRequest) {
			// Two credentials or similar: to a proxy that is simply "not
			// authenticated" (a 400 would turn into a 500 in nginx).
			err = latchkey.WrapError(latchkey.EInvalidToken, "The credentials are invalid.", err)
		}
		if err != nil {
			return err
		}
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set(HeaderAuthUserID, p.User.ID)
		h.Set(HeaderAuthRoles, strings.Join(p.User.Roles, ","))
		if p.APIKey != nil {
			h.Set(HeaderAuthAPIKeyID, p.APIKey.ID)
		} else {
			h.Set(HeaderAuthSessionID, p.SessionID)
			h.Set(HeaderAuthACR, p.ACR())
			if len(p.AMR) > 0 {
				h.Set(HeaderAuthAMR, strings.Join(p.AMR, ","))
			}
		}
		if p.Scopes != nil {
			h.Set(HeaderAuthScopes, strings.Join(p.Scopes, ","))
		}
		if s.identity != nil {
			tok, err := s.identity.Sign(s.cfg.Issuer, p, s.now())
			if err != nil {
				return err
			}
			h.Set(HeaderAuthIdentity, tok)
		}
		w.WriteHeader(http.StatusOK)
		return nil
	}
}

// withOriginalMethod returns r, or a shallow copy whose Method is the
// original request's unsafe method, so cookie authentication applies
// cross-origin protection to it.
func withOriginalMethod(r *http.Request) *http.Request {
	if !isSafeMethod(r.Method) {
		return r
	}
	for _, name := range []string{"X-Forwarded-Method", "X-Original-Method"} {
		for _, m := range r.Header.Values(name) {
			if m = strings.ToUpper(strings.TrimSpace(m)); !isSafeMethod(m) {
				r2 := *r
				r2.Method = m
				return &r2
			}
		}
	}
	return r
}

func isSafeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// meetsRequirements checks every ?role=, ?scope= and ?acr= of the verify
// request.
// Under /v1/verify/ (Envoy's form) the path and query are the client's
// own, so they are not looked at.
func meetsRequirements(p *auth.Principal, r *http.Request) error {
	if r.URL.Path != "/v1/verify" {
		return nil
	}
	q := r.URL.Query()
	for _, role := range q["role"] {
		if !slices.Contains(p.User.Roles, role) {
			return latchkey.Errorf(latchkey.EForbidden, "A required role is missing.")
		}
	}
	for _, scope := range q["scope"] {
		if !p.HasScope(scope) {
			return latchkey.Errorf(latchkey.EForbidden, "A required scope is missing.")
		}
	}
	for _, acr := range q["acr"] {
		if !auth.MeetsACR(p.ACR(), acr) {
			return errInsufficientAuthentication
		}
	}
	return nil
}

var errInsufficientAuthentication = latchkey.Errorf(latchkey.EInsufficientAuthentication,
	"This needs a session that proved a second factor: verify one (POST /v1/auth/mfa/verify) and try again.")

// handleIdentityJWKS publishes the X-Auth-Identity public key.
func (s *Server) handleIdentityJWKS() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		if s.identity == nil {
			return latchkey.Errorf(latchkey.ENotFound, "No identity header key is configured.")
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(s.identity.JWKS())
		return nil
	}
}
