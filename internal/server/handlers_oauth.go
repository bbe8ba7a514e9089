package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/oauth"
	"github.com/latchkey/latchkey/internal/redirect"
	"github.com/latchkey/latchkey/internal/web"
)

// Delivery modes of a social login (docs/oauth.md).
const (
	deliverCookie = "cookie" // session cookie, then a redirect: browser apps on latchkey's own origin
	deliverCode   = "code"   // redirect with ?code=: SPAs and mobile apps exchange it at /v1/oauth/token
)

// handleOAuthAuthorize starts a social login: it checks redirect_to against
// the allow-list, seals a fresh flow (state, nonce, PKCE verifier) into a
// short-lived cookie and sends the browser to the provider.
func (s *Server) handleOAuthAuthorize() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		p, err := s.oauthProvider(r.PathValue("provider"))
		if err != nil {
			return err
		}
		q := r.URL.Query()
		target, mode, err := s.checkRedirect(q)
		if err != nil {
			return err
		}
		f := oauth.NewFlow(p.Name(), target)
		f.Mode = mode
		v, err := oauth.EncodeFlowCookie(f, s.sealer, s.now())
		if err != nil {
			return err
		}
		http.SetCookie(w, oauth.NewFlowCookie(v, s.cfg.Secure()))
		noStore(w)
		found(w, p.AuthCodeURL(f))
		return nil
	}
}

// checkRedirect validates redirect_to and chooses the delivery mode: mode
// may be asked for; by default a target on latchkey's own origin gets the
// cookie and any other target the one-time code. A cookie is refused for a
// target on another origin, which could not use it.
func (s *Server) checkRedirect(q url.Values) (target, mode string, err error) {
	targets := q["redirect_to"]
	if len(targets) != 1 || targets[0] == "" {
		return "", "", latchkey.Errorf(latchkey.EInvalidRequest, "redirect_to is required, once.")
	}
	target = targets[0]
	if !s.redirectAllowed(target) {
		return "", "", latchkey.Errorf(latchkey.EInvalidRequest, "redirect_to is not on the redirect allow-list.")
	}
	if u, err := url.Parse(target); err != nil || u.Query().Has("code") {
		return "", "", latchkey.Errorf(latchkey.EInvalidRequest, "redirect_to must not carry a code parameter of its own.")
	}
	sameOrigin := redirect.SameOrigin(target, s.cfg.Issuer)
	switch mode = q.Get("mode"); mode {
	case "":
		mode = deliverCode
		if sameOrigin {
			mode = deliverCookie
		}
	case deliverCookie:
		if !sameOrigin {
			return "", "", latchkey.Errorf(latchkey.EInvalidRequest, "mode=cookie needs a redirect_to on latchkey's own origin.")
		}
	case deliverCode:
	default:
		return "", "", latchkey.Errorf(latchkey.EInvalidRequest, "mode must be cookie or code.")
	}
	return target, mode, nil
}

// redirectAllowed: a target on the allow-list, or anywhere on latchkey's
// own origin (the hosted pages), which is never an open redirect.
func (s *Server) redirectAllowed(target string) bool {
	return s.redirects.Allowed(target) || s.selfRedirects.Allowed(target)
}

func (s *Server) oauthProvider(name string) (*oauth.Provider, error) {
	if s.oauth == nil {
		return nil, latchkey.Errorf(latchkey.ENotFound, "Unknown sign-in provider.")
	}
	return s.oauth.Provider(name)
}

func (s *Server) flowCookieName() string {
	if s.cfg.Secure() {
		return oauth.FlowCookieName
	}
	return oauth.FlowCookieNameInsecure
}

