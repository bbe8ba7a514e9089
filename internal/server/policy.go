package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/ratelimit"
	"github.com/latchkey/latchkey/internal/web"
)

// credentials is the set of credential kinds a route accepts.
type credentials uint8

const (
	credBearer  credentials = 1 << iota // an access token of a signed-in session
	credCookie                          // the hosted pages' session cookie (CSRF-checked)
	credAPIKey                          // an API key
	credSession = credBearer | credCookie
	credAny     = credSession | credAPIKey
)

// via maps a principal's credential to its kind.
var via = map[string]credentials{"bearer": credBearer, "cookie": credCookie, "api_key": credAPIKey}

// limitKey says what a rate limit counts.
type limitKey uint8

const (
	perIP      limitKey = iota + 1 // the client address
	perUser                        // the authenticated user
	perAccount                     // the account a sign-in names: applied by admitAccount, once the handler has read it
)

// limit is one rate-limit rule and what it counts.
type limit struct {
	rule func(ratelimit.Rules) ratelimit.Rule
	per  limitKey
}

// policy states who may call a route and how: the credentials it accepts,
// the role and scope it needs, whether it needs a recent sign-in, and the
// rate limits and back-off that apply. routes.go gives every route one;
// guard enforces it before the handler runs, and a test fails when a route
// has none.
type policy struct {
	// Public routes look at no credential. Every other route names the
	// credential kinds it accepts.
	Public  bool
	Accepts credentials
	// Role the user must have, and Scope the credential must carry
	// (auth.Principal.Allows: an unscoped API key carries only some).
	Role, Scope string
	// Fresh routes need a sign-in or re-authentication within
	// --reauth-window. It binds sessions; an API key has no sign-in, and
	// what it may do is bounded by its scopes instead.
	Fresh bool
	// Assured routes act with the whole weight of the user's roles: under
	// --mfa-required-roles, a holder of such a role needs a session that
	// proved a second factor here, as on every route whose Role is such a
	// role (see assurance).
	Assured bool
	// Limits apply before the handler runs (perIP, perUser) or when it names
	// the account (perAccount, through admitAccount). Requests made with an
	// API key also count against the key's quota (apikey-requests-key).
	Limits []limit
	// Backoff: failed sign-ins slow down further attempts on the account
	// (ratelimit.Backoff), except from the owner's known devices.
	Backoff bool
	// Page routes are hosted HTML pages: refusals are pages, and a browser
	// without a session is sent to the login page.
	Page bool
	// CSRF refuses cross-site submissions of a form that carries no session
	// yet (login CSRF); cookie-authenticated requests are always checked.
	CSRF bool
	// Note says what the handler checks itself, for routes whose caller is
	// not a latchkey user (forward auth, metrics).
	Note string
}

func ip(rule func(ratelimit.Rules) ratelimit.Rule) limit      { return limit{rule, perIP} }
func user(rule func(ratelimit.Rules) ratelimit.Rule) limit    { return limit{rule, perUser} }
func account(rule func(ratelimit.Rules) ratelimit.Rule) limit { return limit{rule, perAccount} }

// validate reports a policy that cannot be what its author meant.
func (p policy) validate() error {
	switch {
	case p.Public && (p.Accepts != 0 || p.Role != "" || p.Scope != "" || p.Fresh):
		return errors.New("a public route names no credential, role, scope or freshness")
	case !p.Public && p.Accepts == 0:
		return errors.New("a route is public or names the credentials it accepts")
	case p.Page && p.Accepts&^credCookie != 0:
		return errors.New("a hosted page accepts only the session cookie")
	case p.Backoff && !p.hasLimit(perAccount):
		return errors.New("back-off goes with a per-account limit")
	}
	for _, l := range p.Limits {
		if l.per == perUser && p.Public {
			return errors.New("a public route has no user to limit")
		}
	}
	return nil
}

func (p policy) hasLimit(per limitKey) bool {
	for _, l := range p.Limits {
		if l.per == per {
			return true
		}
	}
	return false
}

// guarded is a handler behind its route's policy.
type guarded struct {
	s      *Server
	policy policy
	h      handler
}

type policyCtxKey struct{}

