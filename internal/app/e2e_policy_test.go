package app_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/internal/server"
	"github.com/latchkey/latchkey/internal/testenv"
)

// forEachStore runs f on SQLite and on PostgreSQL; db is the serve flag
// that picks the database (none for SQLite).
func forEachStore(t *testing.T, f func(t *testing.T, db []string)) {
	t.Run("sqlite", func(t *testing.T) { f(t, nil) })
	t.Run("postgres", func(t *testing.T) { f(t, []string{"--database", testenv.PostgresSchema(t)}) })
}

// adminAudit reads audit events of one type through the admin API.
func adminAudit(t *testing.T, srv *apptest.Instance, admAuth []string, typ string) []map[string]any {
	t.Helper()
	r := srv.Do(t, "GET", "/v1/admin/audit?limit=200&type="+url.QueryEscape(typ), nil, admAuth...)
	if r.Status != http.StatusOK {
		t.Fatalf("audit: %d %s", r.Status, r.Body)
	}
	var out []map[string]any
	for _, e := range r.JSON(t)["events"].([]any) {
		out = append(out, e.(map[string]any))
	}
	return out
}

// reauthWindow is short so that tests can let a session go stale.
const reauthWindow = 1500 * time.Millisecond

// concrete fills a route pattern's wildcards with ids that exist nowhere.
func concrete(pattern string) (method, path string) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "POST", pattern
	}
	path = strings.NewReplacer("{id}", "nonexistent", "{provider}", "nonexistent").Replace(path)
	return method, path
}

func problemCode(t *testing.T, r *apptest.Response) string {
	t.Helper()
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
		return ""
	}
	c, _ := r.JSON(t)["code"].(string)
	return c
}

// TestRoutePoliciesEnforced walks every route of the policy table and
// proves each dimension of its policy against the real server: a
// credential kind it does not accept, an unscoped or wrongly scoped API
// key, a user without the role, a stale session, and a cross-site request
// with the session cookie.
func TestRoutePoliciesEnforced(t *testing.T) {
	routes, err := server.RouteTable()
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := startWithAdmin(t, []string{"--reauth-window", reauthWindow.String()})
	adm := loginJSON(t, srv, "root@example.com", adminPassword)
	admAuth := bearer(adm["access_token"])
	unscopedAdminKey := createKey(t, srv, admAuth, map[string]any{"name": "unscoped"})["key"].(string)
	reportsAdminKey := createKey(t, srv, admAuth, map[string]any{"name": "reports", "scopes": []string{"reports:read"}})["key"].(string)
	adminScopedKey := createKey(t, srv, admAuth, map[string]any{"name": "admin", "scopes": []string{"admin"}})["key"].(string)
	user := signup(t, srv, "policy-user@example.com")
	userAuth := bearer(user["access_token"])
	cookie := webLogin(t, srv, "policy-user@example.com")
	adminCookie := webLoginAs(t, srv, "root@example.com", adminPassword)
	time.Sleep(reauthWindow + 200*time.Millisecond) // every session above is now stale

	for _, rt := range routes {
		if rt.Public {
			continue
		}
		method, path := concrete(rt.Pattern)
		t.Run(rt.Pattern, func(t *testing.T) {
			if !slices.Contains(rt.Credentials, "api_key") {
				r := srv.Do(t, method, path, nil, "X-API-Key", unscopedAdminKey)
				if r.Status != http.StatusForbidden && !(rt.Page && r.Status == http.StatusSeeOther) {
					t.Errorf("an API key: %d %s, want 403", r.Status, r.Body)
				}
			}
			if rt.Scope != "" && slices.Contains(rt.Credentials, "api_key") {
				for name, key := range map[string]string{"unscoped": unscopedAdminKey, "reports:read": reportsAdminKey} {
					if rt.Scope == "profile:write" && name == "unscoped" {
						continue // an unscoped key carries profile:write
					}
					if r := srv.Do(t, method, path, nil, "X-API-Key", key); r.Status != http.StatusForbidden {
						t.Errorf("a %s admin key without %s: %d %s, want 403", name, rt.Scope, r.Status, r.Body)
					}
				}
			}
			if rt.Role == latchkey.RoleAdmin && !rt.Page {
				if r := srv.Do(t, method, path, nil, userAuth...); r.Status != http.StatusForbidden {
					t.Errorf("a user without the admin role: %d %s, want 403", r.Status, r.Body)
				}
				if r := srv.Do(t, method, path, nil, "X-API-Key", adminScopedKey); r.Status == http.StatusForbidden || r.Status == http.StatusUnauthorized {
					t.Errorf("an admin key with the admin scope: %d %s", r.Status, r.Body)
				}
			}
			if rt.Role == latchkey.RoleAdmin && rt.Page { // the console: the session cookie of an administrator
				form := []string{"Content-Type", "application/x-www-form-urlencoded"}
				if r := srv.Do(t, method, path, "", withCookie(cookie, form...)...); r.Status != http.StatusForbidden {
					t.Errorf("a user without the admin role: %d %s, want 403", r.Status, r.Body)
				}
				// A page refuses a caller with 403, or sends them to sign in.
				r := srv.Do(t, method, path, "", withCookie(adminCookie, form...)...)
				if r.Status == http.StatusForbidden || strings.HasPrefix(r.Header.Get("Location"), "/login") {
					t.Errorf("an administrator's session: %d %v %s", r.Status, r.Header, r.Body)
				}
			}
			if rt.Fresh && slices.Contains(rt.Credentials, "bearer") {
				stale := userAuth
				if rt.Role == latchkey.RoleAdmin {
					stale = admAuth // the admin's session is as stale; the role check comes first
				}
				r := srv.Do(t, method, path, nil, stale...)
				if r.Status != http.StatusForbidden || problemCode(t, r) != latchkey.EReauthenticationRequired {
					t.Errorf("a stale session: %d %s, want 403 reauthentication_required", r.Status, r.Body)
				}
			}
			if rt.Fresh && rt.Page {
				c := cookie
				if rt.Role == latchkey.RoleAdmin {
					c = adminCookie
				}
				r := srv.Do(t, method, path, "", withCookie(c, "Content-Type", "application/x-www-form-urlencoded")...)
				if r.Status != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "reauth-needed") {
					t.Errorf("a stale page session: %d %v, want 303 to the re-authentication prompt", r.Status, r.Header)
				}
			}
			if slices.Contains(rt.Credentials, "cookie") && method != http.MethodGet {
				r := srv.Do(t, method, path, "", withCookie(cookie, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site",
					"Content-Type", "application/x-www-form-urlencoded")...)
				if r.Status != http.StatusForbidden {
					t.Errorf("a cross-site request with the session cookie: %d %s, want 403", r.Status, r.Body)
				}
			}
		})
	}
}

