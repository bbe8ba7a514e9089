package server

import (
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
)

type meResponse struct {
	userJSON
	SessionID  string         `json:"session_id,omitempty"`
	APIKey     *meAPIKeyJSON  `json:"api_key,omitempty"`
	Identities []identityJSON `json:"identities"`
}

// meAPIKeyJSON names the key a request authenticated with.
type meAPIKeyJSON struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

func (s *Server) handleMe() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		ids, err := s.auth.ListIdentities(r.Context(), p.User.ID)
		if err != nil {
			return err
		}
		out := meResponse{userJSON: toUserJSON(p.User), SessionID: p.SessionID, Identities: toIdentitiesJSON(ids)}
		if k := p.APIKey; k != nil {
			scopes := k.Scopes
			if scopes == nil {
				scopes = []string{}
			}
			out.APIKey = &meAPIKeyJSON{ID: k.ID, Name: k.Name, Scopes: scopes}
		}
		noStore(w)
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

type updateMeRequest struct {
	Name *string `json:"name"`
}

func (s *Server) handleUpdateMe() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		req, err := decode[updateMeRequest](w, r)
		if err != nil {
			return err
		}
		u, err := s.auth.UpdateProfile(r.Context(), p.User.ID, req.Name, s.meta(r))
		if err != nil {
			return err
		}
		noStore(w)
		writeJSON(w, http.StatusOK, toUserJSON(u))
		return nil
	}
}

type changePasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
	// RevokeAPIKeys also revokes every API key of the account: what a
	// person does who fears the old password, or a session, was stolen.
	RevokeAPIKeys bool `json:"revoke_api_keys"`
}

func (r changePasswordRequest) Validate() error {
	if r.CurrentPassword == "" || r.NewPassword == "" {
		return latchkey.Errorf(latchkey.EInvalidRequest, "current_password and new_password are required.")
	}
	return nil
}

func (s *Server) handleChangePassword() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		req, err := decode[changePasswordRequest](w, r)
		if err != nil {
			return err
		}
		err = s.auth.ChangePassword(r.Context(), p, auth.PasswordChange{Current: req.CurrentPassword, New: req.NewPassword,
			RevokeAPIKeys: req.RevokeAPIKeys}, s.meta(r))
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

type sessionJSON struct {
	ID            string    `json:"id"`
	CreatedAt     time.Time `json:"created_at"`
	LastUsedAt    time.Time `json:"last_used_at"`
	ExpiresAt     time.Time `json:"expires_at"`
	IdleExpiresAt time.Time `json:"idle_expires_at"`
	IP            string    `json:"ip"`
	UserAgent     string    `json:"user_agent"`
	Current       bool      `json:"current"`
}

func (s *Server) toSessionsJSON(list []latchkey.Session, current string) []sessionJSON {
	idle := s.auth.Config().SessionIdleTimeout
	out := make([]sessionJSON, 0, len(list))
	for _, x := range list {
		out = append(out, sessionJSON{ID: x.ID, CreatedAt: x.CreatedAt.UTC(), LastUsedAt: x.LastUsedAt.UTC(),
			ExpiresAt: x.ExpiresAt.UTC(), IdleExpiresAt: x.LastUsedAt.Add(idle).UTC(), IP: x.IP, UserAgent: x.UserAgent,
			Current: x.ID == current})
	}
	return out
}

func (s *Server) handleListSessions() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		list, err := s.auth.ListSessions(r.Context(), p.User.ID)
		if err != nil {
			return err
		}
		noStore(w)
		writeJSON(w, http.StatusOK, map[string]any{"sessions": s.toSessionsJSON(list, p.SessionID)})
		return nil
	}
}

func (s *Server) handleRevokeSession() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		if err := s.auth.RevokeSession(r.Context(), p.User.ID, r.PathValue("id"), s.meta(r)); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
