package server

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/provider"
	"github.com/latchkey/latchkey/internal/web"
)

// The console's OAuth clients: the same provider.Clients methods as
// /v1/admin/clients, so the same checks and audit events. Creating a
// client and rotating its secret mint a credential, and deleting one ends
// every app's access through it: they need a fresh sign-in, like the API's
// adminMinting.

func consoleClientPath(id string) string { return web.ConsolePath + "/clients/" + url.PathEscape(id) }

func clientRow(c *latchkey.Client, j clientJSON) web.ClientRow {
	v := web.ClientRow{ID: c.ID, Name: c.Name, Type: c.Type, AuthMethod: c.AuthMethod, FirstParty: c.FirstParty,
		GrantTypes: c.GrantTypes, Scopes: c.Scopes, Resources: c.Resources, RedirectURIs: c.RedirectURIs,
		PostLogoutURIs: c.PostLogoutRedirectURIs, Created: c.CreatedAt, Updated: c.UpdatedAt}
	if j.PreviousSecretExpires != nil {
		v.PreviousSecretExpires = *j.PreviousSecretExpires
	}
	return v
}

func (s *Server) consoleClientRow(c *latchkey.Client) web.ClientRow {
	return clientRow(c, toClientJSON(c, s.now()))
}

// lines splits a textarea into its non-empty lines.
func lines(v string) []string {
	var out []string
	for l := range strings.Lines(v) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (s *Server) handleConsoleClients() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		return s.renderConsoleClients(w, r, p, http.StatusOK, web.ClientForm{Type: latchkey.ClientConfidential}, "")
	}
}

func (s *Server) renderConsoleClients(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, form web.ClientForm, refusal string) error {
	return s.renderClientsPage(w, r, p, status, web.ClientsPage{Form: form}, refusal)
}

// renderClientsPage shows the clients and resource servers, with v's
// forms as they were sent and the refusal of one when there was one.
func (s *Server) renderClientsPage(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, v web.ClientsPage, refusal string) error {
	v.Console, v.NeedsReauth, v.ReturnTo = s.console(r, p, web.SectionClients), !s.fresh(p), web.ConsolePath+"/clients"
	if refusal != "" {
		v.Notice, v.Error = "", refusal
	}
	if s.clients == nil {
		v.Unavailable = true
		return s.pages.ConsoleClients(w, status, v)
	}
	list, err := s.clients.List(r.Context())
	if err != nil {
		return err
	}
	for i := range list {
		v.Clients = append(v.Clients, s.consoleClientRow(&list[i]))
	}
	resources, err := s.clients.ListResources(r.Context())
	if err != nil {
		return err
	}
	for _, x := range resources {
		v.Resources = append(v.Resources, web.ResourceRow{ID: x.ID, Name: x.Name, Created: x.CreatedAt})
	}
	return s.pages.ConsoleClients(w, status, v)
}

// handleConsoleCreateClient creates a client from the form and shows its
// secret, this once.
func (s *Server) handleConsoleCreateClient() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		clients, err := s.clientsOrUnavailable()
		if err != nil {
			return err
		}
		form, err := parseForm(w, r)
		if err != nil {
			return err
		}
		f := web.ClientForm{Name: strings.TrimSpace(form.Get("name")), Type: form.Get("type"), AuthMethod: form.Get("token_endpoint_auth_method"),
			RedirectURIs: form.Get("redirect_uris"), PostLogoutURIs: form.Get("post_logout_redirect_uris"), Scopes: form.Get("scopes"),
			GrantTypes: form["grant_types"], FirstParty: form.Get("first_party") == "on"}
		in := provider.ClientInput{Name: f.Name, Type: f.Type, AuthMethod: f.AuthMethod, RedirectURIs: lines(f.RedirectURIs),
			PostLogoutRedirectURIs: lines(f.PostLogoutURIs), GrantTypes: slices.Clone(f.GrantTypes), Scopes: strings.Fields(f.Scopes),
			FirstParty: f.FirstParty}
		c, secret, err := clients.Create(r.Context(), in, actor(p, s.meta(r)))
		if code := latchkey.ErrorCode(err); err != nil && (code == latchkey.EInvalidRequest || code == latchkey.EConflict) {
			return s.renderConsoleClients(w, r, p, problemStatus[code], f, latchkey.ErrorMessage(err))
		}
		if err != nil {
			return err
		}
		v := web.ClientSecretPage{Console: s.console(r, p, web.SectionClients), Client: s.consoleClientRow(c)}
		if secret != "" {
			v.Secret = secret.Reveal()
		}
		return s.pages.ConsoleClientSecret(w, http.StatusCreated, v)
	}
}

func (s *Server) handleConsoleClient() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		clients, err := s.clientsOrUnavailable()
		if err != nil {
			return err
		}
		c, err := clients.Get(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		return s.pages.ConsoleClient(w, web.ClientPage{Console: s.console(r, p, web.SectionClients), Client: s.consoleClientRow(c)})
	}
}

