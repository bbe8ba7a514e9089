package server

import (
	"net/http"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/apikey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/ratelimit"
)

// rateLimited is returned by authentication when repeated failures tripped
// a limit: the answer is 429, not another 401.
type rateLimited struct {
	rule     ratelimit.Rule
	decision ratelimit.Decision
}

func (e *rateLimited) Error() string { return "rate limited: " + e.rule.Name }

// MaxAuthorizationLength caps the Authorization header before any parsing
// (CVE-2025-30204: token parsers that split first are a memory DoS).
const MaxAuthorizationLength = 8 << 10

// handler serves one route for the caller its policy admitted (nil on a
// public route). A handler that fails returns the error instead of
// answering it: Server.fail renders every error in one place, as a problem
// document for the API or an error page for the hosted pages.
type handler func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error

// authenticate finds the caller's credential: an API key (X-API-Key, or a
// bearer value with the lk_ prefix), a bearer access token, or else the
// browser session cookie. A credential in the URL or a form is never
// looked at, and two credentials at once are refused.
func (s *Server) authenticate(r *http.Request) (*auth.Principal, error) {
	keys := r.Header.Values("X-API-Key")
	hasAuthorization := len(r.Header.Values("Authorization")) > 0
	switch {
	case len(keys) > 1 || (len(keys) == 1 && hasAuthorization):
		return nil, latchkey.Errorf(latchkey.EInvalidRequest, "Send one credential: an API key or a bearer token, not both.")
	case len(keys) == 1:
		return s.authenticateAPIKey(r, keys[0])
	case !hasAuthorization:
		if p, found, err := s.cookiePrincipal(r); found {
			return p, err
		}
	}
	raw, err := bearerToken(r)
	if err != nil {
		return nil, err
	}
	if apikey.LooksLikeKey(raw) {
		return s.authenticateAPIKey(r, raw)
	}
	return s.auth.AuthenticateAccessToken(r.Context(), raw)
}

// authenticateAPIKey verifies a key. Failed attempts are rate limited per
// key prefix and per client address; valid keys are never slowed by that.
func (s *Server) authenticateAPIKey(r *http.Request, key string) (*auth.Principal, error) {
	if len(key) > MaxAuthorizationLength {
		return nil, latchkey.Errorf(latchkey.EInvalidAPIKey, "The API key is invalid.")
	}
	p, err := s.auth.AuthenticateAPIKey(r.Context(), key)
	if latchkey.IsCode(err, latchkey.EInvalidAPIKey) && s.limits != nil {
		prefix := key[:min(len(key), apikey.DisplayLen)]
		for _, c := range []limitCheck{{s.rules.APIKeyFailurePrefix, prefix}, {s.rules.APIKeyFailureIP, s.ipKey(r)}} {
			if d, lerr := s.limits.Allow(r.Context(), c.rule, c.key); lerr == nil && !d.Allowed {
				return nil, &rateLimited{rule: c.rule, decision: d}
			}
		}
	}
	return p, err
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