// handleOAuthCallback finishes a social login: flow cookie and state,
// provider error, code exchange with the PKCE verifier, id_token or API
// profile; then the account, and the delivery chosen at authorize. Every
// failure is audited with its reason; no token ever goes into a URL.
func (s *Server) handleOAuthCallback() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		// Whatever happens, this browser's flow is used up.
		http.SetCookie(w, oauth.ClearFlowCookie(s.cfg.Secure()))
		noStore(w)
		ctx, m := r.Context(), s.meta(r)
		linking, userID := false, ""
		// fail audits a failed callback and returns what to answer.
		fail := func(err error) error {
			err = s.auth.OAuthFailed(ctx, userID, oauthReason(err), m, err)
			if linking {
				return onPage(err)
			}
			return err
		}
		p, err := s.oauthProvider(r.PathValue("provider"))
		if err != nil {
			return fail(err)
		}
		value := ""
		if c, err := r.Cookie(s.flowCookieName()); err == nil {
			value = c.Value
		}
		f, err := oauth.DecodeFlowCookie(value, s.sealer, s.now())
		if err != nil {
			return fail(err)
		}
		if f.Mode == oauth.ModeLink {
			// A link was started on the account page: whatever goes wrong
			// is told there, as a page.
			linking, userID = true, f.LinkUser
		}
		code, err := p.CallbackCode(f, r.URL.Query())
		if err != nil {
			return fail(err)
		}
		prof, err := p.Exchange(ctx, f, code)
		if err != nil {
			return fail(err)
		}
		if f.Mode == oauth.ModeLink {
			return s.finishLink(w, r, f, prof)
		}
		// The allow-list may have changed since authorize.
		if !s.redirectAllowed(f.RedirectTo) || (f.Mode == deliverCookie && !redirect.SameOrigin(f.RedirectTo, s.cfg.Issuer)) {
			return fail(latchkey.WrapError(latchkey.EInvalidRequest, "redirect_to is not on the redirect allow-list.",
				errors.New("redirect_not_allowed")))
		}
		u, err := s.auth.OAuthLogin(ctx, auth.OAuthProfile{Provider: prof.Provider, Subject: prof.Subject, Email: prof.Email,
			EmailVerified: prof.EmailVerified, Name: prof.Name}, m)
		if err != nil {
			return err
		}
		return s.deliver(w, r, f, u)
	}
}

// accountPage is where a link started on the account page ends.
const accountPage = "/account"

// handleLinkIdentityForm starts linking a provider to the signed-in
// account, from the account page. Its policy asks for a recent sign-in
// (AUTH-13): linking adds a lasting way into the account, which a stolen
// session must not add unnoticed. The flow is sealed with this user and
// this session, so its callback can link to this account only, and only in
// the browser that holds this session.
func (s *Server) handleLinkIdentityForm() handler {
	return func(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
		p, err := s.oauthProvider(r.PathValue("provider"))
		if err != nil {
			return err
		}
		f := oauth.NewLinkFlow(p.Name(), pr.User.ID, pr.SessionID, accountPage)
		v, err := oauth.EncodeFlowCookie(f, s.sealer, s.now())
		if err != nil {
			return err
		}
		http.SetCookie(w, oauth.NewFlowCookie(v, s.cfg.Secure()))
		s.seeOther(w, r, p.AuthCodeURL(f))
		return nil
	}
}

// finishLink ends a link started on the account page, once the provider
// has said who the person is there.
func (s *Server) finishLink(w http.ResponseWriter, r *http.Request, f oauth.Flow, prof *oauth.Profile) error {
	ctx, m := r.Context(), s.meta(r)
	// The session cookie comes back with the provider's redirect (it is
	// SameSite=Lax and this is a top-level GET). It must be the very session
	// sealed into the flow: a browser that signed out, or in as someone
	// else, meanwhile links nothing. A recent sign-in is not asked again: it
	// was checked when the link started, at most oauth.FlowTTL ago.
	pr, _, err := s.cookiePrincipal(r)
	if err != nil && !latchkey.IsCode(err, latchkey.ETokenRequired) {
		return onPage(err)
	}
	if pr == nil || pr.User.ID != f.LinkUser || pr.SessionID != f.LinkSession {
		return onPage(s.auth.LinkSessionMismatch(ctx, f.LinkUser, f.LinkSession, f.Provider, m))
	}
	linked, err := s.auth.LinkIdentity(ctx, f.LinkUser, f.LinkSession, auth.OAuthProfile{Provider: prof.Provider,
		Subject: prof.Subject, Email: prof.Email, EmailVerified: prof.EmailVerified, Name: prof.Name}, m)
	if err != nil {
		return onPage(err)
	}
	done := "identity-linked"
	if !linked {
		done = "identity-already-linked"
	}
	s.seeOther(w, r, accountPage+"?done="+done)
	return nil
}

// handleUnlinkIdentityForm is the account page's "Unlink" button: the form
// twin of DELETE /v1/me/identities/{id}, with the same fresh-sign-in policy.
func (s *Server) handleUnlinkIdentityForm() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		err := s.auth.UnlinkIdentity(r.Context(), p.User.ID, r.PathValue("id"), s.meta(r))
		switch {
		case err == nil:
			s.seeOther(w, r, accountPage+"?done=identity-unlinked")
		case latchkey.IsCode(err, latchkey.EConflict): // the last way to sign in
			return s.renderAccount(w, r, p, http.StatusConflict, func(v *web.AccountView) { v.Error = latchkey.ErrorMessage(err) })
		default:
			return err
		}
		return nil
	}
}

