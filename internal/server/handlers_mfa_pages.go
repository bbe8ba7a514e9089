package server

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/provider"
	"github.com/latchkey/latchkey/internal/web"
)

// PageLoginMFA is the second step of a hosted sign-in.
const PageLoginMFA = "/login/mfa"

// The cookie that carries a hosted sign-in's mfa_token from its first step
// to its second: HttpOnly, so the token is never in a page, a URL or
// script's reach, and the second step works only in the browser that did
// the first (MF-04). SameSite=Lax: a social login's first step ends in a
// redirect from the provider.
const (
	MFACookieSecure   = "__Host-latchkey_mfa"
	MFACookieInsecure = "latchkey_mfa"
)

func (s *Server) mfaCookieName() string {
	if s.cfg.Secure() {
		return MFACookieSecure
	}
	return MFACookieInsecure
}

func (s *Server) setMFACookie(w http.ResponseWriter, c *auth.MFAChallenge) {
	http.SetCookie(w, &http.Cookie{Name: s.mfaCookieName(), Value: c.Token.Reveal(), Path: "/", HttpOnly: true,
		Secure: s.cfg.Secure(), SameSite: http.SameSiteLaxMode, MaxAge: int(secondsUntil(c.ExpiresAt, s.now()))})
	noStore(w)
}

func (s *Server) clearMFACookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.mfaCookieName(), Value: "", Path: "/", HttpOnly: true,
		Secure: s.cfg.Secure(), SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// askSecondFactor sends a browser whose first step succeeded to the second
// one, which then goes on to returnTo (a path, or a URL on latchkey's own
// origin, as a social login's redirect_to is).
func (s *Server) askSecondFactor(w http.ResponseWriter, r *http.Request, c *auth.MFAChallenge, returnTo string) {
	s.setMFACookie(w, c)
	if rest, ok := strings.CutPrefix(returnTo, s.cfg.Issuer); ok && strings.HasPrefix(rest, "/") {
		returnTo = rest
	}
	to := PageLoginMFA
	if returnTo, ok := s.pageRedirects.Safe(returnTo); ok {
		to += "?" + url.Values{"return_to": {returnTo}}.Encode()
	}
	s.seeOther(w, r, to)
}

// handleLoginMFAPage shows the second step, to a browser that holds a
// first step's cookie; any other is sent to sign in.
func (s *Server) handleLoginMFAPage() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		returnTo, _ := s.pageRedirects.Safe(r.URL.Query().Get("return_to"))
		if _, err := r.Cookie(s.mfaCookieName()); err != nil {
			s.seeOther(w, r, loginWithReturn(returnTo))
			return nil
		}
		return s.pages.LoginMFA(w, http.StatusOK, web.LoginMFAView{ReturnTo: returnTo, Recovery: true, Passkeys: s.auth.PasskeysEnabled(),
			FormTargets: s.providerFormTargets(r, returnTo)})
	}
}

func loginWithReturn(returnTo string) string {
	if returnTo == "" {
		return "/login"
	}
	return "/login?" + url.Values{"return_to": {returnTo}}.Encode()
}

// handleLoginMFAForm completes a hosted sign-in with a code or a recovery
// code. The account's limits and back-off apply as to the password.
func (s *Server) handleLoginMFAForm() handler {
	return s.loginSecondStep("codes", func(r *http.Request, token string, form url.Values) (*auth.BrowserSignIn, error) {
		proof := auth.MFAProof{Code: form.Get("code"), RecoveryCode: form.Get("recovery_code")}
		return s.auth.VerifyMFABrowser(r.Context(), token, proof, s.meta(r))
	})
}

