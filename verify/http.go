package verify

import (
	"encoding/json"
	"net/http"
)

// Middleware authenticates every request and, on success, calls next with
// the caller's *Identity in the request context (see FromContext). Refused
// requests get 401 (400 for ambiguous credentials, 503 when the issuer
// cannot be reached) and never reach next.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := v.Authenticate(r)
		if err != nil {
			v.cfg.Logger.DebugContext(r.Context(), "latchkey verify: request refused", "err", err)
			WriteError(w, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), id)))
	})
}

// RequireRole lets through only callers whose identity has role; others
// get 403 (401 if no identity is in the context, that is, the Middleware
// did not run first).
func RequireRole(role string) func(http.Handler) http.Handler {
	return require(func(id *Identity) bool { return id.HasRole(role) }, "")
}

// RequireScope lets through only callers whose credential grants scope.
// An unscoped API key or access token grants every scope of its owner.
func RequireScope(scope string) func(http.Handler) http.Handler {
	return require(func(id *Identity) bool { return id.HasScope(scope) }, scope)
}

// RequireAAL2 lets through only callers whose session proved a second
// factor (acr "aal2"); others get 403 insufficient_authentication with an
// RFC 9470 step-up challenge (WWW-Authenticate: Bearer
// error="insufficient_user_authentication", acr_values="aal2"). The client
// then verifies a factor (POST /v1/auth/mfa/verify with its access token,
// which steps its session up), refreshes or uses the new access token, and
// retries. An API key never passes.
func RequireAAL2() func(http.Handler) http.Handler { return RequireACR(AAL2) }

// RequireACR lets through only callers whose session reached the assurance
// level acr ("aal1" or "aal2"; see Identity.MeetsACR).
func RequireACR(acr string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, found := FromContext(r.Context())
			switch {
			case !found:
				WriteError(w, ErrNoCredentials)
			case !id.MeetsACR(acr):
				writeProblem(w, ErrInsufficientAuthentication, stepUpChallenge(acr))
			default:
				next.ServeHTTP(w, r)
			}
		})
	}
}

// stepUpChallenge is the RFC 9470 §3 challenge for a level.
func stepUpChallenge(acr string) string {
	if acr == "" || !validScopeToken(acr) {
		return `Bearer error="insufficient_user_authentication"`
	}
	return `Bearer error="insufficient_user_authentication", acr_values="` + acr + `"`
}

func require(ok func(*Identity) bool, scope string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, found := FromContext(r.Context())
			switch {
			case !found:
				WriteError(w, ErrNoCredentials)
			case !ok(id):
				writeProblem(w, ErrForbidden, insufficientScope(scope))
			default:
				next.ServeHTTP(w, r)
			}
		})
	}
}

// WriteError answers a request refused with err (from Authenticate) as the
// Middleware does: the RFC 6750 challenge and an RFC 9457 problem body.
func WriteError(w http.ResponseWriter, err error) {
	kind := kindOf(err)
	var challenge string
	switch kind {
	case ErrNoCredentials:
		challenge = "Bearer" // no error code when nothing was sent (RFC 6750 §3.1)
	case ErrInvalidRequest:
		challenge = `Bearer error="invalid_request"`
	case ErrForbidden:
		challenge = insufficientScope("")
	case ErrInsufficientAuthentication:
		challenge = stepUpChallenge("")
	case ErrUnavailable:
	default:
		challenge = `Bearer error="invalid_token"`
	}
	writeProblem(w, kind, challenge)
}

func insufficientScope(scope string) string {
	if scope == "" || !validScopeToken(scope) {
		return `Bearer error="insufficient_scope"`
	}
	return `Bearer error="insufficient_scope", scope="` + scope + `"`
}

// validScopeToken reports whether s is an RFC 6749 scope token, and so
// safe inside a quoted header parameter.
func validScopeToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c == '"' || c == '\\' || c > 0x7e {
			return false
		}
	}
	return true
}

type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Code   string `json:"code"`
}

func writeProblem(w http.ResponseWriter, kind *Error, challenge string) {
	h := w.Header()
	if challenge != "" {
		h.Set("WWW-Authenticate", challenge)
	}
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(kind.Status)
	_ = json.NewEncoder(w).Encode(problem{Type: "about:blank", Title: kind.Title, Status: kind.Status, Code: kind.Code})
}
