package server

import (
	"net/http"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/provider"
	"github.com/latchkey/latchkey/internal/web"
)

// The /device page (RFC 8628 §3.3): a signed-in user enters the code a
// device shows, sees which app asks, and allows or refuses.

func (s *Server) renderDevice(w http.ResponseWriter, r *http.Request, status int, v web.DeviceView) error {
	if err := s.pages.Device(w, status, v); err != nil {
		s.log.ErrorContext(r.Context(), "rendering the device page", "err", err)
	}
	return nil
}

func (s *Server) handleDevicePage() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		if s.provider == nil {
			return errNoSuchEndpoint
		}
		// verification_uri_complete carries the code: shown, never spent.
		return s.renderDevice(w, r, http.StatusOK, web.DeviceView{UserCode: limitString(r.URL.Query().Get("user_code"), 32)})
	}
}

func (s *Server) handleDeviceForm() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		if s.provider == nil {
			return errNoSuchEndpoint
		}
		form, err := parseForm(w, r)
		if err != nil {
			return err
		}
		typed := limitString(form.Get("user_code"), 32)
		req, _, err := s.provider.LookupUserCode(r.Context(), typed)
		if latchkey.IsCode(err, latchkey.EInvalidRequest) {
			return s.renderDevice(w, r, http.StatusBadRequest, web.DeviceView{UserCode: typed, Error: latchkey.ErrorMessage(err)})
		}
		if err != nil {
			return err
		}
		v := web.DeviceView{UserCode: req.UserCode, ClientName: req.Client.Name, Email: p.User.Email}
		for _, sc := range req.Scopes {
			v.Scopes = append(v.Scopes, web.ScopeView{Name: sc, Description: scopeDescription(sc)})
		}
		return s.renderDevice(w, r, http.StatusOK, v)
	}
}

func (s *Server) handleDeviceApprove() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		if s.provider == nil {
			return errNoSuchEndpoint
		}
		form, err := parseForm(w, r)
		if err != nil {
			return err
		}
		var approve bool
		switch form.Get("decision") {
		case "allow":
			approve = true
		case "deny":
		default:
			return latchkey.Errorf(latchkey.EInvalidRequest, "Choose Allow or Deny.")
		}
		typed := limitString(form.Get("user_code"), 32)
		err = s.provider.AnswerDevice(provider.WithMeta(r.Context(), s.meta(r)), typed, p, approve)
		if latchkey.IsCode(err, latchkey.EInvalidRequest) {
			return s.renderDevice(w, r, http.StatusBadRequest, web.DeviceView{UserCode: typed, Error: latchkey.ErrorMessage(err)})
		}
		if err != nil {
			return err
		}
		return s.renderDevice(w, r, http.StatusOK, web.DeviceView{Done: true, Approved: approve})
	}
}
