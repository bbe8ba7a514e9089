package server

import (
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/web"
)

// maxFormBytes bounds a hosted-page form body.
const maxFormBytes = 64 << 10

// badLogin is the one message for every failed sign-in, so the page tells
// nobody whether an email has an account.
const badLogin = "Incorrect email or password."

func (s *Server) handleLoginPage() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		returnTo, _ := s.pageRedirects.Safe(r.URL.Query().Get("return_to"))
		s.renderLogin(w, r, http.StatusOK, "", returnTo, "")
		return nil
	}
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, email, returnTo, msg string) {
	v := web.LoginView{Email: email, ReturnTo: returnTo, Error: msg, Providers: web.Providers(s.providers, s.providerReturn(returnTo)),
		EmailSignIn: s.auth.EmailSignInEnabled(), Passkeys: s.auth.PasskeysEnabled(), FormTargets: s.providerFormTargets(r, returnTo)}
	if err := s.pages.Login(w, status, v); err != nil {
		s.log.ErrorContext(r.Context(), "rendering the login page", "err", err)
	}
}

// providerReturn is where a social login started on the login page comes
// back to: the page's return_to, made absolute on latchkey's own origin
// when it is a path (a social login's redirect_to is always absolute), or
// the account page.
func (s *Server) providerReturn(returnTo string) string {
	switch {
	case returnTo == "":
		return s.cfg.Issuer + "/account"
	case strings.HasPrefix(returnTo, "/"):
		return s.cfg.Issuer + returnTo
	}
	return returnTo
}

// handleLoginForm signs a browser in. The form itself is protected
// against cross-site submission (login CSRF), and a successful sign-in
// always gets a new session and cookie (no session fixation).
func (s *Server) handleLoginForm() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		form, err := parseForm(w, r)
		if err != nil {
			return err
		}
		email, pw := form.Get("email"), form.Get("password")
		returnTo, _ := s.pageRedirects.Safe(form.Get("return_to"))
		attempt, ok := s.admitAccount(w, r, email)
		if !ok {
			return nil
		}
		u, err := s.auth.CheckPassword(r.Context(), email, pw, s.meta(r))
		if err != nil {
			attempt.done(w, r, err)
		}
		if latchkey.IsCode(err, latchkey.EInvalidCredentials) || latchkey.IsCode(err, latchkey.EInvalidRequest) {
			s.renderLogin(w, r, http.StatusUnauthorized, limitString(email, 254), returnTo, badLogin)
			return nil
		}
		if err != nil {
			return err
		}
		// A session the browser already had (perhaps planted) is ended, not
		// carried over: the cookie set below is a new one.
		if p, found, err := s.cookiePrincipal(r); found && err == nil {
			if err := s.auth.Logout(r.Context(), p, auth.LogoutLocal, s.meta(r)); err != nil {
				return err
			}
		}
		b, err := s.auth.SignInBrowser(r.Context(), u, s.meta(r), auth.SignInPassword)
		if err != nil {
			return err
		}
		if b.Challenge != nil {
			// The sign-in's outcome, for the back-off, is the second factor's.
			s.askSecondFactor(w, r, b.Challenge, returnTo)
			return nil
		}
		attempt.done(w, r, nil)
		s.setSessionCookie(w, b.Cookie, b.Session)
		if returnTo == "" {
			returnTo = "/account"
		}
		s.seeOther(w, r, returnTo)
		return nil
	}
}

func (s *Server) handleAccountPage() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		return s.renderAccount(w, r, p, http.StatusOK, func(v *web.AccountView) { v.Notice = web.Notices[r.URL.Query().Get("done")] })
	}
}

// renderAccount shows the account page; edit adds the outcome of a form.
func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, edit func(*web.AccountView)) error {
	sessions, err := s.auth.ListSessions(r.Context(), p.User.ID)
	if err != nil {
		return err
	}
	keys, err := s.auth.ListAPIKeys(r.Context(), p.User.ID)
	if err != nil {
		return err
	}
	v := web.AccountView{Email: p.User.Email, Name: p.User.Name, Roles: p.User.Roles, MinPasswordLength: s.cfg.PasswordMinLength,
		NeedsReauth: !s.fresh(p)}
	for _, x := range sessions {
		ua := x.UserAgent
		if ua == "" {
			ua = "Unknown device"
		}
		v.Sessions = append(v.Sessions, web.SessionView{ID: x.ID, UserAgent: ua, IP: x.IP, Created: x.CreatedAt,
			LastUsed: x.LastUsedAt, Current: x.ID == p.SessionID})
	}
	for _, k := range keys {
		kv := web.APIKeyView{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Created: k.CreatedAt}
		if k.LastUsedAt != nil {
			kv.LastUsed = *k.LastUsedAt
		}
		if k.ExpiresAt != nil {
			kv.Expires = *k.ExpiresAt
		}
		v.APIKeys = append(v.APIKeys, kv)
	}
	if err := s.accountIdentities(r.Context(), p.User.ID, &v); err != nil {
		return err
	}
	if err := s.accountMFA(r.Context(), p, &v); err != nil {
		return err
	}
	if err := s.accountPasskeys(r.Context(), p.User.ID, &v); err != nil {
		return err
	}
	if err := s.accountApps(r, p.User.ID, &v); err != nil {
		return err
	}
	if edit != nil {
		edit(&v)
	}
	if err := s.pages.Account(w, status, v); err != nil {
		s.log.ErrorContext(r.Context(), "rendering the account page", "err", err)
	}
	return nil
}

