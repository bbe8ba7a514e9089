package server

import (
	"net/http"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
)

// Session cookie names. Over HTTPS the __Host- prefix makes the browser
// refuse the cookie unless it is Secure, host-only and Path=/; plain HTTP
// (development on loopback) cannot use the prefix.
const (
	SessionCookieSecure   = "__Host-latchkey_session"
	SessionCookieInsecure = "latchkey_session"
)

func (s *Server) sessionCookieName() string {
	if s.cfg.Secure() {
		return SessionCookieSecure
	}
	return SessionCookieInsecure
}

// setSessionCookie gives the browser its session cookie: HttpOnly,
// SameSite=Lax, Path=/, Secure over HTTPS, lasting as long as the session.
func (s *Server) setSessionCookie(w http.ResponseWriter, value latchkey.Secret, sess *latchkey.Session) {
	http.SetCookie(w, &http.Cookie{
		Name: s.sessionCookieName(), Value: value.Reveal(), Path: "/", HttpOnly: true, Secure: s.cfg.Secure(),
		SameSite: http.SameSiteLaxMode, Expires: sess.ExpiresAt, MaxAge: int(sess.ExpiresAt.Sub(s.now()).Seconds()),
	})
	noStore(w)
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.sessionCookieName(), Value: "", Path: "/", HttpOnly: true,
		Secure: s.cfg.Secure(), SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// cookiePrincipal authenticates a request by its session cookie and
// refuses cross-site state changes (CSRF): a cookie is sent by the browser
// on its own, so unlike a bearer token or API key it proves nothing about
// who made the request.
func (s *Server) cookiePrincipal(r *http.Request) (*auth.Principal, bool, error) {
	c, err := r.Cookie(s.sessionCookieName())
	if err != nil {
		return nil, false, nil
	}
	if err := s.csrf.Check(r); err != nil {
		return nil, true, latchkey.WrapError(latchkey.EForbidden, "Cross-site requests are not allowed.", err)
	}
	p, err := s.auth.AuthenticateCookie(r.Context(), c.Value)
	return p, true, err
}