// TestAdminAPIKeysAreBoundByScope: an administrator's key reaches the admin
// API only with the admin scope (AK-06).
func TestAdminAPIKeysAreBoundByScope(t *testing.T) { forEachStore(t, adminKeysScenario) }

func adminKeysScenario(t *testing.T, db []string) {
	srv, _ := startWithAdmin(t, db)
	admAuth := bearer(loginJSON(t, srv, "root@example.com", adminPassword)["access_token"])
	bob := signup(t, srv, "scoped-bob@example.com")
	reports := createKey(t, srv, admAuth, map[string]any{"name": "reports", "scopes": []string{"reports:read"}})["key"].(string)
	unscoped := createKey(t, srv, admAuth, map[string]any{"name": "everything"})["key"].(string)
	adminKey := createKey(t, srv, admAuth, map[string]any{"name": "ops", "scopes": []string{"admin"}})["key"].(string)
	promote := map[string]any{"roles": []string{"user", "admin"}}
	for name, key := range map[string]string{"reports:read": reports, "unscoped": unscoped} {
		for _, c := range []struct{ method, path string }{
			{"PATCH", "/v1/admin/users/" + userID(bob)}, {"POST", "/v1/admin/keys/rotate"}, {"GET", "/v1/admin/audit"},
		} {
			var body any
			if c.method == "PATCH" {
				body = promote
			}
			if r := srv.Do(t, c.method, c.path, body, "X-API-Key", key); r.Status != http.StatusForbidden {
				t.Errorf("%s key: %s %s: %d %s, want 403", name, c.method, c.path, r.Status, r.Body)
			}
		}
	}
	if r := srv.Do(t, "GET", "/v1/admin/users/"+userID(bob), nil, "X-API-Key", adminKey); r.Status != http.StatusOK {
		t.Errorf("admin-scoped key: %d %s", r.Status, r.Body)
	}
	if r := srv.Do(t, "GET", "/v1/me", nil, "X-API-Key", unscoped); r.Status != http.StatusOK {
		t.Errorf("an unscoped key still reads /v1/me: %d", r.Status)
	}
}

