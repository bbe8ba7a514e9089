package server

import (
	"net/http"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
)

// RequireRole lets a request through only when the caller's user carries
// role. The principal's user is read from the database on every request,
// so a demotion takes effect at once on latchkey's own endpoints; other
// services, which read roles from the access token, see it at the next
// refresh (at most one access-token lifetime later).
func (s *Server) RequireRole(role string) func(userHandler) userHandler {
	return s.require(func(p *auth.Principal) bool { return p.User.HasRole(role) }, "role", role)
}

// RequireScope lets a request through only when the credential carries
// scope (an unscoped credential carries all of its owner's rights).
func (s *Server) RequireScope(scope string) func(userHandler) userHandler {
	return s.require(func(p *auth.Principal) bool { return p.HasScope(scope) }, "scope", scope)
}

func (s *Server) require(ok func(*auth.Principal) bool, kind, name string) func(userHandler) userHandler {
	return func(h userHandler) userHandler {
		return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
			if !ok(p) {
				// Logged for the operator (LOG-02); the client learns only
				// that it may not.
				s.log.InfoContext(r.Context(), "forbidden", "user_id", p.User.ID, "missing_"+kind, name,
					"method", r.Method, "route", r.Pattern)
				s.writeProblem(w, r, latchkey.Errorf(latchkey.EForbidden, "You are not allowed to do this."))
				return
			}
			h(w, r, p)
		}
	}
}

// admin protects an administrative handler: an authenticated caller with
// the admin role.
func (s *Server) admin(h userHandler) http.Handler {
	return s.requireUser(s.RequireRole(latchkey.RoleAdmin)(h))
}
