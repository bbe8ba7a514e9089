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

func (s *Server) handleLoginPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		returnTo, _ := s.pageRedirects.Safe(r.URL.Query().Get("return_to"))
		s.renderLogin(w, r, http.StatusOK, "", returnTo, "")
	})
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, email, returnTo, msg string) {
	v := web.LoginView{Email: email, ReturnTo: returnTo, Error: msg, Providers: web.Providers(s.providers, s.providerReturn(returnTo))}
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
func (s *Server) handleLoginForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, err := parseForm(w, r)
		if err != nil {
			s.webFail(w, r, err)
			return
		}
		email, pw := form.Get("email"), form.Get("password")
		returnTo, _ := s.pageRedirects.Safe(form.Get("return_to"))
		attempt, ok := s.admitAccount(w, r, email)
		if !ok {
			return
		}
		u, err := s.auth.CheckPassword(r.Context(), email, pw, s.meta(r))
		attempt.done(w, r, err)
		if latchkey.IsCode(err, latchkey.EInvalidCredentials) || latchkey.IsCode(err, latchkey.EInvalidRequest) {
			s.renderLogin(w, r, http.StatusUnauthorized, limitString(email, 254), returnTo, badLogin)
			return
		}
		if err != nil {
			s.webFail(w, r, err)
			return
		}
		// A session the browser already had (perhaps planted) is ended, not
		// carried over: the cookie set below is a new one.
		if p, found, err := s.cookiePrincipal(r); found && err == nil {
			if err := s.auth.Logout(r.Context(), p, auth.LogoutLocal, s.meta(r)); err != nil {
				s.webFail(w, r, err)
				return
			}
		}
		value, sess, err := s.auth.StartCookieSession(r.Context(), u, s.meta(r), latchkey.AuditLoginSucceeded)
		if err != nil {
			s.webFail(w, r, err)
			return
		}
		s.setSessionCookie(w, value, sess)
		if returnTo == "" {
			returnTo = "/account"
		}
		s.seeOther(w, r, returnTo)
	})
}

func (s *Server) handleAccountPage() userHandler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
		s.renderAccount(w, r, p, http.StatusOK, func(v *web.AccountView) { v.Notice = web.Notices[r.URL.Query().Get("done")] })
	}
}

func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, edit func(*web.AccountView)) {
	sessions, err := s.auth.ListSessions(r.Context(), p.User.ID)
	if err != nil {
		s.webFail(w, r, err)
		return
	}
	keys, err := s.auth.ListAPIKeys(r.Context(), p.User.ID)
	if err != nil {
		s.webFail(w, r, err)
		return
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
		s.webFail(w, r, err)
		return
	}
	if edit != nil {
		edit(&v)
	}
	if err := s.pages.Account(w, status, v); err != nil {
		s.log.ErrorContext(r.Context(), "rendering the account page", "err", err)
	}
}

func (s *Server) handleLogoutForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, found, err := s.cookiePrincipal(r)
		if latchkey.IsCode(err, latchkey.EForbidden) {
			s.webFail(w, r, err)
			return
		}
		if found && err == nil {
			if err := s.auth.Logout(r.Context(), p, auth.LogoutLocal, s.meta(r)); err != nil {
				s.webFail(w, r, err)
				return
			}
		}
		s.clearSessionCookie(w)
		s.seeOther(w, r, "/login")
	})
}

func (s *Server) handleRevokeSessionForm() userHandler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
		id := r.PathValue("id")
		if err := s.auth.RevokeSession(r.Context(), p.User.ID, id, s.meta(r)); err != nil {
			s.webFail(w, r, err)
			return
		}
		if id == p.SessionID {
			s.clearSessionCookie(w)
			s.seeOther(w, r, "/login")
			return
		}
		s.seeOther(w, r, "/account?done=session-revoked")
	}
}

