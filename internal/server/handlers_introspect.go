package server

import (
	"mime"
	"net/http"
	"net/url"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/jsonx"
	"github.com/latchkey/latchkey/internal/provider"
)

// introspectRequest is an RFC 7662 request; token_type_hint is accepted
// and ignored (the token's shape tells its type).
type introspectRequest struct {
	Token         string `json:"token"`
	TokenTypeHint string `json:"token_type_hint,omitempty"`
}

// introspectResponse is an RFC 7662 answer. An inactive token gets
// {"active":false} and nothing else.
type introspectResponse struct {
	Active    bool     `json:"active"`
	Sub       string   `json:"sub,omitempty"`
	Exp       int64    `json:"exp,omitempty"`
	Iat       int64    `json:"iat,omitempty"`
	Scope     string   `json:"scope,omitempty"`
	TokenType string   `json:"token_type,omitempty"`
	Sid       string   `json:"sid,omitempty"`
	Roles     []string `json:"roles,omitempty"`
	APIKeyID  string   `json:"api_key_id,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	Aud       []string `json:"aud,omitempty"`
	AMR       []string `json:"amr,omitempty"`
	ACR       string   `json:"acr,omitempty"`
}

// handleIntrospect answers POST /v1/introspect for a caller that
// authenticated with an API key holding the introspect scope.
func (s *Server) handleIntrospect() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		req, err := decodeIntrospection(w, r)
		if err != nil {
			return err
		}
		noStore(w)
		var in *auth.Introspection
		if s.provider == nil || !provider.IsClientToken(req.Token) {
			if in, err = s.auth.Introspect(r.Context(), req.Token); err != nil {
				return err
			}
		}
		if in == nil && s.provider != nil {
			// Not latchkey's own: perhaps a token of an OpenID client.
			ci, err := s.provider.Introspect(r.Context(), req.Token)
			if err != nil {
				return err
			}
			if ci != nil && s.introspectionAllowed(p, ci.Audience) {
				writeJSON(w, http.StatusOK, introspectResponse{Active: true, Sub: ci.Subject, Scope: ci.Scope, TokenType: ci.TokenType,
					Sid: ci.SessionID, ClientID: ci.ClientID, Aud: ci.Audience, Exp: ci.ExpiresAt.Unix(), Iat: ci.IssuedAt.Unix(),
					AMR: ci.AMR, ACR: ci.ACR})
				return nil
			}
		}
		out := introspectResponse{}
		var aud []string
		if in != nil {
			if aud, err = s.introspectedAudience(r, in); err != nil {
				return err
			}
		}
		if in != nil && s.introspectionAllowed(p, aud) {
			out = introspectResponse{Active: true, Sub: in.Subject, Scope: in.Scope, TokenType: in.TokenType,
				Sid: in.SessionID, Roles: in.Roles, APIKeyID: in.APIKeyID, AMR: in.AMR, ACR: in.ACR, Aud: aud}
			if out.Roles == nil {
				out.Roles = []string{}
			}
			if !in.ExpiresAt.IsZero() {
				out.Exp = in.ExpiresAt.Unix()
			}
			if !in.IssuedAt.IsZero() {
				out.Iat = in.IssuedAt.Unix()
			}
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

// decodeIntrospection reads the form (RFC 7662 §2.1) or JSON body. The
// token is read only from the body, never the URL.
func decodeIntrospection(w http.ResponseWriter, r *http.Request) (introspectRequest, error) {
	var req introspectRequest
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/x-www-form-urlencoded" && mt != "application/json") {
		return req, latchkey.Errorf(latchkey.EUnsupportedMediaType, "Send a form (application/x-www-form-urlencoded) or JSON.")
	}
	data, err := readBody(w, r)
	if err != nil {
		return req, err
	}
	if mt == "application/json" {
		if err := jsonx.Decode(data, &req); err != nil {
			return req, err
		}
	} else {
		form, err := url.ParseQuery(string(data))
		if err != nil {
			return req, latchkey.Errorf(latchkey.EInvalidRequest, "The form could not be parsed.")
		}
		for _, vs := range form {
			if len(vs) > 1 {
				return req, latchkey.Errorf(latchkey.EInvalidRequest, "A form field is given more than once.")
			}
		}
		req.Token, req.TokenTypeHint = form.Get("token"), form.Get("token_type_hint")
	}
	if req.Token == "" {
		return req, latchkey.Errorf(latchkey.EInvalidRequest, "token is required.")
	}
	return req, nil
}
