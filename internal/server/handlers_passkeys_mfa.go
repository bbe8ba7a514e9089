package server

import (
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
)

// A passkey as the second factor of a sign-in (the challenge's factors
// include "passkey"): begin with the mfa_token for request options, then
// finish with the mfa_token and the assertion, as POST /v1/auth/mfa/verify
// does with a code. The hosted login page's second step does the same
// with the mfa_token in its HttpOnly cookie.

type mfaPasskeyBeginRequest struct {
	MFAToken string `json:"mfa_token"`
}

type mfaPasskeyFinishRequest struct {
	MFAToken   string          `json:"mfa_token"`
	Credential json.RawMessage `json:"credential"`
}

func (r mfaPasskeyFinishRequest) Validate() error {
	if r.MFAToken == "" || len(r.Credential) == 0 {
		return latchkey.Errorf(latchkey.EInvalidRequest, "mfa_token and credential are required.")
	}
	return nil
}

func (s *Server) handleBeginMFAPasskey() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		req, err := decode[mfaPasskeyBeginRequest](w, r)
		if err != nil {
			return err
		}
		options, err := s.auth.BeginMFAPasskey(r.Context(), req.MFAToken, s.meta(r))
		if err != nil {
			return err
		}
		writeOptions(w, options)
		return nil
	}
}

// handleFinishMFAPasskey completes the sign-in; the account's limits and
// back-off apply as to a code.
func (s *Server) handleFinishMFAPasskey() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		req, err := decode[mfaPasskeyFinishRequest](w, r)
		if err != nil {
			return err
		}
		email, err := s.auth.MFAChallengeEmail(r.Context(), req.MFAToken)
		if err != nil {
			return err
		}
		attempt, ok := s.admitAccount(w, r, email)
		if !ok {
			return nil
		}
		t, err := s.auth.MFAPasskey(r.Context(), req.MFAToken, req.Credential, s.meta(r))
		attempt.done(w, r, err)
		if err != nil {
			return err
		}
		s.writeTokens(w, http.StatusOK, t)
		return nil
	}
}

// handleLoginMFAPasskeyBegin answers the hosted second step's script with
// request options for the sign-in whose mfa_token the browser's cookie
// holds (the script cannot read it).
func (s *Server) handleLoginMFAPasskeyBegin() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		c, err := r.Cookie(s.mfaCookieName())
		if err != nil {
			return latchkey.Errorf(latchkey.EInvalidGrant, "Your sign-in expired. Please sign in again.")
		}
		options, err := s.auth.BeginMFAPasskey(r.Context(), c.Value, s.meta(r))
		if err != nil {
			return err
		}
		writeOptions(w, options)
		return nil
	}
}

// handleLoginMFAPasskeyForm completes a hosted sign-in with a passkey as
// its second factor, as handleLoginMFAForm does with a code.
func (s *Server) handleLoginMFAPasskeyForm() handler {
	return s.loginSecondStep("attempts", func(r *http.Request, token string, form url.Values) (*auth.BrowserSignIn, error) {
		return s.auth.MFAPasskeyBrowser(r.Context(), token, []byte(form.Get("credential")), s.meta(r))
	})
}