func (s *Server) handleRevokeOthersForm() userHandler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
		if err := s.auth.Logout(r.Context(), p, auth.LogoutOthers, s.meta(r)); err != nil {
			s.webFail(w, r, err)
			return
		}
		s.seeOther(w, r, "/account?done=others-revoked")
	}
}

func (s *Server) handleCreateKeyForm() userHandler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
		form, err := parseForm(w, r)
		if err != nil {
			s.webFail(w, r, err)
			return
		}
		ak, key, err := s.auth.CreateAPIKey(r.Context(), p, auth.APIKeyInput{Name: strings.TrimSpace(form.Get("name"))}, s.meta(r))
		if latchkey.IsCode(err, latchkey.EInvalidRequest) {
			s.renderAccount(w, r, p, http.StatusBadRequest, func(v *web.AccountView) { v.Error = latchkey.ErrorMessage(err) })
			return
		}
		if err != nil {
			s.webFail(w, r, err)
			return
		}
		if err := s.pages.KeyCreated(w, web.KeyCreatedView{Name: ak.Name, Key: key.Reveal()}); err != nil {
			s.log.ErrorContext(r.Context(), "rendering the new key page", "err", err)
		}
	}
}

func (s *Server) handleRevokeKeyForm() userHandler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
		if err := s.auth.RevokeAPIKey(r.Context(), p, r.PathValue("id"), s.meta(r)); err != nil {
			s.webFail(w, r, err)
			return
		}
		s.seeOther(w, r, "/account?done=key-revoked")
	}
}

func (s *Server) handleChangePasswordForm() userHandler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
		form, err := parseForm(w, r)
		if err != nil {
			s.webFail(w, r, err)
			return
		}
		err = s.auth.ChangePassword(r.Context(), p, auth.PasswordChange{Current: form.Get("current_password"),
			New: form.Get("new_password"), RevokeAPIKeys: form.Get("revoke_api_keys") == "on"}, s.meta(r))
		switch code := latchkey.ErrorCode(err); {
		case err == nil:
			s.seeOther(w, r, "/account?done=password")
		case code == latchkey.EInvalidCredentials || code == latchkey.EWeakPassword || code == latchkey.EInvalidRequest:
			s.renderAccount(w, r, p, problemStatus[code], func(v *web.AccountView) { v.PasswordError = latchkey.ErrorMessage(err) })
		default:
			s.webFail(w, r, err)
		}
	}
}

// handleReauthenticateForm confirms the password of a signed-in browser
// session, so that its sensitive forms work again for --reauth-window.
func (s *Server) handleReauthenticateForm() userHandler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
		form, err := parseForm(w, r)
		if err != nil {
			s.webFail(w, r, err)
			return
		}
		err = s.auth.Reauthenticate(r.Context(), p, form.Get("password"), s.meta(r))
		switch code := latchkey.ErrorCode(err); {
		case err == nil:
			s.seeOther(w, r, "/account?done=reauthenticated")
		case code == latchkey.EInvalidCredentials || code == latchkey.EInvalidRequest:
			s.renderAccount(w, r, p, problemStatus[code], func(v *web.AccountView) { v.ReauthError = latchkey.ErrorMessage(err) })
		default:
			s.webFail(w, r, err)
		}
	}
}

// seeOther redirects after a form (303: the browser follows with GET).
func (s *Server) seeOther(w http.ResponseWriter, r *http.Request, to string) {
	web.SetHeaders(w)
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// webFail answers an error as a page: the code's safe message for 4xx, a
// generic one (and a log line for operators) for 5xx.
func (s *Server) webFail(w http.ResponseWriter, r *http.Request, err error) {
	code := latchkey.ErrorCode(err)
	status, ok := problemStatus[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	v := web.ErrorView{Title: http.StatusText(status), Message: latchkey.ErrorMessage(err)}
	if status >= 500 {
		s.log.ErrorContext(r.Context(), "page failed", "code", code, "err", err)
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
