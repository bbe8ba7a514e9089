package server

import (
	"encoding/json"
	"net/http"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/web"
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
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		form, err := parseForm(w, r)
		if err != nil {
			return err
		}
		returnTo, _ := s.pageRedirects.Safe(form.Get("return_to"))
		c, cerr := r.Cookie(s.mfaCookieName())
		if cerr != nil {
			s.renderLogin(w, r, http.StatusUnauthorized, "", returnTo, "Your sign-in expired. Please sign in again.")
			return nil
		}
		email, err := s.auth.MFAChallengeEmail(r.Context(), c.Value)
		if err != nil {
			return err
		}
		attempt, ok := s.admitAccount(w, r, email)
		if !ok {
			return nil
		}
		b, err := s.auth.MFAPasskeyBrowser(r.Context(), c.Value, []byte(form.Get("credential")), s.meta(r))
		attempt.done(w, r, err)
		switch code := latchkey.ErrorCode(err); {
		case err == nil:
		case code == latchkey.EInvalidMFACode || code == latchkey.EInvalidRequest || code == latchkey.EPayloadTooLarge:
			return s.pages.LoginMFA(w, problemStatus[code], web.LoginMFAView{ReturnTo: returnTo, Recovery: true,
				Passkeys: s.auth.PasskeysEnabled(), Error: latchkey.ErrorMessage(err), FormTargets: s.providerFormTargets(r, returnTo)})
		case code == latchkey.EInvalidGrant:
			s.clearMFACookie(w)
			s.renderLogin(w, r, http.StatusUnauthorized, "", returnTo, "Your sign-in expired or saw too many wrong attempts. Please sign in again.")
			return nil
		default:
			return err
		}
		s.clearMFACookie(w)
		if p, found, err := s.cookiePrincipal(r); found && err == nil {
			if err := s.auth.Logout(r.Context(), p, auth.LogoutLocal, s.meta(r)); err != nil {
				return err
			}
		}
		s.setSessionCookie(w, b.Cookie, b.Session)
		if returnTo == "" {
			returnTo = "/account"
		}
		s.seeOther(w, r, returnTo)
		return nil
	}
}
