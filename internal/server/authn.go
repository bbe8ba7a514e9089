package server

import (
	"net/http"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
)

// MaxAuthorizationLength caps the Authorization header before any parsing
// (CVE-2025-30204: token parsers that split first are a memory DoS).
const MaxAuthorizationLength = 8 << 10

// userHandler is a handler that needs an authenticated caller.
type userHandler func(w http.ResponseWriter, r *http.Request, p *auth.Principal)

// requireUser authenticates the request or answers 401.
func (s *Server) requireUser(h userHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r)
		if err != nil {
			s.writeProblem(w, r, err)
			return
		}
		h(w, r, p)
	})
}

// authenticate finds the caller's credential: a bearer access token, or
// else the browser session cookie. A credential in the URL or a form is
// never looked at.
func (s *Server) authenticate(r *http.Request) (*auth.Principal, error) {
	if len(r.Header.Values("Authorization")) == 0 {
		if p, found, err := s.cookiePrincipal(r); found {
			return p, err
		}
	}
	raw, err := bearerToken(r)
	if err != nil {
		return nil, err
	}
	return s.auth.AuthenticateAccessToken(r.Context(), raw)
}

// bearerToken extracts the token of an `Authorization: Bearer` header.
func bearerToken(r *http.Request) (string, error) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return "", latchkey.Errorf(latchkey.ETokenRequired, "An access token is required.")
	}
	if len(values) > 1 {
		return "", latchkey.Errorf(latchkey.EInvalidToken, "Send one Authorization header.")
	}
	h := values[0]
	if len(h) > MaxAuthorizationLength {
		return "", latchkey.Errorf(latchkey.EInvalidToken, "The access token is invalid.")
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || strings.ContainsAny(tok, " \t") {
		return "", latchkey.Errorf(latchkey.EInvalidToken, "Use the Authorization: Bearer <token> scheme.")
	}
	return tok, nil
}
