package server

import (
	"net/http"
	"net/url"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/web"
)

// A mailed link opens one of these pages. Mail scanners (Outlook Safe
// Links and others) fetch links with GET and HEAD, so those only show the
// page: its one button POSTs the token, and only that uses it up.

// linkPage is one page behind a mailed link.
type linkPage struct {
	path string
	// signedIn pages need the browser's session (an email change belongs to
	// the account signed in); the others work from the mail alone.
	signedIn bool
	// off reports that the flow is switched off: the page is not there.
	off  func() bool
	view web.EmailActionView
	// use spends the token (and whatever else the form carries) and says
	// what the page shows afterwards.
	use func(w http.ResponseWriter, r *http.Request, p *auth.Principal, token string, form url.Values) (web.EmailActionView, error)
}

func (s *Server) linkPages() []linkPage {
	done := func(msg, next, label string) web.EmailActionView {
		return web.EmailActionView{Done: msg, Next: next, NextLabel: label}
	}
	return []linkPage{
		{
			path: auth.PageVerifyEmail,
			view: web.EmailActionView{Title: "Confirm your email address", Button: "Confirm my address",
				Intro: "Press the button to confirm that this address is yours."},
			use: func(w http.ResponseWriter, r *http.Request, _ *auth.Principal, token string, _ url.Values) (web.EmailActionView, error) {
				_, err := s.auth.ConfirmEmail(r.Context(), auth.EmailProof{Token: token}, s.meta(r))
				return done("Your email address is confirmed.", "/account", "Go to your account"), err
			},
		},
		{
			path: auth.PageResetPassword,
			view: web.EmailActionView{Title: "Choose a new password", Button: "Change my password", NewPassword: true,
				Intro: "Choose a new password for your account."},
			use: func(w http.ResponseWriter, r *http.Request, _ *auth.Principal, token string, form url.Values) (web.EmailActionView, error) {
				err := s.auth.ResetPassword(r.Context(), auth.EmailProof{Token: token}, form.Get("new_password"), s.meta(r))
				return done("Your password was changed, and every session of your account was signed out.", "/login", "Sign in"), err
			},
		},
		{
			path: auth.PageEmailSignIn, off: func() bool { return !s.auth.EmailSignInEnabled() },
			view: web.EmailActionView{Title: "Sign in", Button: "Sign me in",
				Intro: "Press the button to sign in on this device."},
			use: func(w http.ResponseWriter, r *http.Request, _ *auth.Principal, token string, _ url.Values) (web.EmailActionView, error) {
				b, err := s.auth.VerifyEmailSignInCookie(r.Context(), auth.EmailProof{Token: token}, s.meta(r))
				if err != nil {
					return web.EmailActionView{}, err
				}
				if b.Challenge != nil {
					s.setMFACookie(w, b.Challenge)
					return done("One more step: your account asks for the code of your authenticator app.", PageLoginMFA, "Enter the code"), nil
				}
				s.setSessionCookie(w, b.Cookie, b.Session)
				return done("You are signed in.", "/account", "Go to your account"), nil
			},
		},
		{
			path: auth.PageConfirmEmail, signedIn: true,
			view: web.EmailActionView{Title: "Confirm your new email address", Button: "Confirm the new address",
				Intro: "Press the button to move your account to this address."},
			use: func(w http.ResponseWriter, r *http.Request, p *auth.Principal, token string, _ url.Values) (web.EmailActionView, error) {
				u, err := s.auth.ConfirmEmailChange(r.Context(), p, auth.EmailProof{Token: token}, s.meta(r))
				if err != nil {
					return web.EmailActionView{}, err
				}
				return done("Your account's address is now "+u.Email+".", "/account", "Go to your account"), nil
			},
		},
		{
			path: auth.PageCancelEmailChange,
			view: web.EmailActionView{Title: "Cancel the email change", Button: "This wasn't me: cancel it",
				Intro: "Cancelling keeps your old address and signs out every session of your account."},
			use: func(w http.ResponseWriter, r *http.Request, _ *auth.Principal, token string, _ url.Values) (web.EmailActionView, error) {
				err := s.auth.CancelEmailChange(r.Context(), token, s.meta(r))
				return done("The change was cancelled, and every session of your account was signed out.", "/login", "Sign in"), err
			},
		},
	}
}

