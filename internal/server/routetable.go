package server

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/internal/config"
	"github.com/latchkey/latchkey/internal/ratelimit"
)

// RouteInfo is one route's policy in plain words, for tests and documents.
type RouteInfo struct {
	Pattern     string
	Public      bool
	Credentials []string // "bearer", "cookie", "api_key"
	Role, Scope string
	Fresh       bool
	Limits      []string // "rule-name per ip|user|account"
	Backoff     bool
	Page, CSRF  bool
	Note        string
}

// policyRecorder collects the routes and their policies without serving.
type policyRecorder struct {
	routes []RouteInfo
	rules  ratelimit.Rules
	bad    []string
}

func (rec *policyRecorder) Handle(pattern string, h http.Handler) {
	g, ok := h.(*guarded)
	if !ok {
		rec.bad = append(rec.bad, pattern)
		return
	}
	rec.routes = append(rec.routes, g.policy.info(pattern, rec.rules))
}

func (p policy) info(pattern string, rules ratelimit.Rules) RouteInfo {
	ri := RouteInfo{Pattern: pattern, Public: p.Public, Role: p.Role, Scope: p.Scope, Fresh: p.Fresh,
		Backoff: p.Backoff, Page: p.Page, CSRF: p.CSRF, Note: p.Note}
	for _, c := range []struct {
		kind credentials
		name string
	}{{credBearer, "bearer"}, {credCookie, "cookie"}, {credAPIKey, "api_key"}} {
		if p.Accepts&c.kind != 0 {
			ri.Credentials = append(ri.Credentials, c.name)
		}
	}
	for _, l := range p.Limits {
		ri.Limits = append(ri.Limits, l.rule(rules).Name+" per "+[...]string{perIP: "ip", perUser: "user", perAccount: "account"}[l.per])
	}
	return ri
}

// RouteTable lists every route latchkey serves with its policy, in the
// order of routes.go. It fails when a route was registered without one.
func RouteTable() ([]RouteInfo, error) {
	s := &Server{cfg: &config.Config{}, metrics: NewMetrics()}
	rec := &policyRecorder{rules: ratelimit.Defaults()}
	s.routes(rec)
	if len(rec.bad) > 0 {
		return nil, fmt.Errorf("routes without a policy: %s", strings.Join(rec.bad, ", "))
	}
	return rec.routes, nil
}

// RouteTableMarkdown renders the route table for docs/security.md.
func RouteTableMarkdown(routes []RouteInfo) string {
	var b strings.Builder
	b.WriteString("| route | credentials | role | scope (API keys) | fresh sign-in | limits |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, r := range routes {
		creds := "anyone"
		if !r.Public {
			creds = strings.Join(r.Credentials, ", ")
		}
		if r.Page {
			creds += " (page)"
		}
		if r.CSRF {
			creds += ", same-origin form"
		}
		if r.Note != "" {
			creds += "; " + r.Note
		}
		limits := strings.Join(r.Limits, ", ")
		if r.Backoff {
			limits += ", back-off per account"
		}
		fresh := ""
		if r.Fresh {
			fresh = "yes"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", r.Pattern, creds, r.Role, r.Scope, fresh, limits)
	}
	return b.String()
}