// TestStolenSessionCannotMintALastingKey (AK-08, AUTH-13): a stale
// session cannot create an API key until the password is confirmed; the
// token says when the session authenticated; a password change can revoke
// every key, and so can an administrator.
func TestStolenSessionCannotMintALastingKey(t *testing.T) { forEachStore(t, sudoScenario) }

func sudoScenario(t *testing.T, db []string) {
	srv, _ := startWithAdmin(t, append([]string{"--reauth-window", reauthWindow.String()}, db...))
	tok := signup(t, srv, "sudo@example.com")
	auth := bearer(tok["access_token"])
	authTime, _ := jwtPart(t, tok["access_token"], 1)["auth_time"].(float64)
	if authTime == 0 || time.Since(time.Unix(int64(authTime), 0)) > time.Minute {
		t.Fatalf("auth_time claim: %v", jwtPart(t, tok["access_token"], 1))
	}
	key := createKey(t, srv, auth, map[string]any{"name": "fresh"}) // fresh from sign-up
	time.Sleep(reauthWindow + 200*time.Millisecond)

	r := srv.Do(t, "POST", "/v1/api-keys", map[string]any{"name": "stolen"}, auth...)
	if r.Status != http.StatusForbidden || problemCode(t, r) != latchkey.EReauthenticationRequired {
		t.Fatalf("stale session creates a key: %d %s", r.Status, r.Body)
	}
	if r := srv.Do(t, "POST", "/v1/auth/reauthenticate", map[string]string{"password": "wrong password!"}, auth...); r.Status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d %s", r.Status, r.Body)
	}
	if r := srv.Do(t, "POST", "/v1/auth/reauthenticate", map[string]string{"password": goodPassword}, "X-API-Key", key["key"].(string)); r.Status != http.StatusForbidden {
		t.Fatalf("an API key re-authenticates: %d %s", r.Status, r.Body)
	}
	if r := srv.Do(t, "POST", "/v1/auth/reauthenticate", map[string]string{"password": goodPassword}, auth...); r.Status != http.StatusNoContent {
		t.Fatalf("reauthenticate: %d %s", r.Status, r.Body)
	}
	second := createKey(t, srv, auth, map[string]any{"name": "after sudo"})
	admAuth := bearer(loginJSON(t, srv, "root@example.com", adminPassword)["access_token"])
	if events := adminAudit(t, srv, admAuth, latchkey.AuditReauthenticated); len(events) != 2 ||
		events[0]["outcome"] != "success" || events[1]["outcome"] != "failure" {
		t.Errorf("session.reauthenticated events: %v, want a failure then a success", events)
	}

	// The password change revokes every key when asked.
	r = srv.Do(t, "POST", "/v1/me/password", map[string]any{"current_password": goodPassword,
		"new_password": "another good password", "revoke_api_keys": true}, auth...)
	if r.Status != http.StatusNoContent {
		t.Fatalf("password change: %d %s", r.Status, r.Body)
	}
	for _, k := range []map[string]any{key, second} {
		if r := srv.Do(t, "GET", "/v1/me", nil, "X-API-Key", k["key"].(string)); r.Status != http.StatusUnauthorized {
			t.Errorf("key %s after the password change: %d", k["name"], r.Status)
		}
	}

	// An administrator can revoke a user's keys at once.
	third := createKey(t, srv, auth, map[string]any{"name": "third"})
	r = srv.Do(t, "DELETE", "/v1/admin/users/"+userID(tok)+"/api-keys", nil, admAuth...)
	if r.Status != http.StatusOK || r.JSON(t)["revoked"] != float64(1) {
		t.Fatalf("admin revokes keys: %d %s", r.Status, r.Body)
	}
	if r := srv.Do(t, "GET", "/v1/me", nil, "X-API-Key", third["key"].(string)); r.Status != http.StatusUnauthorized {
		t.Errorf("key after the admin revoked it: %d", r.Status)
	}
}

// TestUnlinkIdentityNeedsAFreshSession (AUTH-13): an API key,
// whatever its scopes, cannot change how an account signs in.
func TestUnlinkIdentityNeedsAFreshSession(t *testing.T) {
	srv := apptest.Start(t, "--reauth-window", reauthWindow.String())
	tok := signup(t, srv, "unlink@example.com")
	auth := bearer(tok["access_token"])
	key := createKey(t, srv, auth, map[string]any{"name": "all", "scopes": []string{"apikeys:write", "profile:write", "admin"}})
	if r := srv.Do(t, "DELETE", "/v1/me/identities/x", nil, "X-API-Key", key["key"].(string)); r.Status != http.StatusForbidden {
		t.Errorf("unlink with an API key: %d %s", r.Status, r.Body)
	}
	if r := srv.Do(t, "DELETE", "/v1/me/identities/x", nil, auth...); r.Status != http.StatusNotFound {
		t.Errorf("unlink an unknown identity with a fresh session: %d %s", r.Status, r.Body)
	}
	time.Sleep(reauthWindow + 200*time.Millisecond)
	if r := srv.Do(t, "DELETE", "/v1/me/identities/x", nil, auth...); problemCode(t, r) != latchkey.EReauthenticationRequired {
		t.Errorf("unlink with a stale session: %d %s", r.Status, r.Body)
	}
}

