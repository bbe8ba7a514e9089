package server

import (
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/provider"
)

// clientJSON is a registered client as the admin API shows it: never a
// secret or its hash.
type clientJSON struct {
	ID                     string     `json:"id"`
	Name                   string     `json:"name"`
	Type                   string     `json:"type"`
	TokenEndpointAuth      string     `json:"token_endpoint_auth_method"`
	RedirectURIs           []string   `json:"redirect_uris"`
	PostLogoutRedirectURIs []string   `json:"post_logout_redirect_uris"`
	GrantTypes             []string   `json:"grant_types"`
	Scopes                 []string   `json:"scopes"`
	Resources              []string   `json:"resources"`
	FirstParty             bool       `json:"first_party"`
	JWKS                   string     `json:"jwks,omitempty"`
	PreviousSecretExpires  *time.Time `json:"previous_secret_expires_at,omitempty"`
	CreatedAt              time.Time  `json:"created_at"`
	UpdatedAt              time.Time  `json:"updated_at"`
}

func toClientJSON(c *latchkey.Client, now time.Time) clientJSON {
	out := clientJSON{ID: c.ID, Name: c.Name, Type: c.Type, TokenEndpointAuth: c.AuthMethod, RedirectURIs: nonNil(c.RedirectURIs),
		PostLogoutRedirectURIs: nonNil(c.PostLogoutRedirectURIs), GrantTypes: nonNil(c.GrantTypes), Scopes: nonNil(c.Scopes),
		Resources: nonNil(c.Resources), FirstParty: c.FirstParty, JWKS: c.JWKS, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	if c.PreviousSecretExpiresAt != nil && now.Before(*c.PreviousSecretExpiresAt) {
		out.PreviousSecretExpires = c.PreviousSecretExpiresAt
	}
	return out
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

type createClientRequest struct {
	Name                   string   `json:"name"`
	Type                   string   `json:"type"`
	TokenEndpointAuth      string   `json:"token_endpoint_auth_method"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	GrantTypes             []string `json:"grant_types"`
	Scopes                 []string `json:"scopes"`
	Resources              []string `json:"resources"`
	FirstParty             bool     `json:"first_party"`
	JWKS                   string   `json:"jwks"`
}

type updateClientRequest struct {
	Name                   *string   `json:"name"`
	RedirectURIs           *[]string `json:"redirect_uris"`
	PostLogoutRedirectURIs *[]string `json:"post_logout_redirect_uris"`
	GrantTypes             *[]string `json:"grant_types"`
	Scopes                 *[]string `json:"scopes"`
	Resources              *[]string `json:"resources"`
	FirstParty             *bool     `json:"first_party"`
	JWKS                   *string   `json:"jwks"`
}

type rotateSecretRequest struct {
	// Overlap is how long, in seconds, the previous secret keeps working.
	Overlap *int64 `json:"overlap_seconds"`
}

// clientsOrUnavailable is the client use cases, which a server built
// without a provider lacks.
func (s *Server) clientsOrUnavailable() (*provider.Clients, error) {
	if s.clients == nil {
		return nil, latchkey.Errorf(latchkey.EUnavailable, "This server is not an OpenID provider.")
	}
	return s.clients, nil
}

func (s *Server) handleAdminListClients() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		clients, err := s.clientsOrUnavailable()
		if err != nil {
			return err
		}
		list, err := clients.List(r.Context())
		if err != nil {
			return err
		}
		out := make([]clientJSON, 0, len(list))
		for i := range list {
			out = append(out, toClientJSON(&list[i], s.now()))
		}
		noStore(w)
		writeJSON(w, http.StatusOK, map[string]any{"clients": out})
		return nil
	}
}

func (s *Server) handleAdminCreateClient() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		clients, err := s.clientsOrUnavailable()
		if err != nil {
			return err
		}
		req, err := decode[createClientRequest](w, r)
		if err != nil {
			return err
		}
		c, secret, err := clients.Create(r.Context(), provider.ClientInput{Name: req.Name, Type: req.Type, AuthMethod: req.TokenEndpointAuth,
			RedirectURIs: req.RedirectURIs, PostLogoutRedirectURIs: req.PostLogoutRedirectURIs, GrantTypes: req.GrantTypes,
			Scopes: req.Scopes, Resources: req.Resources, FirstParty: req.FirstParty, JWKS: req.JWKS}, actor(p, s.meta(r)))
		if err != nil {
			return err
		}
		body := map[string]any{"client": toClientJSON(c, s.now())}
		if secret != "" {
			body["client_secret"] = secret.Reveal()
		}
		noStore(w)
		w.Header().Set("Location", "/v1/admin/clients/"+c.ID)
		writeJSON(w, http.StatusCreated, body)
		return nil
	}
}

func (s *Server) handleAdminGetClient() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		clients, err := s.clientsOrUnavailable()
		if err != nil {
			return err
		}
		c, err := clients.Get(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		noStore(w)
		writeJSON(w, http.StatusOK, toClientJSON(c, s.now()))
		return nil
	}
}

func (s *Server) handleAdminUpdateClient() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		clients, err := s.clientsOrUnavailable()
		if err != nil {
			return err
		}
		req, err := decode[updateClientRequest](w, r)
		if err != nil {
			return err
		}
		c, err := clients.Update(r.Context(), r.PathValue("id"), provider.ClientChanges{Name: req.Name, RedirectURIs: req.RedirectURIs,
			PostLogoutRedirectURIs: req.PostLogoutRedirectURIs, GrantTypes: req.GrantTypes, Scopes: req.Scopes, Resources: req.Resources,
			FirstParty: req.FirstParty, JWKS: req.JWKS}, actor(p, s.meta(r)))
		if err != nil {
			return err
		}
		noStore(w)
		writeJSON(w, http.StatusOK, toClientJSON(c, s.now()))
		return nil
	}
}

func (s *Server) handleAdminDeleteClient() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		clients, err := s.clientsOrUnavailable()
		if err != nil {
			return err
		}
		if err := clients.Delete(r.Context(), r.PathValue("id"), actor(p, s.meta(r))); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (s *Server) handleAdminRotateClientSecret() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		clients, err := s.clientsOrUnavailable()
		if err != nil {
			return err
		}
		overlap := provider.DefaultSecretOverlap
		if r.ContentLength != 0 {
			req, err := decode[rotateSecretRequest](w, r)
			if err != nil {
				return err
			}
			if req.Overlap != nil {
				if *req.Overlap < 0 || *req.Overlap > int64(provider.MaxSecretOverlap/time.Second) {
					return latchkey.Errorf(latchkey.EInvalidRequest, "overlap_seconds must be from 0 to %d.", int64(provider.MaxSecretOverlap/time.Second))
				}
				overlap = time.Duration(*req.Overlap) * time.Second
			}
		}
		secret, err := clients.RotateSecret(r.Context(), r.PathValue("id"), overlap, actor(p, s.meta(r)))
		if err != nil {
			return err
		}
		c, err := clients.Get(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		noStore(w)
		writeJSON(w, http.StatusOK, map[string]any{"client": toClientJSON(c, s.now()), "client_secret": secret.Reveal()})
		return nil
	}
}
