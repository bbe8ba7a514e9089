package server

import (
	"context"
	"net/http"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/web"
)

// The hosted pages' passkey forms. The page's script (web.PasskeyScriptPath)
// runs the ceremony with the browser and puts the credential in the form's
// "credential" field; these handlers finish it as any form is finished.

// badPasskey is the login page's one message for a refused passkey.
const badPasskey = "That passkey could not sign you in. Try again, or sign in with your password."

// handlePasskeyLoginForm signs a browser in with a passkey. Like the
// password form it is protected against cross-site submission, and a
// planted session is ended, not carried over.
func (s *Server) handlePasskeyLoginForm() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		form, err := parseForm(w, r)
		if err != nil {
			return err
		}
		returnTo, _ := s.pageRedirects.Safe(form.Get("return_to"))
		value, sess, err := s.auth.PasskeySignInCookie(r.Context(), []byte(form.Get("credential")), s.meta(r))
		switch code := latchkey.ErrorCode(err); {
		case code == latchkey.EInvalidCredentials || code == latchkey.EInvalidRequest || code == latchkey.EPayloadTooLarge:
			s.renderLogin(w, r, http.StatusUnauthorized, "", returnTo, badPasskey)
			return nil
		case err != nil:
			return err
		}
		if p, found, err := s.cookiePrincipal(r); found && err == nil && p.SessionID != sess.ID {
			if err := s.auth.Logout(r.Context(), p, auth.LogoutLocal, s.meta(r)); err != nil {
				return err
			}
		}
		s.setSessionCookie(w, value, sess)
		if returnTo == "" {
			returnTo = "/account"
		}
		s.seeOther(w, r, returnTo)
		return nil
	}
}

// handleAddPasskeyForm stores the passkey the account page's script
// registered (begun through POST /v1/me/passkeys/begin).
func (s *Server) handleAddPasskeyForm() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		form, err := parseForm(w, r)
		if err != nil {
			return err
		}
		_, err = s.auth.FinishPasskeyRegistration(r.Context(), p, []byte(form.Get("credential")), s.meta(r))
		switch code := latchkey.ErrorCode(err); {
		case err == nil:
			s.seeOther(w, r, "/account?done=passkey-added")
		case code == latchkey.EInvalidRequest || code == latchkey.EConflict || code == latchkey.EPayloadTooLarge:
			return s.renderAccount(w, r, p, problemStatus[code], func(v *web.AccountView) { v.PasskeyError = latchkey.ErrorMessage(err) })
		default:
			return err
		}
		return nil
	}
}

func (s *Server) handleRemovePasskeyForm() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		err := s.auth.RemovePasskey(r.Context(), p, r.PathValue("id"), s.meta(r))
		if latchkey.IsCode(err, latchkey.EConflict) {
			return s.renderAccount(w, r, p, http.StatusConflict, func(v *web.AccountView) { v.PasskeyError = latchkey.ErrorMessage(err) })
		}
		if err != nil {
			return err
		}
		s.seeOther(w, r, "/account?done=passkey-removed")
		return nil
	}
}

// handlePasskeyReauthenticateForm confirms a signed-in browser session
// with one of its user's passkeys, as the password form does.
func (s *Server) handlePasskeyReauthenticateForm() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		form, err := parseForm(w, r)
		if err != nil {
			return err
		}
		err = s.auth.ReauthenticateWithPasskey(r.Context(), p, []byte(form.Get("credential")), s.meta(r))
		switch code := latchkey.ErrorCode(err); {
		case err == nil:
			s.seeOther(w, r, "/account?done=reauthenticated")
		case code == latchkey.EInvalidCredentials || code == latchkey.EInvalidRequest || code == latchkey.EPayloadTooLarge:
			return s.renderAccount(w, r, p, problemStatus[code], func(v *web.AccountView) { v.ReauthError = latchkey.ErrorMessage(err) })
		default:
			return err
		}
		return nil
	}
}

// accountPasskeys fills the account page's passkeys card.
func (s *Server) accountPasskeys(ctx context.Context, userID string, v *web.AccountView) error {
	if v.PasskeysOn = s.auth.PasskeysEnabled(); !v.PasskeysOn {
		return nil
	}
	list, err := s.auth.ListPasskeys(ctx, userID)
	if err != nil {
		return err
	}
	for _, pk := range list {
		pv := web.PasskeyView{ID: pk.ID, Name: pk.Name, Synced: pk.BackupEligible != nil && *pk.BackupEligible, Created: pk.CreatedAt}
		if pk.LastUsedAt != nil {
			pv.LastUsed = *pk.LastUsedAt
		}
		v.Passkeys = append(v.Passkeys, pv)
	}
	return nil
}
