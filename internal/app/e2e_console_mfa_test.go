package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/apptest"
)

// TestConsoleWithMFA joins the console and second factors, on SQLite and
// PostgreSQL, with codes from oathtool. Under --mfa-required-roles admin an
// administrator without an authenticator, or whose session has not proved
// it, is kept out of every console page and form by a page that says what
// to do (MF-06); proving a code there leads back. A user's page shows
// their authenticators and how many recovery codes are left (never a
// secret or a code), and its confirmed reset is the admin API's (MF-05):
// the factors go, the sessions end, the next sign-in asks for the password
// alone, and the audit page shows it. GET /v1/admin/users/{id} and the list report it too.
func TestConsoleWithMFA(t *testing.T) { forEachStore(t, consoleMFAScenario) }

func consoleMFAScenario(t *testing.T, db []string) {
	t.Parallel()
	srv, _ := startWithAdmin(t, append([]string{"--mfa-required-roles", "admin"}, db...))
	admin := webLoginAs(t, srv, "root@example.com", adminPassword)
	bob := signup(t, srv, "console-mfa-bob@example.com")
	carol := signup(t, srv, "console-mfa-carol@example.com")
	bobID := userID(bob)

	// No authenticator: every console URL answers a page that leads to the
	// account page, and nothing happens.
	for _, rt := range consoleRoutes(t, bobID) {
		method, path := rt[0], rt[1]
		var body any
		if method == http.MethodPost {
			body = url.Values{"role": {"admin"}, "confirm": {path[strings.LastIndex(path, "/")+1:]}, "password": {adminPassword}}.Encode()
		}
		r := srv.Do(t, method, path, body, withCookie(admin, formType...)...)
		if r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), `href="/account#mfa" id="add-authenticator"`) ||
			strings.Contains(string(r.Body), "console-step-up") {
			t.Errorf("%s %s without an authenticator: %d %s", method, path, r.Status, r.Body)
		}
		checkPageHeaders(t, method+" "+path, r)
	}
	if r := srv.Do(t, "GET", "/v1/me", nil, bearer(bob["access_token"])...); r.Status != http.StatusOK || len(roles(t, r.JSON(t))) != 1 {
		t.Errorf("bob after the refused forms: %d %s", r.Status, r.Body)
	}
	if r := srv.Do(t, "GET", "/account", nil, withCookie(admin)...); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `id="add-authenticator"`) {
		t.Fatalf("the account page stays open: %d", r.Status)
	}

	// An authenticator, but this session has not proved it: the page asks
	// for a code and comes back to where the administrator was going.
	now := time.Now()
	secret, _ := enrollTOTP(t, srv, withCookie(admin), now)
	page := srv.Do(t, "GET", "/admin/users?q=console-mfa", nil, withCookie(admin)...)
	if page.Status != http.StatusForbidden || !strings.Contains(string(page.Body), `action="/account/mfa/verify"`) ||
		!strings.Contains(string(page.Body), `name="return_to" value="/admin/users?q=console-mfa"`) {
		t.Fatalf("a single-factor session: %d %s", page.Status, page.Body)
	}
	r := postForm(t, srv, "/admin/users/"+bobID+"/grant-role", url.Values{"role": {"admin"}}, withCookie(admin)...)
	if r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), `name="return_to" value="/admin/users/`+bobID+`"`) {
		t.Errorf("a form from a single-factor session: %d %s", r.Status, r.Body)
	}
	r = postForm(t, srv, "/account/mfa/verify", url.Values{"code": {wrongTOTP(t, secret, time.Now())}, "return_to": {"/admin/users"}}, withCookie(admin)...)
	if r.Status != http.StatusUnauthorized || !strings.Contains(string(r.Body), `id="mfa-error"`) || !strings.Contains(string(r.Body), "console-step-up") {
		t.Errorf("a wrong code on the console's form: %d %s", r.Status, r.Body)
	}
	r = postForm(t, srv, "/account/mfa/verify", url.Values{"code": {wrongTOTP(t, secret, time.Now())}, "return_to": {"https://evil.example/admin"}},
		withCookie(admin)...)
	if r.Status != http.StatusUnauthorized || strings.Contains(string(r.Body), "console-step-up") || !strings.Contains(string(r.Body), `id="mfa-error"`) {
		t.Errorf("a wrong code with a foreign return_to: %d %s", r.Status, r.Body)
	}
	r = postForm(t, srv, "/account/mfa/verify", url.Values{"code": {oathtool(t, secret, now.Add(30*time.Second))}, "return_to": {"/admin/users?q=console-mfa"}},
		withCookie(admin)...)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin/users?q=console-mfa" {
		t.Fatalf("the code: %d %v %s", r.Status, r.Header, r.Body)
	}
	if r := srv.Do(t, "GET", "/admin", nil, withCookie(admin)...); r.Status != http.StatusOK {
		t.Fatalf("the console after the code: %d %s", r.Status, r.Body)
	}

	// Bob adds an authenticator; the admin API and the console show it,
	// never its secret or his recovery codes.
	bobSecret, bobCodes := enrollTOTP(t, srv, bearer(bob["access_token"]), time.Now())
	one := srv.Do(t, "GET", "/v1/admin/users/"+bobID, nil, withCookie(admin)...)
	m := one.JSON(t)["mfa"].(map[string]any)
	factors, _ := m["factors"].([]any)
	if one.Status != http.StatusOK || m["enabled"] != true || m["recovery_codes_left"] != float64(10) || len(factors) != 1 ||
		factors[0].(map[string]any)["name"] != "phone" || factors[0].(map[string]any)["confirmed"] != true {
		t.Errorf("GET /v1/admin/users/{id}: %d %s", one.Status, one.Body)
	}
	list := srv.Do(t, "GET", "/v1/admin/users?q=console-mfa", nil, withCookie(admin)...)
	mfaOf := map[string]any{}
	for _, u := range list.JSON(t)["users"].([]any) {
		u := u.(map[string]any)
		mfaOf[u["email"].(string)] = u["mfa"]
	}
	if fmt.Sprint(mfaOf) != "map[console-mfa-bob@example.com:map[enabled:true] console-mfa-carol@example.com:map[enabled:false]]" {
		t.Errorf("GET /v1/admin/users: %s", list.Body)
	}
	users := srv.Do(t, "GET", "/admin/users?q=console-mfa", nil, withCookie(admin)...)
	if users.Status != http.StatusOK || strings.Count(string(users.Body), "data-mfa") != 1 {
		t.Errorf("the users page: %d %s", users.Status, users.Body)
	}
	userPage := srv.Do(t, "GET", "/admin/users/"+bobID, nil, withCookie(admin)...)
	for _, want := range []string{`<table id="mfa-factors">`, `<th scope="row">phone</th>`, "10 unused recovery codes", `id="action-reset-mfa"`,
		`href="/admin/users/` + bobID + `/confirm?action=reset-mfa"`, ">Reset two-step sign-in…</a>"} {
		if !strings.Contains(string(userPage.Body), want) {
			t.Errorf("bob's page lacks %q", want)
		}
	}
	for _, secretText := range append([]string{bobSecret, secret}, bobCodes...) {
		for what, r := range map[string]*apptest.Response{"user page": userPage, "admin API": one, "list": list} {
			if strings.Contains(string(r.Body), secretText) {
				t.Errorf("the %s shows a secret or a recovery code", what)
			}
		}
	}
	if r := srv.Do(t, "GET", "/admin/users/"+userID(carol), nil, withCookie(admin)...); strings.Contains(string(r.Body), "action-reset-mfa") ||
		strings.Contains(string(r.Body), "mfa-factors") || !strings.Contains(string(r.Body), "Off: signing in asks for the first factor alone") {
		t.Errorf("a user without a factor offers the reset: %s", r.Body)
	}

	// The reset: confirmed first, then the same as the admin API's.
	r = postForm(t, srv, "/admin/users/"+bobID+"/reset-mfa", url.Values{}, withCookie(admin)...)
	confirm := "/admin/users/" + bobID + "/confirm?action=reset-mfa"
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != confirm {
		t.Fatalf("reset without confirming: %d %v", r.Status, r.Header)
	}
	if r := srv.Do(t, "GET", confirm, nil, withCookie(admin)...); r.Status != http.StatusOK ||
		!strings.Contains(string(r.Body), `name="confirm" value="reset-mfa"`) || !strings.Contains(string(r.Body), "every session of theirs ends") {
		t.Fatalf("the confirmation page: %d %s", r.Status, r.Body)
	}
	mfaLogin(t, srv, "console-mfa-bob@example.com") // still two steps
	r = postForm(t, srv, "/admin/users/"+bobID+"/reset-mfa", url.Values{"confirm": {"reset-mfa"}}, withCookie(admin)...)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin/users/"+bobID+"?done=reset-mfa" {
		t.Fatalf("the reset: %d %v %s", r.Status, r.Header, r.Body)
	}
	if r := srv.Do(t, "GET", "/v1/me", nil, bearer(bob["access_token"])...); r.Status != http.StatusUnauthorized {
		t.Errorf("bob's session after the reset: %d", r.Status)
	}
	wantProblem(t, "bob's refresh token after the reset", srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": bob["refresh_token"]}),
		400, "invalid_grant")
	if in := loginJSON(t, srv, "console-mfa-bob@example.com", goodPassword); in["access_token"] == nil || in["mfa_required"] != nil {
		t.Errorf("bob's sign-in after the reset: %v", in)
	}
	after := srv.Do(t, "GET", "/admin/users/"+bobID+"?done=reset-mfa", nil, withCookie(admin)...)
	if !strings.Contains(string(after.Body), "Two-step sign-in was reset") || strings.Contains(string(after.Body), "mfa-factors") ||
		strings.Contains(string(after.Body), "action-reset-mfa") {
		t.Errorf("bob's page after the reset: %s", after.Body)
	}
	if m := srv.Do(t, "GET", "/v1/admin/users/"+bobID, nil, withCookie(admin)...).JSON(t)["mfa"]; fmt.Sprint(m) != "map[enabled:false factors:[] recovery_codes_left:0]" {
		t.Errorf("the admin API after the reset: %v", m)
	}
	// Audited as the API's reset is, naming the administrator, and shown on
	// the console's audit page.
	rootID := srv.Do(t, "GET", "/v1/me", nil, withCookie(admin)...).String(t, "id")
	events := adminAudit(t, srv, withCookie(admin), "mfa.reset")
	if len(events) != 1 || events[0]["user_id"] != bobID || events[0]["reason"] != "by admin "+rootID || events[0]["outcome"] != "success" {
		t.Errorf("mfa.reset events: %v", events)
	}
	audit := srv.Do(t, "GET", "/admin/audit?"+url.Values{"user": {"console-mfa-bob@example.com"}, "type": {"mfa.reset"}}.Encode(), nil, withCookie(admin)...)
	if audit.Status != http.StatusOK || strings.Count(string(audit.Body), `data-type="mfa.reset"`) != 1 || !strings.Contains(string(audit.Body), "by admin "+rootID) {
		t.Errorf("the audit page: %d %s", audit.Status, audit.Body)
	}
	ended := 0
	for _, e := range adminAudit(t, srv, withCookie(admin), "session.revoked") {
		if e["user_id"] == bobID && e["reason"] == "mfa reset by admin "+rootID {
			ended++
		}
	}
	if ended != 1 {
		t.Errorf("bob's ended session audited %d times", ended)
	}
}
