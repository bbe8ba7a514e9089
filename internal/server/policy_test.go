package server

import (
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
)

// TestEveryRouteHasAPolicy fails when a route is registered without going
// through guard, or with a policy that contradicts itself.
func TestEveryRouteHasAPolicy(t *testing.T) {
	routes, err := RouteTable()
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) < 40 {
		t.Fatalf("only %d routes recorded", len(routes))
	}
	// A handler registered without guard is reported.
	rec := &policyRecorder{}
	rec.Handle("GET /naked", http.NotFoundHandler())
	if len(rec.bad) != 1 {
		t.Fatal("the recorder accepted a route without a policy")
	}
}

// TestPolicyValidation: contradictory policies are refused when the routes
// are built.
func TestPolicyValidation(t *testing.T) {
	for name, p := range map[string]policy{
		"neither public nor credentials": {},
		"public with a role":             {Public: true, Role: "admin"},
		"public and fresh":               {Public: true, Fresh: true},
		"page with bearer tokens":        {Accepts: credBearer | credCookie, Page: true},
		"back-off without account limit": {Public: true, Backoff: true},
		"public with a per-user limit":   public.with(user(passwordChangeUser)),
	} {
		if p.validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for name, p := range map[string]policy{"public": public, "admin": admin, "sensitive page": sensitivePage} {
		if err := p.validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestRoutePolicyRules states the rules every route of a kind must follow.
func TestRoutePolicyRules(t *testing.T) {
	routes, err := RouteTable()
	if err != nil {
		t.Fatal(err)
	}
	sensitivePaths := []string{"POST /v1/api-keys", "POST /v1/me/password", "DELETE /v1/me/identities/{id}", "POST /v1/me/email",
		"POST /account/password", "POST /account/api-keys", "POST /account/identities/{provider}/link", "POST /account/identities/{id}/unlink",
		// MF-05: adding or removing a second factor, new recovery codes.
		"POST /v1/me/mfa/totp", "DELETE /v1/me/mfa/totp/{id}", "POST /v1/me/mfa/recovery-codes",
		"POST /account/mfa/totp", "POST /account/mfa/totp/{id}/remove", "POST /account/mfa/recovery-codes"}
	// MF-02: every route that tests a second-factor code at sign-in or
	// step-up is limited like a password, with the account's back-off.
	mfaCodes := []string{"POST /v1/auth/mfa/verify", "POST /login/mfa", "POST /account/mfa/verify"}
	for _, r := range routes {
		method, path, _ := strings.Cut(r.Pattern, " ")
		switch {
		case strings.HasPrefix(path, "/v1/admin/"):
			if r.Role != latchkey.RoleAdmin || r.Scope != auth.ScopeAdmin {
				t.Errorf("%s: admin routes need role admin and, for keys, scope admin", r.Pattern)
			}
		case strings.HasPrefix(path, "/account"):
			if !r.Page || slices.Contains(r.Credentials, "api_key") || slices.Contains(r.Credentials, "bearer") {
				t.Errorf("%s: account pages take the session cookie only", r.Pattern)
			}
		}
		if slices.Contains(mfaCodes, r.Pattern) && (!r.Backoff || !slices.Contains(r.Limits, "mfa-verify-account per account") ||
			!slices.Contains(r.Limits, "mfa-verify-ip per ip")) {
			t.Errorf("%s: a second-factor code needs mfa-verify-ip, mfa-verify-account and the back-off", r.Pattern)
		}
		if slices.Contains(sensitivePaths, r.Pattern) && !r.Fresh {
			t.Errorf("%s: a sensitive operation needs a fresh sign-in", r.Pattern)
		}
		if r.Fresh && slices.Contains(r.Credentials, "api_key") && r.Scope == "" {
			t.Errorf("%s: an API key may reach a fresh route only through an explicit scope", r.Pattern)
		}
		if r.Public && method == http.MethodPost && len(r.Limits) == 0 && !r.CSRF {
			t.Errorf("%s: a public POST needs a rate limit", r.Pattern)
		}
		// Routes that mail an address anyone names: one mail a minute per
		// address, and a limit per client (AUTH-17).
		mails := []string{"POST /v1/auth/email-verification", "POST /v1/auth/password/forgot", "POST /v1/auth/email/start"}
		if slices.Contains(mails, r.Pattern) && (!slices.Contains(r.Limits, "email-send-account per account") || !slices.Contains(r.Limits, "email-send-ip per ip")) {
			t.Errorf("%s: a route that mails a named address needs email-send-account per account and email-send-ip per ip", r.Pattern)
		}
		if r.Pattern == "POST /v1/me/email/confirm" && (r.Public || slices.Contains(r.Credentials, "api_key")) {
			t.Errorf("%s: confirming an email change needs the session that asked for it", r.Pattern)
		}
		if r.Scope != "" && !slices.ContainsFunc(auth.Scopes, func(s auth.Scope) bool { return s.Name == r.Scope }) {
			t.Errorf("%s: scope %q is not in latchkey's vocabulary", r.Pattern, r.Scope)
		}
	}
}

// TestSecurityDocListsEveryRoutePolicy keeps docs/security.md's route table
// equal to the code's.
func TestSecurityDocListsEveryRoutePolicy(t *testing.T) {
	routes, err := RouteTable()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- route-policies:begin -->\n", "<!-- route-policies:end -->"
	_, rest, ok := strings.Cut(string(doc), begin)
	table, _, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		t.Fatalf("docs/security.md lacks the %q … %q section", strings.TrimSpace(begin), end)
	}
	if want := RouteTableMarkdown(routes); table != want {
		if os.Getenv("LATCHKEY_UPDATE_DOCS") == "1" {
			updated := strings.Replace(string(doc), begin+table+end, begin+want+end, 1)
			if err := os.WriteFile("../../docs/security.md", []byte(updated), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("docs/security.md's route table is out of date; run LATCHKEY_UPDATE_DOCS=1 go test ./internal/server -run TestSecurityDoc\nwant:\n%s", want)
	}
}
