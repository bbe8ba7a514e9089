package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
)

// maxCursorLength bounds a page cursor (an ID) before it reaches a query.
const maxCursorLength = 64

func actor(p *auth.Principal, m auth.Meta) auth.Actor {
	return auth.Actor{UserID: p.User.ID, SessionID: p.SessionID, Meta: m}
}

// page reads ?cursor= and ?limit= (1 to 200, default 50).
func page(r *http.Request) (latchkey.Page, error) {
	q := r.URL.Query()
	pg := latchkey.Page{Cursor: q.Get("cursor")}
	if len(pg.Cursor) > maxCursorLength {
		return pg, latchkey.Errorf(latchkey.EInvalidRequest, "The cursor is invalid.")
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return pg, latchkey.Errorf(latchkey.EInvalidRequest, "limit must be a whole number from 1 to 200.")
		}
		pg.Limit = n
	}
	return pg, nil
}

func (s *Server) handleAdminListUsers() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		pg, err := page(r)
		if err != nil {
			return err
		}
		query := r.URL.Query().Get("q")
		if len(query) > 320 {
			return latchkey.Errorf(latchkey.EInvalidRequest, "q is too long.")
		}
		users, next, err := s.auth.ListUsers(r.Context(), latchkey.UserFilter{Query: query, Page: pg})
		if err != nil {
			return err
		}
		// Whether each has a second factor: one query for the page.
		withMFA, err := s.auth.UsersWithMFA(r.Context(), users)
		if err != nil {
			return err
		}
		out := make([]listedUserJSON, 0, len(users))
		for i := range users {
			out = append(out, listedUserJSON{toUserJSON(&users[i]), mfaSummaryJSON{Enabled: withMFA[users[i].ID]}})
		}
		noStore(w)
		writeJSON(w, http.StatusOK, map[string]any{"users": out, "next_cursor": next})
		return nil
	}
}

// listedUserJSON is a user in the admin API's list: whether they have a
// second factor, not the factors.
type listedUserJSON struct {
	userJSON
	MFA mfaSummaryJSON `json:"mfa"`
}

type mfaSummaryJSON struct {
	Enabled bool `json:"enabled"`
}

// adminUserJSON is one user for an administrator: with their second
// factors as GET /v1/me/mfa shows them (never a secret or a code).
type adminUserJSON struct {
	userJSON
	MFA mfaJSON `json:"mfa"`
}

func (s *Server) handleAdminGetUser() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		u, err := s.auth.GetUser(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		st, err := s.auth.MFA(r.Context(), u.ID)
		if err != nil {
			return err
		}
		noStore(w)
		writeJSON(w, http.StatusOK, adminUserJSON{toUserJSON(u), toMFAJSON(st)})
		return nil
	}
}

type adminUpdateUserRequest struct {
	Roles         *[]string `json:"roles"`
	Disabled      *bool     `json:"disabled"`
	Name          *string   `json:"name"`
	EmailVerified *bool     `json:"email_verified"`
}

func (s *Server) handleAdminUpdateUser() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		req, err := decode[adminUpdateUserRequest](w, r)
		if err != nil {
			return err
		}
		u, err := s.auth.UpdateUser(r.Context(), r.PathValue("id"),
			auth.UserChanges{Roles: req.Roles, Disabled: req.Disabled, Name: req.Name, EmailVerified: req.EmailVerified}, actor(p, s.meta(r)))
		if err != nil {
			return err
		}
		noStore(w)
		writeJSON(w, http.StatusOK, toUserJSON(u))
		return nil
	}
}

func (s *Server) handleAdminDeleteUser() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		if err := s.auth.DeleteUser(r.Context(), r.PathValue("id"), actor(p, s.meta(r))); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (s *Server) handleAdminUserSessions() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		list, err := s.auth.UserSessions(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		noStore(w)
		writeJSON(w, http.StatusOK, map[string]any{"sessions": s.toSessionsJSON(list, p.SessionID)})
		return nil
	}
}

func (s *Server) handleAdminRevokeUserSessions() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		if _, err := s.auth.RevokeUserSessions(r.Context(), r.PathValue("id"), actor(p, s.meta(r))); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

