package app_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/internal/testenv"
	"github.com/latchkey/latchkey/verify"
)

// adminPassword is a canary: it must never appear in a log or the audit log.
const adminPassword = "Canary-Pw-admin-6f1c2d9e4b"

// adminRoutes is every administrative route with the methods it serves.
var adminRoutes = []struct{ method, path string }{
	{"GET", "/v1/admin/users"},
	{"GET", "/v1/admin/users/%s"},
	{"PATCH", "/v1/admin/users/%s"},
	{"DELETE", "/v1/admin/users/%s"},
	{"GET", "/v1/admin/users/%s/sessions"},
	{"DELETE", "/v1/admin/users/%s/sessions"},
	{"GET", "/v1/admin/audit"},
	{"GET", "/v1/admin/keys"},
	{"POST", "/v1/admin/keys/rotate"},
	{"GET", "/v1/admin/clients"},
	{"POST", "/v1/admin/clients"},
	{"GET", "/v1/admin/clients/%s"},
	{"PATCH", "/v1/admin/clients/%s"},
	{"DELETE", "/v1/admin/clients/%s"},
	{"POST", "/v1/admin/clients/%s/rotate-secret"},
}

// secrets collects every password and token a test handled, to prove none
// of them is ever logged or audited (LOG-01).
type secrets []string

func (s *secrets) add(vs ...any) {
	for _, v := range vs {
		if str := fmt.Sprint(v); len(str) >= 8 {
			*s = append(*s, str)
		}
	}
}

func (s secrets) check(t *testing.T, where, text string) {
	t.Helper()
	for _, x := range s {
		if strings.Contains(text, x) {
			t.Errorf("%s contains a secret (%.6s…)", where, x)
		}
	}
}

// startWithAdmin sets up a fresh installation (latchkey migrate), creates
// an admin with the CLI and starts the server on it.
func startWithAdmin(t *testing.T, db []string) (*apptest.Instance, string) {
	t.Helper()
	return startWithAdminOpts(t, apptest.Options{}, db)
}

// startWithAdminOpts is startWithAdmin with options (o.Dir is ignored).
func startWithAdminOpts(t *testing.T, o apptest.Options, db []string) (*apptest.Instance, string) {
	t.Helper()
	dir := t.TempDir()
	if _, errOut, err := runCLI(t, "", append([]string{"migrate", "--data-dir", dir}, db...)...); err != nil {
		t.Fatalf("migrate: %v\n%s", err, errOut)
	}
	args := append([]string{"user", "create", "--email", "root@example.com", "--role", "admin", "--password-stdin", "--data-dir", dir}, db...)
	out, errOut, err := runCLI(t, adminPassword+"\n", append(args, apptest.FastHashing...)...)
	if err != nil {
		t.Fatalf("user create: %v\n%s", err, errOut)
	}
	if strings.Contains(out+errOut, adminPassword) {
		t.Error("the CLI echoed the password")
	}
	o.Dir = dir
	srv := apptest.StartWith(t, o, append([]string{"--refresh-reuse-grace", "0s"}, db...)...)
	return srv, dir
}

func loginJSON(t *testing.T, srv *apptest.Instance, email, pw string) map[string]any {
	t.Helper()
	r := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": email, "password": pw})
	if r.Status != 200 {
		t.Fatalf("login %s: %d %s", email, r.Status, r.Body)
	}
	return r.JSON(t)
}

// jwtPart decodes the header (0) or payload (1) of a JWT.
func jwtPart(t *testing.T, tok any, i int) map[string]any {
	t.Helper()
	parts := strings.Split(fmt.Sprint(tok), ".")
	data, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func userID(tok map[string]any) string { return tok["user"].(map[string]any)["id"].(string) }

func TestAdminEndToEnd(t *testing.T) {
	backends := []struct {
		name string
		db   func(t *testing.T) []string
	}{
		{"sqlite", func(*testing.T) []string { return nil }},
		{"postgres", func(t *testing.T) []string { return []string{"--database", testenv.PostgresSchema(t)} }},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			adminScenario(t, b.db(t))
		})
	}
}