// guard puts h behind p. A policy that contradicts itself is a programming
// error, caught when the routes are built.
func (s *Server) guard(pattern string, p policy, h handler) http.Handler {
	if err := p.validate(); err != nil {
		panic("route " + pattern + ": " + err.Error())
	}
	return &guarded{s: s, policy: p, h: h}
}

// plain adapts a standard handler that needs no principal and cannot fail.
func plain(h http.Handler) handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		h.ServeHTTP(w, r)
		return nil
	}
}

func (g *guarded) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s, pol := g.s, &g.policy
	r = r.WithContext(context.WithValue(r.Context(), policyCtxKey{}, pol))
	if pol.CSRF {
		if err := s.csrf.Check(r); err != nil {
			s.fail(w, r, latchkey.WrapError(latchkey.EForbidden, "Cross-site requests are not allowed.", err))
			return
		}
	}
	if !s.admit(w, r, "", s.checks(pol, perIP, s.ipKey(r))...) {
		return
	}
	var p *auth.Principal
	if !pol.Public {
		var err error
		if p, err = s.principal(r, pol); err != nil {
			s.refuseCaller(w, r, pol, err)
			return
		}
		checks := s.checks(pol, perUser, p.User.ID)
		if p.APIKey != nil {
			// Every key has a request quota on latchkey's own routes.
			checks = append(checks, limitCheck{s.rules.APIKeyRequestsKey, p.APIKey.ID})
		}
		if !s.admit(w, r, p.User.ID, checks...) {
			return
		}
	}
	if err := g.h(w, r, p); err != nil {
		s.fail(w, r, err)
	}
}

// routePolicy is the policy of the route serving r (nil outside one).
func routePolicy(r *http.Request) *policy {
	p, _ := r.Context().Value(policyCtxKey{}).(*policy)
	return p
}

// checks lists the policy's limits that count per, keyed by key.
func (s *Server) checks(p *policy, per limitKey, key string) []limitCheck {
	var out []limitCheck
	for _, l := range p.Limits {
		if l.per == per {
			out = append(out, limitCheck{l.rule(s.rules), key})
		}
	}
	return out
}

// principal authenticates the request with a credential the policy
// accepts and checks its role, scope and freshness.
func (s *Server) principal(r *http.Request, pol *policy) (*auth.Principal, error) {
	var p *auth.Principal
	var err error
	if pol.Accepts == credCookie {
		var found bool
		if p, found, err = s.cookiePrincipal(r); !found {
			err = latchkey.Errorf(latchkey.ETokenRequired, "Sign in first.")
		}
	} else {
		p, err = s.authenticate(r)
	}
	if err != nil {
		return nil, err
	}
	if pol.Accepts&via[p.Via] == 0 {
		if p.Via == "api_key" {
			return nil, latchkey.Errorf(latchkey.EForbidden, "This endpoint needs a signed-in session; an API key cannot use it.")
		}
		return nil, latchkey.Errorf(latchkey.EForbidden, "This endpoint needs an API key.")
	}
	if pol.Role != "" && !p.User.HasRole(pol.Role) {
		s.log.InfoContext(r.Context(), "forbidden", "user_id", p.User.ID, "missing_role", pol.Role, "route", r.Pattern)
		return nil, latchkey.Errorf(latchkey.EForbidden, "You are not allowed to do this.")
	}
	if pol.Scope != "" && !p.Allows(pol.Scope) {
		s.log.InfoContext(r.Context(), "forbidden", "user_id", p.User.ID, "missing_scope", pol.Scope, "route", r.Pattern)
		return nil, latchkey.Errorf(latchkey.EForbidden, "This credential lacks the scope %s.", pol.Scope)
	}
	if err := s.assurance(r, pol, p); err != nil {
		return nil, err
	}
	if pol.Fresh && p.APIKey == nil && !s.fresh(p) {
		return nil, latchkey.Errorf(latchkey.EReauthenticationRequired,
			"This needs a recent sign-in: confirm your password (POST /v1/auth/reauthenticate) and try again.")
	}
	return p, nil
}