type auditEventJSON struct {
	ID        string    `json:"id"`
	Time      time.Time `json:"time"`
	Type      string    `json:"type"`
	UserID    string    `json:"user_id"`
	SessionID string    `json:"session_id"`
	APIKeyID  string    `json:"api_key_id"`
	IP        string    `json:"ip"`
	UserAgent string    `json:"user_agent"`
	Outcome   string    `json:"outcome"`
	Reason    string    `json:"reason"`
}

// handleAdminRevokeUserAPIKeys revokes every API key of a user at once,
// as after a suspected compromise.
func (s *Server) handleAdminRevokeUserAPIKeys() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		n, err := s.auth.RevokeUserAPIKeys(r.Context(), r.PathValue("id"), actor(p, s.meta(r)))
		if err != nil {
			return err
		}
		noStore(w)
		writeJSON(w, http.StatusOK, map[string]int{"revoked": n})
		return nil
	}
}

func (s *Server) handleAdminAudit() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		pg, err := page(r)
		if err != nil {
			return err
		}
		q := r.URL.Query()
		f := latchkey.AuditFilter{UserID: q.Get("user_id"), Type: q.Get("type"), Page: pg}
		if len(f.UserID) > maxCursorLength || len(f.Type) > 64 {
			return latchkey.Errorf(latchkey.EInvalidRequest, "user_id or type is too long.")
		}
		if v := q.Get("since"); v != "" {
			if f.Since, err = time.Parse(time.RFC3339, v); err != nil {
				return latchkey.Errorf(latchkey.EInvalidRequest, "since must be an RFC 3339 time, e.g. 2024-01-02T15:04:05Z.")
			}
		}
		events, next, err := s.auth.ListAudit(r.Context(), f)
		if err != nil {
			return err
		}
		out := make([]auditEventJSON, 0, len(events))
		for _, e := range events {
			out = append(out, auditJSON(e))
		}
		noStore(w)
		writeJSON(w, http.StatusOK, map[string]any{"events": out, "next_cursor": next})
		return nil
	}
}

type signingKeyJSON struct {
	KID         string     `json:"kid"`
	Alg         string     `json:"alg"`
	State       string     `json:"state"`
	CreatedAt   time.Time  `json:"created_at"`
	ActivatedAt *time.Time `json:"activated_at"`
	RetiredAt   *time.Time `json:"retired_at"`
}

// writeKeys answers the key list: public facts only, never key material.
func (s *Server) writeKeys(w http.ResponseWriter, status int) {
	keys := s.keys.Keys()
	out := make([]signingKeyJSON, 0, len(keys))
	for _, k := range keys {
		out = append(out, signingKeyJSON{KID: k.ID, Alg: k.Algorithm, State: k.State, CreatedAt: k.CreatedAt.UTC(),
			ActivatedAt: utc(k.ActivatedAt), RetiredAt: utc(k.RetiredAt)})
	}
	noStore(w)
	writeJSON(w, status, map[string]any{"keys": out})
}

func (s *Server) handleAdminListKeys() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		s.writeKeys(w, http.StatusOK)
		return nil
	}
}

func (s *Server) handleAdminRotateKeys() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		if err := s.rotateKeys(r, p); err != nil {
			return err
		}
		s.writeKeys(w, http.StatusOK)
		return nil
	}
}

// rotateKeys rotates the signing keys at an administrator's request
// (audited as keys.rotated).
func (s *Server) rotateKeys(r *http.Request, p *auth.Principal) error {
	m := s.meta(r)
	_, err := s.keys.Rotate(r.Context(), latchkey.AuditEvent{UserID: p.User.ID, SessionID: p.SessionID,
		IP: m.IP, UserAgent: auth.TruncateUserAgent(m.UserAgent), Outcome: latchkey.OutcomeSuccess})
	return err
}

// handleAdminResendVerification mails a user a new verification link.
func (s *Server) handleAdminResendVerification() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		if err := s.auth.ResendVerification(r.Context(), r.PathValue("id"), actor(p, s.meta(r))); err != nil {
			return err
		}
		writeAccepted(w)
		return nil
	}
}