// loginSecondStep is the hosted sign-in's second step, whatever proves it
// (a code, a recovery code, a passkey): the challenge rides in the MFA
// cookie, the account's limits and back-off apply as to the password, a
// wrong proof shows the step again, a dead challenge the login page, and
// success ends any session the browser had and sets the new one. what
// names the proofs in the dead challenge's message.
func (s *Server) loginSecondStep(what string,
	complete func(r *http.Request, token string, form url.Values) (*auth.BrowserSignIn, error)) handler {
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
		b, err := complete(r, c.Value, form)
		attempt.done(w, r, err)
		switch code := latchkey.ErrorCode(err); {
		case err == nil:
		case code == latchkey.EInvalidMFACode || code == latchkey.EInvalidRequest || code == latchkey.EPayloadTooLarge:
			return s.pages.LoginMFA(w, problemStatus[code], web.LoginMFAView{ReturnTo: returnTo, Recovery: true,
				Passkeys: s.auth.PasskeysEnabled(), Error: latchkey.ErrorMessage(err), FormTargets: s.providerFormTargets(r, returnTo)})
		case code == latchkey.EInvalidGrant:
			s.clearMFACookie(w)
			s.renderLogin(w, r, http.StatusUnauthorized, "", returnTo, "Your sign-in expired or saw too many wrong "+what+". Please sign in again.")
			return nil
		default:
			return err
		}
		s.clearMFACookie(w)
		// As after a password: a session the browser already had is ended.
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

// accountMFA fills the account page's two-step sign-in section.
func (s *Server) accountMFA(ctx context.Context, p *auth.Principal, v *web.AccountView) error {
	st, err := s.auth.MFA(ctx, p.User.ID)
	if err != nil {
		return err
	}
	active := 0
	for _, f := range st.TOTP {
		if f.Confirmed() {
			active++
		}
	}
	v.MFA.Enabled, v.MFA.RecoveryCodesLeft = active > 0, st.RecoveryCodesLeft
	v.MFA.StepUp = active > 0 && p.ACR() != auth.ACRMultiFactor
	for _, f := range st.TOTP {
		fv := web.FactorView{ID: f.ID, Name: f.Name, Created: f.CreatedAt, Confirmed: f.Confirmed(),
			NeedsCode: f.Confirmed() && active == 1}
		if f.LastUsedAt != nil {
			fv.LastUsed = *f.LastUsedAt
		}
		v.MFA.Factors = append(v.MFA.Factors, fv)
	}
	return nil
}

// mfaFormFailed shows a refused two-step form on the account page, or
// fails as any page does.
func (s *Server) mfaFormFailed(w http.ResponseWriter, r *http.Request, p *auth.Principal, err error) error {
	switch code := latchkey.ErrorCode(err); code {
	case latchkey.EInvalidMFACode, latchkey.EInsufficientAuthentication, latchkey.EConflict, latchkey.EInvalidRequest, latchkey.ENotFound:
		return s.renderAccount(w, r, p, problemStatus[code], func(v *web.AccountView) { v.MFA.Error = latchkey.ErrorMessage(err) })
	}
	return err
}

// handleEnrollTOTPForm starts adding an authenticator from the account
// page: the QR code and the form for its first code.
func (s *Server) handleEnrollTOTPForm() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		form, err := parseForm(w, r)
		if err != nil {
			return err
		}
		e, err := s.auth.EnrollTOTP(r.Context(), p, form.Get("name"), s.meta(r))
		if err != nil {
			return s.mfaFormFailed(w, r, p, err)
		}
		return s.pages.MFAEnroll(w, http.StatusCreated, enrollView(e, ""))
	}
}

func enrollView(e *auth.TOTPEnrollment, msg string) web.MFAEnrollView {
	// The SVG is latchkey's own drawing of the URI (a path of squares): no
	// text of anyone else's is in it.
	return web.MFAEnrollView{ID: e.Factor.ID, Name: e.Factor.Name, Secret: e.Secret.Base32(), URI: e.URI,
		QRSVG: template.HTML(e.QRSVG), Error: msg}
}

// handleConfirmTOTPForm activates the authenticator with its first code; a
// wrong code shows the QR code again.
func (s *Server) handleConfirmTOTPForm() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		form, err := parseForm(w, r)
		if err != nil {
			return err
		}
		id := r.PathValue("id")
		c, err := s.auth.ConfirmTOTP(r.Context(), p, id, form.Get("code"), s.meta(r))
		if code := latchkey.ErrorCode(err); code == latchkey.EInvalidMFACode || code == latchkey.EInvalidRequest {
			e, perr := s.auth.PendingTOTP(r.Context(), p, id)
			if perr != nil {
				return s.mfaFormFailed(w, r, p, perr)
			}
			return s.pages.MFAEnroll(w, problemStatus[code], enrollView(e, latchkey.ErrorMessage(err)))
		}
		if err != nil {
			return s.mfaFormFailed(w, r, p, err)
		}
		if c.RecoveryCodes != nil {
			return s.pages.RecoveryCodes(w, web.RecoveryCodesView{Codes: c.RecoveryCodes, First: true})
		}
		s.seeOther(w, r, "/account?done=mfa-added")
		return nil
	}
}

