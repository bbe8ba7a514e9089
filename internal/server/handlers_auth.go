package server

import (
	"encoding/json"
	"math"
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
)

// userJSON is the public view of an account.
type userJSON struct {
	ID            string    `json:"id"`
	Email         string    `json:"email"`
	EmailVerified bool      `json:"email_verified"`
	Name          string    `json:"name"`
	Roles         []string  `json:"roles"`
	Disabled      bool      `json:"disabled,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func toUserJSON(u *latchkey.User) userJSON {
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	return userJSON{ID: u.ID, Email: u.Email, EmailVerified: u.EmailVerified(), Name: u.Name, Roles: roles, Disabled: u.Disabled,
		CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC()}
}

// tokenResponse is RFC 6749 §5.1 plus latchkey's extras.
type tokenResponse struct {
	AccessToken      string   `json:"access_token"`
	TokenType        string   `json:"token_type"`
	ExpiresIn        int64    `json:"expires_in"`
	RefreshToken     string   `json:"refresh_token"`
	RefreshExpiresIn int64    `json:"refresh_expires_in"`
	SessionID        string   `json:"session_id"`
	User             userJSON `json:"user"`
}

func (s *Server) writeTokens(w http.ResponseWriter, status int, t *auth.Tokens) {
	if t.Challenge != nil { // a second factor first: no tokens yet
		s.writeChallenge(w, t.Challenge)
		return
	}
	now := s.now()
	noStore(w)
	writeJSON(w, status, tokenResponse{
		AccessToken: t.AccessToken.Reveal(), TokenType: "Bearer",
		ExpiresIn:    secondsUntil(t.AccessExpiresAt, now),
		RefreshToken: t.RefreshToken.Reveal(), RefreshExpiresIn: secondsUntil(t.RefreshExpiresAt, now),
		SessionID: t.Session.ID, User: toUserJSON(t.User),
	})
}

// secondsUntil is the whole seconds left, rounded up: a token issued a
// moment ago for 15 minutes reports 900.
func secondsUntil(t, now time.Time) int64 {
	return max(0, int64(math.Ceil(t.Sub(now).Seconds())))
}

type signupRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

// tokenEndpoint is a public JSON endpoint that trades a request body for a
// token response: sign-up, refresh, the social-login code exchange.
func tokenEndpoint[T any](s *Server, status int, exchange func(r *http.Request, req T) (*auth.Tokens, error)) handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		req, err := decode[T](w, r)
		if err != nil {
			return err
		}
		t, err := exchange(r, req)
		if err != nil {
			return err
		}
		s.writeTokens(w, status, t)
		return nil
	}
}

// handleSignup creates an account and signs it in (201 with tokens), or,
// with --email-verification required, answers 202 without tokens whether
// or not the address has an account, so that sign-up cannot tell which
// addresses are registered.
func (s *Server) handleSignup() handler {
	withTokens := tokenEndpoint(s, http.StatusCreated, func(r *http.Request, req signupRequest) (*auth.Tokens, error) {
		return s.auth.Signup(r.Context(), auth.SignupInput{Email: req.Email, Password: req.Password, Name: req.Name}, s.meta(r))
	})
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		if !s.auth.EmailVerificationRequired() {
			return withTokens(w, r, p)
		}
		req, err := decode[signupRequest](w, r)
		if err != nil {
			return err
		}
		// A required-mode sign-up mails the address it names (even an
		// existing owner's): the same one-a-minute limit as the other mails.
		if _, ok := s.admitAccount(w, r, req.Email); !ok {
			return nil
		}
		in := auth.SignupInput{Email: req.Email, Password: req.Password, Name: req.Name}
		if err := s.auth.SignupPending(r.Context(), in, s.meta(r)); err != nil {
			return err
		}
		writeAccepted(w)
		return nil
	}
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (s *Server) handleLogin() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		req, err := decode[loginRequest](w, r)
		if err != nil {
			return err
		}
		attempt, ok := s.admitAccount(w, r, req.Email)
		if !ok {
			return nil
		}
		t, err := s.auth.Login(r.Context(), req.Email, req.Password, s.meta(r))
		if err != nil || t.Challenge == nil {
			// With a second factor to come, the sign-in's outcome (for the
			// back-off) is that step's.
			attempt.done(w, r, err)
		}
		if err != nil {
			return err
		}
		s.writeTokens(w, http.StatusOK, t)
		return nil
	}
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

func (r refreshRequest) Validate() error {
	if r.RefreshToken == "" {
		return latchkey.Errorf(latchkey.EInvalidRequest, "refresh_token is required.")
	}
	return nil
}

func (s *Server) handleRefresh() handler {
	return tokenEndpoint(s, http.StatusOK, func(r *http.Request, req refreshRequest) (*auth.Tokens, error) {
		return s.auth.Refresh(r.Context(), req.RefreshToken, s.meta(r))
	})
}

type logoutRequest struct {
	Scope string `json:"scope"`
}

func (s *Server) handleLogout() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		req := logoutRequest{Scope: auth.LogoutLocal}
		if r.ContentLength != 0 {
			var err error
			if req, err = decode[logoutRequest](w, r); err != nil {
				return err
			}
		}
		if err := s.auth.Logout(r.Context(), p, req.Scope, s.meta(r)); err != nil {
			return err
		}
		if p.Via == "cookie" && req.Scope != auth.LogoutOthers {
			s.clearSessionCookie(w)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

type reauthenticateRequest struct {
	Password string `json:"password"`
	// Passkey is an assertion for POST /v1/auth/reauthenticate/passkey/begin.
	Passkey json.RawMessage `json:"passkey"`
}

func (r reauthenticateRequest) Validate() error {
	if (r.Password == "") == (len(r.Passkey) == 0) {
		return latchkey.Errorf(latchkey.EInvalidRequest, "Send password, or a passkey assertion as passkey (one of them).")
	}
	return nil
}

// handleReauthenticate confirms the password of the current session, which
// makes it fresh for sensitive operations for --reauth-window.
func (s *Server) handleReauthenticate() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		req, err := decode[reauthenticateRequest](w, r)
		if err != nil {
			return err
		}
		if len(req.Passkey) > 0 {
			err = s.auth.ReauthenticateWithPasskey(r.Context(), p, req.Passkey, s.meta(r))
		} else {
			err = s.auth.Reauthenticate(r.Context(), p, req.Password, s.meta(r))
		}
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
