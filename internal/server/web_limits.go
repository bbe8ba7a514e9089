package server

import (
	"net/http"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/ratelimit"
)

// webAllow is allow for hosted pages: the same rules and keys as the JSON
// endpoints, answered with a page instead of a problem document.
func (s *Server) webAllow(w http.ResponseWriter, r *http.Request, userID string, checks ...limitCheck) bool {
	if s.limits == nil {
		return true
	}
	for _, c := range checks {
		d, err := s.limits.Allow(r.Context(), c.rule, c.key)
		if err != nil {
			s.webFail(w, r, latchkey.WrapError(latchkey.EUnavailable, "Rate limiting is unavailable; try again shortly.", err))
			return false
		}
		ratelimit.WriteHeaders(w.Header(), c.rule, d)
		if !d.Allowed {
			s.webFail(w, r, s.refusal(w, r, c.rule.Name, c.key, userID, d.RetryAfter))
			return false
		}
	}
	return true
}

// webLocked is accountLocked for hosted pages.
func (s *Server) webLocked(w http.ResponseWriter, r *http.Request, account string) bool {
	if s.limits == nil {
		return false
	}
	wait, err := s.limits.Wait(r.Context(), account)
	if err != nil {
		s.webFail(w, r, latchkey.WrapError(latchkey.EUnavailable, "Rate limiting is unavailable; try again shortly.", err))
		return true
	}
	if wait > 0 {
		s.webFail(w, r, s.refusal(w, r, "login-backoff", account, "", wait))
		return true
	}
	return false
}
