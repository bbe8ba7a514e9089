package server

import (
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
)

type createAPIKeyRequest struct {
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes"`
	ExpiresIn int64    `json:"expires_in"` // seconds; 0 or absent: never
}

type apiKeyJSON struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Key        string     `json:"key,omitempty"` // only in the creation response
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

func toAPIKeyJSON(k *latchkey.APIKey) apiKeyJSON {
	scopes := k.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	return apiKeyJSON{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Scopes: scopes, CreatedAt: k.CreatedAt.UTC(),
		ExpiresAt: utc(k.ExpiresAt), LastUsedAt: utc(k.LastUsedAt)}
}

// utc is t in UTC, or nil.
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (s *Server) handleCreateAPIKey() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		req, err := decode[createAPIKeyRequest](w, r)
		if err != nil {
			return err
		}
		if req.ExpiresIn < 0 || req.ExpiresIn > int64(auth.MaxAPIKeyLifetime/time.Second) {
			return latchkey.Errorf(latchkey.EInvalidRequest, "expires_in must be between 1 second and 10 years.")
		}
		k, secret, err := s.auth.CreateAPIKey(r.Context(), p,
			auth.APIKeyInput{Name: req.Name, Scopes: req.Scopes, ExpiresIn: time.Duration(req.ExpiresIn) * time.Second}, s.meta(r))
		if err != nil {
			return err
		}
		out := toAPIKeyJSON(k)
		out.Key = secret.Reveal()
		noStore(w)
		writeJSON(w, http.StatusCreated, out)
		return nil
	}
}

func (s *Server) handleListAPIKeys() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		keys, err := s.auth.ListAPIKeys(r.Context(), p.User.ID)
		if err != nil {
			return err
		}
		out := make([]apiKeyJSON, 0, len(keys))
		for i := range keys {
			out = append(out, toAPIKeyJSON(&keys[i]))
		}
		noStore(w)
		writeJSON(w, http.StatusOK, map[string]any{"api_keys": out})
		return nil
	}
}

func (s *Server) handleRevokeAPIKey() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		if err := s.auth.RevokeAPIKey(r.Context(), p, r.PathValue("id"), s.meta(r)); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