// consoleClientActions are what a client's confirmation page confirms.
var consoleClientActions = map[string]struct{ label, explain string }{
	"rotate-secret": {"Rotate the secret", "A new secret is made and shown once. The current one keeps working for " +
		provider.DefaultSecretOverlap.String() + ", so the application can switch to the new one; then it stops working."},
	"delete": {"Delete the client", "The application can no longer sign anyone in: its tokens, refresh tokens and grants stop " +
		"working at once. This cannot be undone; the audit log keeps its events."},
}

func (s *Server) handleConsoleClientConfirm() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		name := r.URL.Query().Get("action")
		a, ok := consoleClientActions[name]
		if !ok {
			return latchkey.Errorf(latchkey.ENotFound, "There is no such action to confirm.")
		}
		clients, err := s.clientsOrUnavailable()
		if err != nil {
			return err
		}
		c, err := clients.Get(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		return s.pages.ConsoleClientConfirm(w, web.ClientConfirmPage{Console: s.console(r, p, web.SectionClients), Client: s.consoleClientRow(c),
			Action:      web.ConsoleAction{Name: name, Label: a.label, URL: consoleClientPath(c.ID) + "/" + name, Confirm: true, Danger: true},
			Explanation: a.explain, NeedsReauth: !s.fresh(p), ReturnTo: r.URL.RequestURI()})
	}
}

// confirmed reports whether a client action's form came from its
// confirmation page; if not, it sends the browser there.
func (s *Server) confirmed(w http.ResponseWriter, r *http.Request, name string) (bool, error) {
	form, err := parseForm(w, r)
	if err != nil {
		return false, err
	}
	if form.Get("confirm") != name {
		s.seeOther(w, r, consoleClientPath(r.PathValue("id"))+"/confirm?"+url.Values{"action": {name}}.Encode())
		return false, nil
	}
	return true, nil
}

func (s *Server) handleConsoleRotateClientSecret() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		clients, err := s.clientsOrUnavailable()
		if err != nil {
			return err
		}
		if ok, err := s.confirmed(w, r, "rotate-secret"); !ok || err != nil {
			return err
		}
		id := r.PathValue("id")
		secret, err := clients.RotateSecret(r.Context(), id, provider.DefaultSecretOverlap, actor(p, s.meta(r)))
		if err != nil {
			return err
		}
		c, err := clients.Get(r.Context(), id)
		if err != nil {
			return err
		}
		return s.pages.ConsoleClientSecret(w, http.StatusOK, web.ClientSecretPage{Console: s.console(r, p, web.SectionClients),
			Client: s.consoleClientRow(c), Secret: secret.Reveal(), Rotated: true})
	}
}

func (s *Server) handleConsoleDeleteClient() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		clients, err := s.clientsOrUnavailable()
		if err != nil {
			return err
		}
		if ok, err := s.confirmed(w, r, "delete"); !ok || err != nil {
			return err
		}
		if err := clients.Delete(r.Context(), r.PathValue("id"), actor(p, s.meta(r))); err != nil {
			return err
		}
		s.seeOther(w, r, web.ConsolePath+"/clients?done=client-deleted")
		return nil
	}
}

// handleConsoleCreateResource registers a resource server, as POST
// /v1/admin/resources.
func (s *Server) handleConsoleCreateResource() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		clients, err := s.clientsOrUnavailable()
		if err != nil {
			return err
		}
		form, err := parseForm(w, r)
		if err != nil {
			return err
		}
		in := web.ResourceRow{ID: strings.TrimSpace(form.Get("id")), Name: strings.TrimSpace(form.Get("name"))}
		_, err = clients.CreateResource(r.Context(), in.ID, in.Name, actor(p, s.meta(r)))
		if code := latchkey.ErrorCode(err); err != nil && (code == latchkey.EInvalidRequest || code == latchkey.EConflict) {
			return s.renderClientsPage(w, r, p, problemStatus[code], web.ClientsPage{Form: web.ClientForm{Type: latchkey.ClientConfidential},
				Resource: in}, latchkey.ErrorMessage(err))
		}
		if err != nil {
			return err
		}
		s.seeOther(w, r, web.ConsolePath+"/clients?done=resource-created#resources")
		return nil
	}
}

// handleConsoleDeleteResource removes a resource server, as DELETE
// /v1/admin/resources; it needs a fresh sign-in, like a client's removal.
func (s *Server) handleConsoleDeleteResource() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		clients, err := s.clientsOrUnavailable()
		if err != nil {
			return err
		}
		form, err := parseForm(w, r)
		if err != nil {
			return err
		}
		err = clients.DeleteResource(r.Context(), form.Get("id"), actor(p, s.meta(r)))
		if code := latchkey.ErrorCode(err); err != nil && (code == latchkey.EInvalidRequest || code == latchkey.EConflict) {
			return s.renderClientsPage(w, r, p, problemStatus[code], web.ClientsPage{Form: web.ClientForm{Type: latchkey.ClientConfidential}},
				latchkey.ErrorMessage(err))
		}
		if err != nil {
			return err
		}
		s.seeOther(w, r, web.ConsolePath+"/clients?done=resource-deleted#resources")
		return nil
	}
}
