package server

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/provider"
)

// Resource servers and audiences (RFC 8707): registered by administrators;
// a client's token names its resource in aud; an API key may be bound to
// some; /v1/verify?audience= and introspection refuse what is not for the
// service asking.

type resourceJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

func (s *Server) handleAdminListResources() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		clients, err := s.clientsOrUnavailable()
		if err != nil {
			return err
		}
		list, err := clients.ListResources(r.Context())
		if err != nil {
			return err
		}
		out := make([]resourceJSON, 0, len(list))
		for _, x := range list {
			out = append(out, resourceJSON{ID: x.ID, Name: x.Name, CreatedAt: x.CreatedAt})
		}
		writeJSON(w, http.StatusOK, map[string]any{"resources": out})
		return nil
	}
}

type createResourceRequest struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (s *Server) handleAdminCreateResource() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		clients, err := s.clientsOrUnavailable()
		if err != nil {
			return err
		}
		req, err := decode[createResourceRequest](w, r)
		if err != nil {
			return err
		}
		x, err := clients.CreateResource(r.Context(), req.ID, req.Name, actor(p, s.meta(r)))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, resourceJSON{ID: x.ID, Name: x.Name, CreatedAt: x.CreatedAt})
		return nil
	}
}

func (s *Server) handleAdminDeleteResource() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		clients, err := s.clientsOrUnavailable()
		if err != nil {
			return err
		}
		if err := clients.DeleteResource(r.Context(), r.URL.Query().Get("id"), actor(p, s.meta(r))); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

type apiKeyAudiencesRequest struct {
	Audiences []string `json:"audiences"`
}

// handleSetAPIKeyAudiences binds one of the caller's API keys to services.
func (s *Server) handleSetAPIKeyAudiences() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		clients, err := s.clientsOrUnavailable()
		if err != nil {
			return err
		}
		req, err := decode[apiKeyAudiencesRequest](w, r)
		if err != nil {
			return err
		}
		if err := clients.SetAPIKeyAudiences(r.Context(), actor(p, s.meta(r)), r.PathValue("id"), req.Audiences, s.cfg.Audience); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": r.PathValue("id"), "audiences": nonNil(req.Audiences)})
		return nil
	}
}

var errNotForThisService = latchkey.Errorf(latchkey.EInvalidToken, "This credential is not for this service.")

// audienceAllows checks a credential latchkey authenticated against the
// audience a /v1/verify caller names (?audience=): latchkey's own tokens
// and sessions are for latchkey's audience; an API key bound to audiences
// is good only for those, and only where the service says who it is.
func (s *Server) audienceAllows(p *auth.Principal, r *http.Request) error {
	want := r.URL.Query().Get("audience")
	if p.APIKey != nil {
		if len(p.APIKey.Audiences) == 0 || slices.Contains(p.APIKey.Audiences, want) {
			return nil
		}
		return errNotForThisService
	}
	if want != "" && want != s.cfg.Audience {
		return errNotForThisService
	}
	return nil
}

// verifyClientToken answers /v1/verify?audience= for an access token the
// OpenID provider issued to a client: it must be live and for that
// audience. handled is false for any other credential.
func (s *Server) verifyClientToken(w http.ResponseWriter, r *http.Request) (handled bool, err error) {
	want := r.URL.Query().Get("audience")
	if s.provider == nil || want == "" || len(r.Header.Values("X-API-Key")) > 0 {
		return false, nil
	}
	raw, err := bearerToken(r)
	if err != nil || !provider.IsClientToken(raw) {
		return false, nil
	}
	in, err := s.provider.Introspect(r.Context(), raw)
	if err != nil {
		return true, err
	}
	if in == nil || in.TokenType != "access_token" || !slices.Contains(in.Audience, want) {
		return true, latchkey.Errorf(latchkey.EInvalidToken, "The access token is invalid, expired, or not for this service.")
	}
	scopes := strings.Fields(in.Scope)
	for _, sc := range r.URL.Query()["scope"] {
		if !slices.Contains(scopes, sc) {
			return true, latchkey.Errorf(latchkey.EForbidden, "This credential lacks the scope %s.", sc)
		}
	}
	if len(r.URL.Query()["role"]) > 0 {
		return true, latchkey.Errorf(latchkey.EForbidden, "A client's token carries no roles.")
	}
	for _, acr := range r.URL.Query()["acr"] {
		if !auth.MeetsACR(in.ACR, acr) {
			return true, errInsufficientAuthentication
		}
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set(HeaderAuthUserID, in.Subject)
	h.Set(HeaderAuthClientID, in.ClientID)
	h.Set(HeaderAuthScopes, strings.Join(scopes, ","))
	if in.SessionID != "" {
		h.Set(HeaderAuthSessionID, in.SessionID)
		h.Set(HeaderAuthACR, in.ACR)
		if len(in.AMR) > 0 {
			h.Set(HeaderAuthAMR, strings.Join(in.AMR, ","))
		}
	}
	w.WriteHeader(http.StatusOK)
	return true, nil
}

// HeaderAuthClientID names the OpenID client whose token /v1/verify checked.
const HeaderAuthClientID = "X-Auth-Client-Id"

// introspectionAllowed: a resource server whose API key is bound to
// audiences learns only of credentials meant for one of them.
func (s *Server) introspectionAllowed(caller *auth.Principal, aud []string) bool {
	if caller.APIKey == nil || len(caller.APIKey.Audiences) == 0 || len(aud) == 0 {
		return true // an unbound caller, or a key good for every service
	}
	for _, a := range aud {
		if slices.Contains(caller.APIKey.Audiences, a) {
			return true
		}
	}
	return false
}

// introspectedAudience is who a credential of latchkey's own is for: an
// API key's audiences (none: every service), latchkey's audience for its
// own tokens.
func (s *Server) introspectedAudience(r *http.Request, in *auth.Introspection) ([]string, error) {
	if in.TokenType != auth.TokenTypeAPIKey {
		return []string{s.cfg.Audience}, nil
	}
	if s.provider == nil {
		return nil, nil
	}
	return s.provider.APIKeyAudiences(r.Context(), in.APIKeyID)
}
