package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/clientip"
	"github.com/latchkey/latchkey/internal/device"
	"github.com/latchkey/latchkey/internal/ratelimit"
)

// limitCheck is one rule applied to one key.
type limitCheck struct {
	rule ratelimit.Rule
	key  string
}

// auditRefusals caps how often one rule and key writes a rate_limited
// audit event, so that a flood of refused requests cannot flood the log.
var auditRefusals = ratelimit.Rule{Name: "audit-rate-limited", Limit: 1, Period: time.Minute}

// admit applies the checks in order. When one refuses, it answers 429 with
// Retry-After and the RateLimit headers (as a page or a problem, as the
// route speaks), audits it, and returns false. If the limiter itself fails
// the request is refused (503): never unlimited.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, userID string, checks ...limitCheck) bool {
	if s.limits == nil {
		return true
	}
	for _, c := range checks {
		d, err := s.limits.Allow(r.Context(), c.rule, c.key)
		if err != nil {
			s.fail(w, r, errLimiterDown(err))
			return false
		}
		ratelimit.WriteHeaders(w.Header(), c.rule, d)
		if !d.Allowed {
			s.fail(w, r, s.refusal(w, r, c.rule.Name, c.key, userID, d.RetryAfter))
			return false
		}
	}
	return true
}

func errLimiterDown(err error) error {
	return latchkey.WrapError(latchkey.EUnavailable, "Rate limiting is unavailable; try again shortly.", err)
}

// refusal sets Retry-After, audits the refusal (at most once a minute per
// rule and key) and returns the rate_limited error to answer.
func (s *Server) refusal(w http.ResponseWriter, r *http.Request, ruleName, key, userID string, retry time.Duration) error {
	w.Header().Set("Retry-After", strconv.FormatInt(ratelimit.RetryAfterSeconds(retry), 10))
	if d, err := s.limits.Allow(r.Context(), auditRefusals, ruleName+"\x00"+key); err == nil && d.Allowed {
		m := s.meta(r)
		if err := s.auth.Audit(r.Context(), latchkey.AuditEvent{Type: latchkey.AuditRateLimited, UserID: userID, IP: m.IP,
			UserAgent: m.UserAgent, Outcome: latchkey.OutcomeFailure, Reason: ruleName}); err != nil {
			s.log.WarnContext(r.Context(), "auditing a rate limit", "err", err)
		}
	}
	return latchkey.Errorf(latchkey.ERateLimited, "Too many requests; try again in %d seconds.", ratelimit.RetryAfterSeconds(retry))
}

// ipKey is the rate-limit key of the request's client address.
func (s *Server) ipKey(r *http.Request) string { return clientip.RateKey(s.ips.ClientIP(r)) }

// accountKey is the per-account key of an email as typed: the canonical
// form where there is one, so A@X.COM and a@x.com share one counter.
func accountKey(canonical, typed string) string {
	if canonical != "" {
		return canonical
	}
	k := strings.ToLower(strings.TrimSpace(typed))
	if len(k) > 254 {
		k = k[:254]
	}
	return k
}

// signIn is one attempt to sign in to a named account, admitted by its
// route's per-account limits and back-off.
type signIn struct {
	s       *Server
	account string
	// key counts the attempt's limits and back-off: the account, or for a
	// client with a valid device cookie for it, that device on the account.
	key     string
	backoff bool
}

// admitAccount applies the route's per-account limits and back-off to the
// account a sign-in names (the handler reads it from the body first). It
// answers 429 and returns false while the account is limited or backing
// off. A correct password gets the same answer as a wrong one while
// locked, and unknown accounts lock the same way, so the lock is no oracle.
//
// A client that signed in to this account before presents a device cookie
// and is counted on its own key: failures from elsewhere (a guesser, or
// someone locking the owner out on purpose) do not block it, and its own
// failures back off on the same schedule (docs/rate-limits.md).
func (s *Server) admitAccount(w http.ResponseWriter, r *http.Request, email string) (*signIn, bool) {
	canonical, _ := auth.CanonicalEmail(email)
	account := accountKey(canonical, email)
	pol := routePolicy(r)
	in := &signIn{s: s, account: account, key: account, backoff: pol.Backoff}
	if id, ok := s.knownDevice(r, account); ok {
		in.key = device.BackoffKey(account, id)
	}
	if s.limits == nil {
		return in, true
	}
	if !s.admit(w, r, "", s.checks(pol, perAccount, in.key)...) {
		return nil, false
	}
	if !in.backoff {
		return in, true
	}
	wait, err := s.limits.Wait(r.Context(), in.key)
	if err != nil {
		s.fail(w, r, errLimiterDown(err))
		return nil, false
	}
	if wait > 0 {
		s.fail(w, r, s.refusal(w, r, "login-backoff", in.key, "", wait))
		return nil, false
	}
	return in, true
}

// knownDevice reports the id of the request's device cookie when it is
// valid for account.
func (s *Server) knownDevice(r *http.Request, account string) (string, bool) {
	if s.devices == nil {
		return "", false
	}
	c, err := r.Cookie(device.Name(s.cfg.Secure()))
	if err != nil {
		return "", false
	}
	return s.devices.Verify(c.Value, account)
}

// done feeds the attempt's outcome to the back-off: a success clears it and
// makes the client a known device of the account; a wrong password or a
// wrong second-factor code counts;
// anything else (a busy hasher, a bad request) tells nothing about the
// password.
func (in *signIn) done(w http.ResponseWriter, r *http.Request, err error) {
	s, ctx := in.s, r.Context()
	if err == nil && s.devices != nil {
		http.SetCookie(w, s.devices.HTTPCookie(s.devices.Issue(in.account), s.cfg.Secure()))
	}
	if s.limits == nil || !in.backoff {
		return
	}
	switch {
	case err == nil:
		err = s.limits.Reset(ctx, in.key)
	case latchkey.IsCode(err, latchkey.EInvalidCredentials), latchkey.IsCode(err, latchkey.EInvalidMFACode):
		_, err = s.limits.Fail(ctx, in.key)
	default:
		return
	}
	if err != nil {
		s.log.WarnContext(ctx, "recording a sign-in outcome for back-off", "err", err)
	}
}