func adminScenario(t *testing.T, db []string) {
	srv, dir := startWithAdmin(t, db)
	var sec secrets
	sec.add(adminPassword, goodPassword)
	adm := loginJSON(t, srv, "root@example.com", adminPassword)
	sec.add(adm["access_token"], adm["refresh_token"])
	admAuth := bearer(adm["access_token"])
	adminID := userID(adm)

	alice := signup(t, srv, "alice@example.com")
	sec.add(alice["access_token"], alice["refresh_token"])
	aliceID := userID(alice)

	// AZ-01: a normal user is refused on every admin route; no token is 401.
	for _, rt := range adminRoutes {
		path := rt.path
		if strings.Contains(path, "%s") {
			path = fmt.Sprintf(path, adminID)
		}
		var body any
		if rt.method == "PATCH" {
			body = map[string]any{"roles": []string{"admin"}}
		}
		r := srv.Do(t, rt.method, path, body, bearer(alice["access_token"])...)
		if r.Status != 403 || r.String(t, "code") != "forbidden" {
			t.Errorf("user: %s %s = %d %s, want 403 forbidden", rt.method, path, r.Status, r.Body)
		}
		if r := srv.Do(t, rt.method, path, body); r.Status != 401 {
			t.Errorf("anonymous: %s %s = %d", rt.method, path, r.Status)
		}
	}
	// AZ-02: a user cannot touch another's sessions.
	if r := srv.Do(t, "DELETE", "/v1/sessions/"+adm["session_id"].(string), nil, bearer(alice["access_token"])...); r.Status != 404 {
		t.Errorf("revoking another user's session: %d", r.Status)
	}
	if r := srv.Do(t, "GET", "/v1/me", nil, admAuth...); r.Status != 200 {
		t.Fatalf("the admin's session was touched: %d", r.Status)
	}
	// AZ-03: a user cannot give themselves a role.
	for _, body := range []map[string]any{{"roles": []string{"admin"}}, {"name": "x", "role": "admin"}} {
		if r := srv.Do(t, "PATCH", "/v1/me", body, bearer(alice["access_token"])...); r.Status != 400 {
			t.Errorf("PATCH /v1/me %v: %d", body, r.Status)
		}
	}

	// List, search and page.
	for i := range 5 {
		sec.add(signup(t, srv, fmt.Sprintf("pager%d@example.com", i))["access_token"])
	}
	seen := map[string]bool{}
	cursor, pages := "", 0
	for {
		r := srv.Do(t, "GET", "/v1/admin/users?limit=2&cursor="+cursor, nil, admAuth...)
		if r.Status != 200 {
			t.Fatalf("list users: %d %s", r.Status, r.Body)
		}
		var page struct {
			Users []struct {
				ID, Email string
				Roles     []string
			}
			NextCursor string `json:"next_cursor"`
		}
		if err := json.Unmarshal(r.Body, &page); err != nil {
			t.Fatal(err)
		}
		pages++
		for _, u := range page.Users {
			if seen[u.ID] {
				t.Errorf("user %s listed twice", u.ID)
			}
			seen[u.ID] = true
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if len(seen) != 7 || pages != 4 || !seen[adminID] || !seen[aliceID] {
		t.Errorf("paging found %d users in %d pages, want 7 in 4", len(seen), pages)
	}
	r := srv.Do(t, "GET", "/v1/admin/users?q=ALICE", nil, admAuth...)
	if users := r.JSON(t)["users"].([]any); len(users) != 1 || users[0].(map[string]any)["id"] != aliceID {
		t.Errorf("search: %s", r.Body)
	}
	if r := srv.Do(t, "GET", "/v1/admin/users?limit=0", nil, admAuth...); r.Status != 400 {
		t.Errorf("limit=0: %d", r.Status)
	}
	if r := srv.Do(t, "GET", "/v1/admin/users/nope", nil, admAuth...); r.Status != 404 {
		t.Errorf("unknown user: %d", r.Status)
	}
	for _, bad := range []any{
		map[string]any{"roles": []string{}}, map[string]any{"roles": []string{"Admin"}},
		map[string]any{"roles": []string{"a b"}}, map[string]any{"email": "x@example.com"}, map[string]any{"roles": []string{"user", "a b"}},
	} {
		if r := srv.Do(t, "PATCH", "/v1/admin/users/"+aliceID, bad, admAuth...); r.Status != 400 {
			t.Errorf("PATCH %v: %d %s", bad, r.Status, r.Body)
		}
	}

	// Grant a role: at once on latchkey's endpoints, in the next refreshed token.
	r = srv.Do(t, "PATCH", "/v1/admin/users/"+aliceID, map[string]any{"roles": []string{"user", "admin"}, "name": "Alice"}, admAuth...)
	if r.Status != 200 || fmt.Sprint(r.JSON(t)["roles"]) != "[user admin]" {
		t.Fatalf("grant: %d %s", r.Status, r.Body)
	}
	if r := srv.Do(t, "GET", "/v1/admin/users", nil, bearer(alice["access_token"])...); r.Status != 200 {
		t.Errorf("the new role did not apply at once: %d", r.Status)
	}
	ref := srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": alice["refresh_token"]})
	if ref.Status != 200 {
		t.Fatalf("refresh: %d %s", ref.Status, ref.Body)
	}
	alice2 := ref.JSON(t)
	sec.add(alice2["access_token"], alice2["refresh_token"])
	if roles := fmt.Sprint(jwtPart(t, alice2["access_token"], 1)["roles"]); roles != "[user admin]" {
		t.Errorf("refreshed token roles = %s", roles)
	}
	// AZ-04: a demotion applies at once, even to a token that says admin.
	srv.Do(t, "PATCH", "/v1/admin/users/"+aliceID, map[string]any{"roles": []string{"user"}}, admAuth...)
	if r := srv.Do(t, "GET", "/v1/admin/users", nil, bearer(alice2["access_token"])...); r.Status != 403 {
		t.Errorf("demoted admin's token still works on admin routes: %d", r.Status)
	}

	// Disable: tokens, refresh and login stop at once (RT-07, JWT-29).
	r = srv.Do(t, "PATCH", "/v1/admin/users/"+aliceID, map[string]any{"disabled": true}, admAuth...)
	if r.Status != 200 || r.JSON(t)["disabled"] != true {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	if r := srv.Do(t, "GET", "/v1/me", nil, bearer(alice2["access_token"])...); r.Status != 401 {
		t.Errorf("a disabled user's access token: %d", r.Status)
	}
	if r := srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": alice2["refresh_token"]}); r.Status != 400 {
		t.Errorf("a disabled user's refresh: %d", r.Status)
	}
	if r := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "alice@example.com", "password": goodPassword}); r.Status != 401 || r.String(t, "code") != "invalid_credentials" {
		t.Errorf("a disabled user's login: %d %s", r.Status, r.Body)
	}
	if r := srv.Do(t, "GET", "/v1/admin/users/"+aliceID+"/sessions", nil, admAuth...); r.Status != 200 || len(r.JSON(t)["sessions"].([]any)) != 0 {
		t.Errorf("a disabled user's sessions: %d %s", r.Status, r.Body)
	}

	// Events for the audit log: a failed login, reuse detection, a
	// password change, a logout, an admin ending sessions.
	bob := signup(t, srv, "bob@example.com")
	sec.add(bob["access_token"], bob["refresh_token"])
	bobID := userID(bob)
	srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "bob@example.com", "password": "wrong " + goodPassword})
	if r := srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": bob["refresh_token"]}); r.Status != 200 {
		t.Fatalf("bob refresh: %d", r.Status)
	} else {
		sec.add(r.JSON(t)["access_token"], r.JSON(t)["refresh_token"])
	}
	if r := srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": bob["refresh_token"]}); r.Status != 400 {
		t.Errorf("reused refresh token: %d", r.Status)
	}
	const newPassword = "Canary-Pw-bob-new-83aa1f"
	sec.add(newPassword)
	bob = loginJSON(t, srv, "bob@example.com", goodPassword)
	sec.add(bob["access_token"], bob["refresh_token"])
	if r := srv.Do(t, "POST", "/v1/me/password", map[string]string{"current_password": goodPassword, "new_password": newPassword}, bearer(bob["access_token"])...); r.Status != 204 {
		t.Fatalf("password change: %d %s", r.Status, r.Body)
	}
	bob2 := loginJSON(t, srv, "bob@example.com", newPassword)
	sec.add(bob2["access_token"], bob2["refresh_token"])
	if r := srv.Do(t, "POST", "/v1/auth/logout", nil, bearer(bob2["access_token"])...); r.Status != 204 {
		t.Errorf("logout: %d", r.Status)
	}
	r = srv.Do(t, "GET", "/v1/admin/users/"+bobID+"/sessions", nil, admAuth...)
	if r.Status != 200 || len(r.JSON(t)["sessions"].([]any)) != 1 {
		t.Errorf("bob's sessions: %d %s", r.Status, r.Body)
	}
	if r := srv.Do(t, "DELETE", "/v1/admin/users/"+bobID+"/sessions", nil, admAuth...); r.Status != 204 {
		t.Errorf("end bob's sessions: %d", r.Status)
	}
	if r := srv.Do(t, "GET", "/v1/me", nil, bearer(bob["access_token"])...); r.Status != 401 {
		t.Errorf("bob's token after his sessions were ended: %d", r.Status)
	}

	// Delete: the user and their sessions are gone.
	carol := signup(t, srv, "carol@example.com")
	sec.add(carol["access_token"], carol["refresh_token"])
	carolID := userID(carol)
	if r := srv.Do(t, "DELETE", "/v1/admin/users/"+carolID, nil, admAuth...); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r := srv.Do(t, "GET", "/v1/admin/users/"+carolID, nil, admAuth...); r.Status != 404 {
		t.Errorf("deleted user: %d", r.Status)
	}
	if r := srv.Do(t, "GET", "/v1/me", nil, bearer(carol["access_token"])...); r.Status != 401 {
		t.Errorf("deleted user's token: %d", r.Status)
	}
	if r := srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": carol["refresh_token"]}); r.Status != 400 {
		t.Errorf("deleted user's refresh: %d", r.Status)
	}

	// The last admin is protected.
	for _, change := range []struct {
		method string
		body   any
	}{
		{"PATCH", map[string]any{"roles": []string{"user"}}},
		{"PATCH", map[string]any{"disabled": true}},
		{"DELETE", nil},
	} {
		r := srv.Do(t, change.method, "/v1/admin/users/"+adminID, change.body, admAuth...)
		if r.Status != 409 || r.String(t, "code") != "conflict" || !strings.Contains(r.String(t, "detail"), "administrator") {
			t.Errorf("%s of the last admin %v: %d %s", change.method, change.body, r.Status, r.Body)
		}
	}
	if r := srv.Do(t, "GET", "/v1/admin/users/"+adminID, nil, admAuth...); r.Status != 200 || fmt.Sprint(r.JSON(t)["roles"]) != "[admin]" {
		t.Errorf("the last admin changed: %s", r.Body)
	}

	rotationScenario(t, srv, admAuth, adm, &sec)

	// The audit log: every event, with ip and user agent, and no secret.
	var events []map[string]any
	cursor = ""
	for {
		r := srv.Do(t, "GET", "/v1/admin/audit?limit=7&cursor="+cursor, nil, admAuth...)
		if r.Status != 200 {
			t.Fatalf("audit: %d %s", r.Status, r.Body)
		}
		sec.check(t, "the audit log", string(r.Body))
		body := r.JSON(t)
		for _, e := range body["events"].([]any) {
			events = append(events, e.(map[string]any))
		}
		if cursor, _ = body["next_cursor"].(string); cursor == "" {
			break
		}
	}
	for i := 1; i < len(events); i++ {
		if events[i-1]["id"].(string) <= events[i]["id"].(string) {
			t.Fatalf("audit log not newest first at %d", i)
		}
	}
	byType := map[string][]map[string]any{}
	for _, e := range events {
		byType[e["type"].(string)] = append(byType[e["type"].(string)], e)
	}
	for _, typ := range []string{"signup", "login.succeeded", "login.failed", "logout", "refresh", "refresh.reuse_detected",
		"password.changed", "user.updated", "user.deleted", "session.revoked", "keys.rotated"} {
		list := byType[typ]
		if len(list) == 0 {
			t.Errorf("no %s event in the audit log", typ)
			continue
		}
		e := list[0]
		if e["ip"] != "127.0.0.1" || e["user_agent"] == "" || e["outcome"] == "" {
			t.Errorf("%s event lacks ip, user agent or outcome: %v", typ, e)
		}
	}
	if e := byType["user.deleted"]; len(e) > 0 && (e[0]["user_id"] != carolID || !strings.Contains(e[0]["reason"].(string), adminID)) {
		t.Errorf("user.deleted: %v", e[0])
	}
	if e := byType["keys.rotated"]; len(e) > 0 && e[0]["user_id"] != adminID {
		t.Errorf("keys.rotated does not name the admin: %v", e[0])
	}
	var reasons []string
	for _, e := range byType["user.updated"] {
		reasons = append(reasons, e["reason"].(string))
	}
	if !slices.ContainsFunc(reasons, func(s string) bool { return strings.HasPrefix(s, "changed roles,name") }) ||
		!slices.ContainsFunc(reasons, func(s string) bool { return strings.HasPrefix(s, "changed disabled") }) {
		t.Errorf("user.updated reasons: %q", reasons)
	}
	for q, want := range map[string]int{
		"type=user.deleted": 1, "user_id=" + carolID + "&type=signup": 1,
		"since=" + time.Now().Add(time.Hour).UTC().Format(time.RFC3339): 0,
	} {
		r := srv.Do(t, "GET", "/v1/admin/audit?"+q, nil, admAuth...)
		if got := len(r.JSON(t)["events"].([]any)); r.Status != 200 || got != want {
			t.Errorf("audit ?%s: %d events (%d), want %d", q, got, r.Status, want)
		}
	}
	if r := srv.Do(t, "GET", "/v1/admin/audit?since=yesterday", nil, admAuth...); r.Status != 400 {
		t.Errorf("bad since: %d", r.Status)
	}

	// The CLI reads the same log.
	out, errOut, err := runCLI(t, "", append([]string{"audit", "tail", "--type", "user.deleted", "--data-dir", dir}, db...)...)
	if err != nil || !strings.Contains(out, "user.deleted") || !strings.Contains(out, carolID) {
		t.Errorf("audit tail: %v %q %s", err, out, errOut)
	}
	sec.check(t, "audit tail", out+errOut)
	sec.check(t, "the server log", srv.Logs())
}