// assurance enforces --mfa-required-roles: a user acts in such a role
// (a route whose Role it is), or mints what acts with all their roles (an
// Assured route), only from a session that proved a second factor. The
// refusal says what to do: mfa_required while the user has no
// authenticator (enrolling one stays open to them), insufficient_
// authentication while this session has not proven it (a step-up fixes
// that). API keys are not sessions: they were minted by one, which for
// such a user had to be at aal2.
func (s *Server) assurance(r *http.Request, pol *policy, p *auth.Principal) error {
	if p.APIKey != nil || p.ACR() == auth.ACRMultiFactor {
		return nil
	}
	if !(pol.Role != "" && s.auth.MFARequiredForRole(pol.Role)) && !(pol.Assured && s.auth.MFARequiredFor(p.User)) {
		return nil
	}
	has, err := s.auth.HasSecondFactor(r.Context(), p.User.ID)
	if err != nil {
		return err
	}
	s.log.InfoContext(r.Context(), "forbidden", "user_id", p.User.ID, "missing", "aal2", "route", r.Pattern)
	if !has {
		return latchkey.Errorf(latchkey.EMFARequired,
			"Your role needs two-step sign-in: add an authenticator app (POST /v1/me/mfa/totp) or a passkey, then sign in with it.")
	}
	return latchkey.Errorf(latchkey.EInsufficientAuthentication,
		"Your role needs a session that proved your second factor: verify a code (POST /v1/auth/mfa/verify) or re-authenticate with a passkey, and try again.")
}

// reauthFloor is how recent a re-authentication must be when
// --reauth-window is 0s ("always ask"): long enough to go from the password
// prompt to the operation, too short to be a standing permission.
const reauthFloor = 30 * time.Second

// fresh reports whether the session authenticated recently enough for a
// sensitive operation.
func (s *Server) fresh(p *auth.Principal) bool {
	window := s.cfg.ReauthWindow
	if window == 0 {
		window = reauthFloor
	}
	return !p.AuthTime.IsZero() && s.now().Sub(p.AuthTime) <= window
}

// refuseCaller answers a request whose caller the policy refused.
func (s *Server) refuseCaller(w http.ResponseWriter, r *http.Request, pol *policy, err error) {
	switch {
	case pol.Page && problemStatus[latchkey.ErrorCode(err)] == http.StatusUnauthorized:
		// A browser without a live session signs in first, and comes back.
		if _, cerr := r.Cookie(s.sessionCookieName()); cerr == nil {
			s.clearSessionCookie(w)
		}
		back := "/account"
		switch {
		case r.Method == http.MethodGet:
			back = r.URL.RequestURI()
		case isConsolePath(r.URL.Path):
			back = web.ConsolePath
		}
		s.seeOther(w, r, "/login?"+url.Values{"return_to": {back}}.Encode())
	case pol.Page && latchkey.IsCode(err, latchkey.EReauthenticationRequired) && isConsolePath(r.URL.Path):
		s.seeOther(w, r, consoleReauthTarget(r))
	case pol.Page && isConsolePath(r.URL.Path) &&
		(latchkey.IsCode(err, latchkey.EMFARequired) || latchkey.IsCode(err, latchkey.EInsufficientAuthentication)):
		// --mfa-required-roles: the page says how to comply.
		s.consoleNeedsMFA(w, r, err)
	case pol.Page && latchkey.IsCode(err, latchkey.EReauthenticationRequired):
		// The account page asks for the password, then the form works again.
		s.seeOther(w, r, "/account?done=reauth-needed#reauthenticate")
	default:
		s.fail(w, r, err)
	}
}

// fail answers err the way the route speaks: a page for hosted pages (and
// for errors a handler marked with onPage), a problem document for the API.
// It is the one place that turns an error into a response.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var limited *rateLimited
	if errors.As(err, &limited) {
		// Failed API keys tripped a limit while authenticating: 429.
		ratelimit.WriteHeaders(w.Header(), limited.rule, limited.decision)
		err = s.refusal(w, r, limited.rule.Name, s.ipKey(r), "", limited.decision.RetryAfter)
	}
	var pe pageError
	if p := routePolicy(r); (p != nil && p.Page) || errors.As(err, &pe) {
		s.webFail(w, r, err)
		return
	}
	s.writeProblem(w, r, err)
}

// pageError marks an error of an API route that a browser reached in a
// page flow (a provider link started on the account page), to be answered
// as a page.
type pageError struct{ error }

func (e pageError) Unwrap() error { return e.error }

func onPage(err error) error { return pageError{err} }