func (s *Server) handleLogoutForm() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		p, found, err := s.cookiePrincipal(r)
		if latchkey.IsCode(err, latchkey.EForbidden) {
			return err
		}
		if found && err == nil {
			if err := s.auth.Logout(r.Context(), p, auth.LogoutLocal, s.meta(r)); err != nil {
				return err
			}
		}
		s.clearSessionCookie(w)
		s.seeOther(w, r, "/login")
		return nil
	}
}

func (s *Server) handleRevokeSessionForm() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		id := r.PathValue("id")
		if err := s.auth.RevokeSession(r.Context(), p.User.ID, id, s.meta(r)); err != nil {
			return err
		}
		if id == p.SessionID {
			s.clearSessionCookie(w)
			s.seeOther(w, r, "/login")
			return nil
		}
		s.seeOther(w, r, "/account?done=session-revoked")
		return nil
	}
}

func (s *Server) handleRevokeOthersForm() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		if err := s.auth.Logout(r.Context(), p, auth.LogoutOthers, s.meta(r)); err != nil {
			return err
		}
		s.seeOther(w, r, "/account?done=others-revoked")
		return nil
	}
}

func (s *Server) handleCreateKeyForm() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		form, err := parseForm(w, r)
		if err != nil {
			return err
		}
		ak, key, err := s.auth.CreateAPIKey(r.Context(), p, auth.APIKeyInput{Name: strings.TrimSpace(form.Get("name"))}, s.meta(r))
		if latchkey.IsCode(err, latchkey.EInvalidRequest) {
			return s.renderAccount(w, r, p, http.StatusBadRequest, func(v *web.AccountView) { v.Error = latchkey.ErrorMessage(err) })
		}
		if err != nil {
			return err
		}
		if err := s.pages.KeyCreated(w, web.KeyCreatedView{Name: ak.Name, Key: key.Reveal()}); err != nil {
			s.log.ErrorContext(r.Context(), "rendering the new key page", "err", err)
		}
		return nil
	}
}

func (s *Server) handleRevokeKeyForm() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		if err := s.auth.RevokeAPIKey(r.Context(), p, r.PathValue("id"), s.meta(r)); err != nil {
			return err
		}
		s.seeOther(w, r, "/account?done=key-revoked")
		return nil
	}
}

func (s *Server) handleChangePasswordForm() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		form, err := parseForm(w, r)
		if err != nil {
			return err
		}
		err = s.auth.ChangePassword(r.Context(), p, auth.PasswordChange{Current: form.Get("current_password"),
			New: form.Get("new_password"), RevokeAPIKeys: form.Get("revoke_api_keys") == "on"}, s.meta(r))
		switch code := latchkey.ErrorCode(err); {
		case err == nil:
			s.seeOther(w, r, "/account?done=password")
		case code == latchkey.EInvalidCredentials || code == latchkey.EWeakPassword || code == latchkey.EInvalidRequest:
			return s.renderAccount(w, r, p, problemStatus[code], func(v *web.AccountView) { v.PasswordError = latchkey.ErrorMessage(err) })
		default:
			return err
		}
		return nil
	}
}

// handleReauthenticateForm confirms the password of a signed-in browser
// session, so that its sensitive forms work again for --reauth-window.
func (s *Server) handleReauthenticateForm() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		form, err := parseForm(w, r)
		if err != nil {
			return err
		}
		err = s.auth.Reauthenticate(r.Context(), p, form.Get("password"), s.meta(r))
		switch code := latchkey.ErrorCode(err); {
		case err == nil:
			s.seeOther(w, r, "/account?done=reauthenticated")
		case code == latchkey.EInvalidCredentials || code == latchkey.EInvalidRequest:
			return s.renderAccount(w, r, p, problemStatus[code], func(v *web.AccountView) { v.ReauthError = latchkey.ErrorMessage(err) })
		default:
			return err
		}
		return nil
	}
}

// seeOther redirects after a form (303: the browser follows with GET).
func (s *Server) seeOther(w http.ResponseWriter, r *http.Request, to string) {
	web.SetHeaders(w)
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// webFail answers an error as a page: the error's own safe message for
// 4xx (why this request was refused), a generic one for 5xx.
func (s *Server) webFail(w http.ResponseWriter, r *http.Request, err error) {
	_, status := s.classify(r, err)
	v := web.ErrorView{Title: http.StatusText(status), Message: latchkey.ErrorMessage(err)}
	if isConsolePath(r.URL.Path) && status != http.StatusForbidden {
		v.Back = web.ConsolePath
	}
	if status >= 500 {
		v.Message = "Something went wrong on our side. Please try again."
	}
	if err := s.pages.Error(w, status, v); err != nil {
		s.log.ErrorContext(r.Context(), "rendering an error page", "err", err)
	}
}

// parseForm reads an urlencoded form body (bounded); query parameters are
// never mixed in.
func parseForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, latchkey.Errorf(latchkey.EUnsupportedMediaType, "The form must be sent as application/x-www-form-urlencoded.")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return nil, latchkey.WrapError(latchkey.EInvalidRequest, "The form could not be read.", err)
	}
	return r.PostForm, nil
}

func limitString(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