// rotationScenario checks KEY-03: the next key is published before it
// signs, old tokens keep verifying, and a verifier that cached the JWKS
// before the rotation verifies new tokens without fetching it again.
func rotationScenario(t *testing.T, srv *apptest.Instance, admAuth []string, adm map[string]any, sec *secrets) {
	keys := func() map[string]string {
		r := srv.Do(t, "GET", "/v1/admin/keys", nil, admAuth...)
		if r.Status != 200 || strings.Contains(string(r.Body), "private") || strings.Contains(string(r.Body), "\"d\"") {
			t.Fatalf("keys: %d %s", r.Status, r.Body)
		}
		out := map[string]string{}
		for _, k := range r.JSON(t)["keys"].([]any) {
			k := k.(map[string]any)
			out[k["kid"].(string)] = k["state"].(string)
		}
		return out
	}
	jwks := func() []string {
		var doc struct{ Keys []struct{ Kid string } }
		if err := json.Unmarshal(srv.Do(t, "GET", "/.well-known/jwks.json", nil).Body, &doc); err != nil {
			t.Fatal(err)
		}
		var kids []string
		for _, k := range doc.Keys {
			kids = append(kids, k.Kid)
		}
		slices.Sort(kids)
		return kids
	}
	before := keys()
	k1 := jwtPart(t, adm["access_token"], 0)["kid"].(string)
	var k2 string
	for kid, state := range before {
		if state == "next" {
			k2 = kid
		}
	}
	if before[k1] != "current" || k2 == "" || len(before) != 2 {
		t.Fatalf("keys before rotation: %v (token kid %s)", before, k1)
	}
	if got := jwks(); !slices.Contains(got, k1) || !slices.Contains(got, k2) {
		t.Fatalf("JWKS before rotation %v lacks the current or next key", got)
	}

	var fetches atomic.Int64
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		fetches.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	v, err := verify.New(verify.Config{Issuer: srv.URL, HTTPClient: client, JWKSRefreshInterval: time.Hour, UnknownKIDMinInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	check := func(tok any) error {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Authorization", "Bearer "+fmt.Sprint(tok))
		_, err := v.Authenticate(req)
		return err
	}
	if err := check(adm["access_token"]); err != nil {
		t.Fatalf("verifier before rotation: %v", err)
	}

	r := srv.Do(t, "POST", "/v1/admin/keys/rotate", nil, admAuth...)
	if r.Status != 200 {
		t.Fatalf("rotate: %d %s", r.Status, r.Body)
	}
	after := keys()
	if after[k1] != "retired" || after[k2] != "current" || len(after) != 3 {
		t.Fatalf("keys after rotation: %v", after)
	}
	if got := jwks(); len(got) != 3 || !slices.Contains(got, k1) || !slices.Contains(got, k2) {
		t.Errorf("JWKS after rotation: %v", got)
	}
	fresh := loginJSON(t, srv, "root@example.com", adminPassword)
	sec.add(fresh["access_token"], fresh["refresh_token"])
	if kid := jwtPart(t, fresh["access_token"], 0)["kid"]; kid != k2 {
		t.Errorf("a new token is signed by %v, want the promoted key %s", kid, k2)
	}
	for name, tok := range map[string]any{"old": adm["access_token"], "new": fresh["access_token"]} {
		if err := check(tok); err != nil {
			t.Errorf("cached verifier, %s token: %v", name, err)
		}
		if r := srv.Do(t, "GET", "/v1/me", nil, bearer(tok)...); r.Status != 200 {
			t.Errorf("latchkey, %s token after rotation: %d", name, r.Status)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("the verifier fetched the JWKS %d times, want 1 (the next key was already cached)", n)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