// handleLinkPage shows the page of a mailed link (GET and HEAD): nothing
// is read or changed.
func (s *Server) handleLinkPage(page linkPage) handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		if page.off != nil && page.off() {
			return errNoSuchEndpoint
		}
		v := page.view
		v.Action, v.Token, v.MinPasswordLength = page.path, limitString(r.URL.Query().Get("token"), 256), s.cfg.PasswordMinLength
		return s.pages.EmailAction(w, http.StatusOK, v)
	}
}

// handleLinkForm spends the token of a mailed link. A refused token or a
// refused new password shows the page again with the reason.
func (s *Server) handleLinkForm(page linkPage) handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		if page.off != nil && page.off() {
			return errNoSuchEndpoint
		}
		form, err := parseForm(w, r)
		if err != nil {
			return err
		}
		token := limitString(form.Get("token"), 256)
		result, err := page.use(w, r, p, token, form)
		switch code := latchkey.ErrorCode(err); {
		case err == nil:
			result.Title = page.view.Title
			return s.pages.EmailAction(w, http.StatusOK, result)
		case code == latchkey.EInvalidGrant || code == latchkey.EWeakPassword || code == latchkey.EInvalidRequest:
			v := page.view
			v.Action, v.Token, v.MinPasswordLength, v.Error = page.path, token, s.cfg.PasswordMinLength, latchkey.ErrorMessage(err)
			return s.pages.EmailAction(w, problemStatus[code], v)
		default:
			return err
		}
	}
}

// forgotPage is the form that asks for the address to mail a reset link to.
var forgotPage = web.EmailRequestView{Title: "Forgot your password?", Button: "Mail me a link",
	Intro: "Enter the address of your account: we will mail you a link to choose a new password.", Action: auth.PageForgotPassword}

func (s *Server) handleForgotPage() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		return s.pages.EmailRequest(w, http.StatusOK, forgotPage)
	}
}

// handleForgotForm answers the same for every address, known or not.
func (s *Server) handleForgotForm() handler {
	return s.mailRequestForm(forgotPage, "If an account uses that address, a mail with a link is on its way.",
		func(r *http.Request, email string) error { return s.auth.ForgotPassword(r.Context(), email, s.meta(r)) })
}

// mailRequestForm is a page form that mails the address it names: the
// per-address limit applies once the form is read, and the answer is the
// same page for every address.
func (s *Server) mailRequestForm(page web.EmailRequestView, done string, send func(r *http.Request, email string) error) handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		form, err := parseForm(w, r)
		if err != nil {
			return err
		}
		email := form.Get("email")
		if _, ok := s.admitAccount(w, r, email); !ok {
			return nil
		}
		if err := send(r, email); err != nil && !latchkey.IsCode(err, latchkey.EInvalidRequest) {
			return err
		}
		v := page
		v.Email, v.Done = limitString(email, 254), done
		return s.pages.EmailRequest(w, http.StatusAccepted, v)
	}
}

// emailSignInPage asks for the address to mail a sign-in link to (only with
// --email-sign-in).
var emailSignInPage = web.EmailRequestView{Title: "Sign in by email", Button: "Mail me a sign-in link",
	Intro: "Enter the address of your account: we will mail you a link that signs you in.", Action: PageEmailSignInStart}

// PageEmailSignInStart is the form that starts a sign-in by mail.
const PageEmailSignInStart = "/email-sign-in/start"

func (s *Server) handleEmailSignInPage() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		if !s.auth.EmailSignInEnabled() {
			return errNoSuchEndpoint
		}
		return s.pages.EmailRequest(w, http.StatusOK, emailSignInPage)
	}
}

// handleEmailSignInForm answers the same for every address, known or not.
func (s *Server) handleEmailSignInForm() handler {
	return s.mailRequestForm(emailSignInPage, "If an account uses that address, a mail with a sign-in link is on its way.",
		func(r *http.Request, email string) error {
			return s.auth.StartEmailSignIn(r.Context(), email, s.meta(r))
		})
}

// handleChangeEmailForm is the account page's "Change email": the same
// use case and answer as POST /v1/me/email.
func (s *Server) handleChangeEmailForm() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		form, err := parseForm(w, r)
		if err != nil {
			return err
		}
		err = s.auth.RequestEmailChange(r.Context(), p, form.Get("email"), s.meta(r))
		switch code := latchkey.ErrorCode(err); {
		case err == nil:
			s.seeOther(w, r, "/account?done=email-change")
			return nil
		case code == latchkey.EInvalidRequest || code == latchkey.EConflict:
			return s.renderAccount(w, r, p, problemStatus[code], func(v *web.AccountView) { v.EmailError = latchkey.ErrorMessage(err) })
		default:
			return err
		}
	}
}