// TestIntrospectionReportsCurrentRoles (AZ-04): introspection
// answers with the user's roles now, as /v1/verify does, and a disabled
// user's token is inactive.
func TestIntrospectionReportsCurrentRoles(t *testing.T) { forEachStore(t, currentRolesScenario) }

func currentRolesScenario(t *testing.T, db []string) {
	srv, _ := startWithAdmin(t, db)
	admAuth := bearer(loginJSON(t, srv, "root@example.com", adminPassword)["access_token"])
	caller := createKey(t, srv, admAuth, map[string]any{"name": "rs", "scopes": []string{"introspect"}})["key"].(string)
	bob := signup(t, srv, "intro-roles@example.com")
	introspect := func() map[string]any {
		r := srv.Do(t, "POST", "/v1/introspect", "token="+url.QueryEscape(bob["access_token"].(string)),
			"Content-Type", "application/x-www-form-urlencoded", "X-API-Key", caller)
		if r.Status != http.StatusOK {
			t.Fatalf("introspect: %d %s", r.Status, r.Body)
		}
		return r.JSON(t)
	}
	if r := srv.Do(t, "PATCH", "/v1/admin/users/"+userID(bob), map[string]any{"roles": []string{"user", "reports"}}, admAuth...); r.Status != http.StatusOK {
		t.Fatal(r.Status)
	}
	if roles := introspect()["roles"]; len(roles.([]any)) != 2 {
		t.Errorf("roles after the grant: %v, want the current [user reports]", roles)
	}
	verify := srv.Do(t, "GET", "/v1/verify?role=reports", nil, bearer(bob["access_token"])...)
	if verify.Status != http.StatusOK {
		t.Errorf("verify agrees: %d", verify.Status)
	}
	if r := srv.Do(t, "PATCH", "/v1/admin/users/"+userID(bob), map[string]any{"disabled": true}, admAuth...); r.Status != http.StatusOK {
		t.Fatal(r.Status)
	}
	if m := introspect(); m["active"] != false {
		t.Errorf("disabled user's token: %v", m)
	}
}

// TestGraceRefreshIsAudited: a refresh token presented again within the grace
// period gets its successor, and the audit log records it as refresh.grace
// (LOG-02).
func TestGraceRefreshIsAudited(t *testing.T) {
	forEachStore(t, func(t *testing.T, db []string) {
		srv, _ := startWithAdmin(t, append(db, "--refresh-reuse-grace", "10s"))
		graceAuditScenario(t, srv)
	})
}

func graceAuditScenario(t *testing.T, srv *apptest.Instance) {
	tok := signup(t, srv, "grace-audit@example.com")
	for range 2 {
		if r := srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": tok["refresh_token"]}); r.Status != http.StatusOK {
			t.Fatalf("refresh: %d %s", r.Status, r.Body)
		}
	}
	admAuth := bearer(loginJSON(t, srv, "root@example.com", adminPassword)["access_token"])
	events := adminAudit(t, srv, admAuth, latchkey.AuditRefreshGrace)
	if len(events) != 1 || events[0]["session_id"] != tok["session_id"] {
		t.Errorf("refresh.grace events: %v, want one for the session", events)
	}
}

// TestOwnEndpointsHonourExpExactly (JWT-16): latchkey issued the
// token with its own clock, so its own endpoints give no leeway.
func TestOwnEndpointsHonourExpExactly(t *testing.T) {
	srv := apptest.Start(t, "--access-token-ttl", "1s")
	tok := signup(t, srv, "exp@example.com")
	exp := time.Unix(int64(jwtPart(t, tok["access_token"], 1)["exp"].(float64)), 0)
	time.Sleep(time.Until(exp) + 300*time.Millisecond)
	if r := srv.Do(t, "GET", "/v1/me", nil, bearer(tok["access_token"])...); r.Status != http.StatusUnauthorized {
		t.Errorf("a token just past exp: %d, want 401", r.Status)
	}
}