// handleRemoveTOTPForm removes an authenticator; the form's one code field
// takes a current code or a recovery code.
func (s *Server) handleRemoveTOTPForm() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		form, err := parseForm(w, r)
		if err != nil {
			return err
		}
		before, err := s.auth.HasMFA(r.Context(), p.User.ID)
		if err != nil {
			return err
		}
		if err := s.auth.RemoveTOTP(r.Context(), p, r.PathValue("id"), formProof(form.Get("code")), s.meta(r)); err != nil {
			return s.mfaFormFailed(w, r, p, err)
		}
		after, err := s.auth.HasMFA(r.Context(), p.User.ID)
		if err != nil {
			return err
		}
		done := "mfa-removed"
		if before && !after {
			done = "mfa-off"
		}
		s.seeOther(w, r, "/account?done="+done)
		return nil
	}
}

// formProof reads one code field: digits are a TOTP code, anything else a
// recovery code.
func formProof(code string) auth.MFAProof {
	code = strings.TrimSpace(code)
	if code == "" {
		return auth.MFAProof{}
	}
	if strings.Trim(strings.ReplaceAll(code, " ", ""), "0123456789") == "" {
		return auth.MFAProof{Code: code}
	}
	return auth.MFAProof{RecoveryCode: code}
}

// handleRecoveryCodesForm makes a new set of recovery codes and shows it once.
func (s *Server) handleRecoveryCodesForm() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		codes, err := s.auth.RegenerateRecoveryCodes(r.Context(), p, s.meta(r))
		if err != nil {
			return s.mfaFormFailed(w, r, p, err)
		}
		return s.pages.RecoveryCodes(w, web.RecoveryCodesView{Codes: codes})
	}
}

// handleStepUpForm proves a second factor for the page's session (a
// session from before the authenticator was added). The console's form
// names a console page to go back to (return_to).
func (s *Server) handleStepUpForm() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		form, err := parseForm(w, r)
		if err != nil {
			return err
		}
		back := consoleReturn(form.Get("return_to"))
		authz := s.authorizationReturn(form.Get("return_to"))
		attempt, ok := s.admitAccount(w, r, p.User.Email)
		if !ok {
			return nil
		}
		_, err = s.auth.StepUp(r.Context(), p, formProof(form.Get("code")), s.meta(r))
		attempt.done(w, r, err)
		if authz != "" {
			// The provider's step-up page: a wrong code shows it again;
			// a verified one goes back to the authorization.
			if code := latchkey.ErrorCode(err); code == latchkey.EInvalidMFACode || code == latchkey.EInvalidRequest {
				v := web.ProviderStepUpView{Email: p.User.Email, ReturnTo: authz, Error: latchkey.ErrorMessage(err)}
				q, _ := url.ParseQuery(strings.TrimPrefix(authz, provider.PathContinue+"?"))
				v.FormTargets, v.ClientHost = s.providerTargets(r, q.Get("id"))
				return s.pages.ProviderStepUp(w, problemStatus[code], v)
			}
			if err != nil {
				return s.mfaFormFailed(w, r, p, err)
			}
			s.seeOther(w, r, authz)
			return nil
		}
		if code := latchkey.ErrorCode(err); back != "" && (code == latchkey.EInvalidMFACode || code == latchkey.EInvalidRequest) {
			return s.pages.ConsoleMFA(w, problemStatus[code], web.ConsoleMFAPage{ReturnTo: back, Error: latchkey.ErrorMessage(err)})
		}
		if err != nil {
			return s.mfaFormFailed(w, r, p, err)
		}
		if back == "" {
			back = "/account?done=mfa-verified"
		}
		s.seeOther(w, r, back)
		return nil
	}
}