// accountIdentities fills the account page's sign-in providers: the
// linked identities, and a "Link" button for each configured provider not
// linked yet.
func (s *Server) accountIdentities(ctx context.Context, userID string, v *web.AccountView) error {
	ids, err := s.auth.ListIdentities(ctx, userID)
	if err != nil {
		return err
	}
	linked := map[string]bool{}
	for _, id := range ids {
		linked[id.Provider] = true
		v.Identities = append(v.Identities, web.IdentityView{ID: id.ID, Label: web.ProviderLabel(id.Provider), Email: id.Email,
			Created: id.CreatedAt})
	}
	v.Linkable = web.LinkButtons(s.providers, linked)
	if s.oauth != nil {
		for _, b := range v.Linkable {
			if o := s.oauth.AuthOrigin(b.Name); o != "" {
				v.LinkOrigins = append(v.LinkOrigins, o)
			}
		}
	}
	return nil
}

// deliver hands a finished login to the app: a session cookie for a target
// on latchkey's own origin, otherwise a one-time code in the redirect.
func (s *Server) deliver(w http.ResponseWriter, r *http.Request, f oauth.Flow, u *latchkey.User) error {
	if f.Mode == deliverCookie {
		value, sess, err := s.auth.StartCookieSession(r.Context(), u, s.meta(r), auth.SignInFederated)
		if err != nil {
			return err
		}
		s.setSessionCookie(w, value, sess)
		found(w, f.RedirectTo)
		return nil
	}
	code, err := s.auth.CreateOneTimeCode(r.Context(), u.ID, f.Provider)
	if err != nil {
		return err
	}
	found(w, withQueryParam(f.RedirectTo, "code", code.Reveal()))
	return nil
}

// found redirects with an empty body (http.Redirect would repeat the URL,
// and with it a one-time code, in an HTML body).
func found(w http.ResponseWriter, location string) {
	w.Header().Set("Location", location)
	w.WriteHeader(http.StatusFound)
}

// withQueryParam appends key=value to target's query, keeping the rest of
// the URL (its own query and fragment) exactly as the app wrote it.
func withQueryParam(target, key, value string) string {
	base, frag, hasFrag := strings.Cut(target, "#")
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
		if strings.HasSuffix(base, "?") || strings.HasSuffix(base, "&") {
			sep = ""
		}
	}
	out := base + sep + url.QueryEscape(key) + "=" + url.QueryEscape(value)
	if hasFrag {
		out += "#" + frag
	}
	return out
}

// oauthReason is the audit reason of a failed social login: the operator
// detail of the error (which names what was wrong, never a code or token),
// or its code.
func oauthReason(err error) string {
	var e *latchkey.Error
	if errors.As(err, &e) && e.Err != nil {
		return strings.TrimPrefix(e.Err.Error(), "oauth: ")
	}
	return latchkey.ErrorCode(err)
}

type oauthTokenRequest struct {
	Code string `json:"code"`
}

func (r oauthTokenRequest) Validate() error {
	if r.Code == "" {
		return latchkey.Errorf(latchkey.EInvalidRequest, "code is required.")
	}
	return nil
}

// handleOAuthToken exchanges a one-time code for the token response.
func (s *Server) handleOAuthToken() handler {
	return tokenEndpoint(s, http.StatusOK, func(r *http.Request, req oauthTokenRequest) (*auth.Tokens, error) {
		return s.auth.ExchangeOneTimeCode(r.Context(), req.Code, s.meta(r))
	})
}

type identityJSON struct {
	ID        string    `json:"id"`
	Provider  string    `json:"provider"`
	Email     string    `json:"email"`
	CreatedAt time.Time `json:"created_at"`
}

func toIdentitiesJSON(ids []latchkey.Identity) []identityJSON {
	out := make([]identityJSON, 0, len(ids))
	for _, id := range ids {
		out = append(out, identityJSON{ID: id.ID, Provider: id.Provider, Email: id.Email,
			CreatedAt: id.CreatedAt.UTC()})
	}
	return out
}

// handleUnlinkIdentity removes one of the caller's social-login identities.
func (s *Server) handleUnlinkIdentity() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		if err := s.auth.UnlinkIdentity(r.Context(), p.User.ID, r.PathValue("id"), s.meta(r)); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
