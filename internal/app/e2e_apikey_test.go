package app_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/apikey"
	"github.com/latchkey/latchkey/internal/apptest"
)

func createKey(t *testing.T, srv *apptest.Instance, auth []string, body map[string]any) map[string]any {
	t.Helper()
	r := srv.Do(t, "POST", "/v1/api-keys", body, auth...)
	if r.Status != 201 {
		t.Fatalf("create key: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)
}

// storeLookups reads how many API-key verifications reached the database.
func storeLookups(t *testing.T, srv *apptest.Instance) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^latchkey_apikey_store_lookups_total (\d+)`).FindSubmatch(srv.Do(t, "GET", "/metrics", nil).Body)
	if m == nil {
		t.Fatal("latchkey_apikey_store_lookups_total missing from /metrics")
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

func TestAPIKeyLifecycle(t *testing.T) {
	srv := apptest.Start(t)
	owner := signup(t, srv, "keys@example.com")
	auth := bearer(owner["access_token"])
	k := createKey(t, srv, auth, map[string]any{"name": "ci deploy", "scopes": []string{"deploy", "read"}})
	key, _ := k["key"].(string)
	if !regexp.MustCompile(`^` + strings.TrimSuffix(strings.TrimPrefix(apikey.Pattern, `\b`), `\b`) + `$`).MatchString(key) {
		t.Fatalf("key %q does not match the documented pattern", key)
	}
	if k["prefix"] != key[:11] || k["name"] != "ci deploy" || fmt.Sprint(k["scopes"]) != "[deploy read]" || k["expires_at"] != nil {
		t.Errorf("create response: %v", k)
	}

	me := srv.Do(t, "GET", "/v1/me", nil, "X-API-Key", key)
	if me.Status != 200 {
		t.Fatalf("me with X-API-Key: %d %s", me.Status, me.Body)
	}
	if ak, _ := me.JSON(t)["api_key"].(map[string]any); ak["id"] != k["id"] || ak["name"] != "ci deploy" {
		t.Errorf("me.api_key = %v", me.JSON(t)["api_key"])
	}
	if r := srv.Do(t, "GET", "/v1/me", nil, "Authorization", "Bearer "+key); r.Status != 200 {
		t.Errorf("me with Authorization: Bearer lk_…: %d", r.Status)
	}
	if r := srv.Do(t, "GET", "/v1/me?api_key="+key, nil); r.Status != 401 {
		t.Errorf("key in the URL accepted: %d", r.Status)
	}
	if r := srv.Do(t, "GET", "/v1/me", nil, "X-API-Key", key, "Authorization", "Bearer "+owner["access_token"].(string)); r.Status != 400 {
		t.Errorf("two credentials: %d", r.Status)
	}

	list := srv.Do(t, "GET", "/v1/api-keys", nil, auth...)
	if list.Status != 200 || strings.Contains(string(list.Body), key) || strings.Contains(string(list.Body), key[11:30]) || strings.Contains(string(list.Body), `"key"`) {
		t.Fatalf("list leaks the secret or failed: %d %s", list.Status, list.Body)
	}
	if n := len(list.JSON(t)["api_keys"].([]any)); n != 1 {
		t.Errorf("%d keys listed", n)
	}

	other := signup(t, srv, "other@example.com")
	if r := srv.Do(t, "DELETE", "/v1/api-keys/"+k["id"].(string), nil, bearer(other["access_token"])...); r.Status != 404 {
		t.Errorf("another user revoking my key: %d", r.Status)
	}
	if r := srv.Do(t, "GET", "/v1/api-keys", nil, bearer(other["access_token"])...); strings.Contains(string(r.Body), k["id"].(string)) {
		t.Error("another user sees my key")
	}
	if r := srv.Do(t, "DELETE", "/v1/api-keys/"+k["id"].(string), nil, auth...); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	r := srv.Do(t, "GET", "/v1/me", nil, "X-API-Key", key)
	if r.Status != 401 || r.String(t, "code") != "invalid_api_key" || !strings.Contains(r.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("revoked key (cached a moment ago) still accepted: %d %s", r.Status, r.Body)
	}
	if strings.Contains(srv.Logs(), key) {
		t.Error("the key reached the log")
	}
}

func TestMistypedKeysNeverReachTheDatabase(t *testing.T) {
	srv := apptest.Start(t)
	owner := signup(t, srv, "typo@example.com")
	key := createKey(t, srv, bearer(owner["access_token"]), map[string]any{"name": "k"})["key"].(string)
	before := storeLookups(t, srv)
	flip := func(c byte) byte {
		if c == 'a' {
			return 'b'
		}
		return 'a'
	}
	for _, bad := range []string{key[:len(key)-1], key + "x", key[:20] + string(flip(key[20])) + key[21:], "lk_" + strings.Repeat("A", 49), "lk_", "lk_' OR '1'='1"} {
		r := srv.Do(t, "GET", "/v1/me", nil, "X-API-Key", bad)
		if r.Status != 401 || r.String(t, "code") != "invalid_api_key" {
			t.Errorf("malformed key %q: %d %s", bad, r.Status, r.Body)
		}
	}
	if after := storeLookups(t, srv); after != before {
		t.Fatalf("malformed keys caused %d database lookups, want 0", after-before)
	}
	for range 3 {
		if r := srv.Do(t, "GET", "/v1/me", nil, "X-API-Key", key); r.Status != 200 {
			t.Fatalf("valid key: %d", r.Status)
		}
	}
	if after := storeLookups(t, srv); after-before != 1 {
		t.Fatalf("three uses of one key made %d database lookups, want 1 (then cached)", after-before)
	}
}

func TestAPIKeyScopesAndLimits(t *testing.T) {
	srv := apptest.Start(t)
	owner := signup(t, srv, "scopes@example.com")
	auth := bearer(owner["access_token"])
	readOnly := createKey(t, srv, auth, map[string]any{"name": "ro", "scopes": []string{"read"}})["key"].(string)
	unscoped := createKey(t, srv, auth, map[string]any{"name": "all"})["key"].(string)
	manager := createKey(t, srv, auth, map[string]any{"name": "mgr", "scopes": []string{"apikeys:write"}})["key"].(string)

	for _, key := range []string{readOnly, unscoped} {
		if r := srv.Do(t, "POST", "/v1/api-keys", map[string]any{"name": "minted"}, "X-API-Key", key); r.Status != 403 {
			t.Errorf("a key without apikeys:write minted a key: %d", r.Status)
		}
		if r := srv.Do(t, "GET", "/v1/api-keys", nil, "X-API-Key", key); r.Status != 403 {
			t.Errorf("a key without apikeys:write listed keys: %d", r.Status)
		}
		if r := srv.Do(t, "POST", "/v1/me/password", map[string]string{"current_password": goodPassword, "new_password": "another fine passphrase"}, "X-API-Key", key); r.Status != 403 {
			t.Errorf("a key changed the password: %d", r.Status)
		}
		if r := srv.Do(t, "GET", "/v1/sessions", nil, "X-API-Key", key); r.Status != 403 {
			t.Errorf("a key listed sessions: %d", r.Status)
		}
	}
	if r := srv.Do(t, "PATCH", "/v1/me", map[string]string{"name": "x"}, "X-API-Key", readOnly); r.Status != 403 {
		t.Errorf("read-only key changed the profile: %d", r.Status)
	}
	if r := srv.Do(t, "PATCH", "/v1/me", map[string]string{"name": "x"}, "X-API-Key", unscoped); r.Status != 200 {
		t.Errorf("unscoped key (all the owner's rights) could not change the profile: %d", r.Status)
	}
	if r := srv.Do(t, "POST", "/v1/api-keys", map[string]any{"name": "minted"}, "X-API-Key", manager); r.Status != 201 {
		t.Errorf("apikeys:write key could not mint: %d %s", r.Status, r.Body)
	}
	for _, body := range []map[string]any{{"name": ""}, {"name": strings.Repeat("n", 101)}, {"name": "x", "scopes": []string{"bad scope"}},
		{"name": "x", "expires_in": -5}, {"name": "x", "expires_in": 1 << 40}} {
		if r := srv.Do(t, "POST", "/v1/api-keys", body, auth...); r.Status != 400 {
			t.Errorf("create %v: %d", body, r.Status)
		}
	}
}

func TestAPIKeyExpiryAndLastUse(t *testing.T) {
	srv := apptest.Start(t)
	owner := signup(t, srv, "expiry@example.com")
	auth := bearer(owner["access_token"])
	short := createKey(t, srv, auth, map[string]any{"name": "short", "expires_in": 1})
	long := createKey(t, srv, auth, map[string]any{"name": "long", "expires_in": 3600})
	if r := srv.Do(t, "GET", "/v1/me", nil, "X-API-Key", short["key"].(string)); r.Status != 200 {
		t.Fatalf("fresh short-lived key: %d", r.Status)
	}
	if r := srv.Do(t, "GET", "/v1/me", nil, "X-API-Key", long["key"].(string)); r.Status != 200 {
		t.Fatalf("long-lived key: %d", r.Status)
	}
	time.Sleep(1100 * time.Millisecond)
	if r := srv.Do(t, "GET", "/v1/me", nil, "X-API-Key", short["key"].(string)); r.Status != 401 {
		t.Errorf("expired key (in the cache) accepted: %d", r.Status)
	}
	// last_used_at is written in batches; a shutdown flushes what is pending.
	dir := srv.DataDir
	srv.Stop(t)
	srv = apptest.StartIn(t, dir)
	login := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "expiry@example.com", "password": goodPassword}).JSON(t)
	for _, k := range srv.Do(t, "GET", "/v1/api-keys", nil, bearer(login["access_token"])...).JSON(t)["api_keys"].([]any) {
		m := k.(map[string]any)
		if m["id"] == long["id"] && m["last_used_at"] == nil {
			t.Errorf("last_used_at not recorded: %v", m)
		}
	}
}

func TestCLIAPIKeyCreate(t *testing.T) {
	dir := t.TempDir()
	srv := apptest.StartIn(t, dir)
	signup(t, srv, "cli-key@example.com")
	srv.Stop(t)
	out, errOut, err := runCLI(t, "", "apikey", "create", "--user", "cli-key@example.com", "--name", "from cli", "--scope", "a,b", "--data-dir", dir)
	if err != nil {
		t.Fatalf("apikey create: %v %s", err, errOut)
	}
	key := strings.TrimSpace(out)
	if apikey.Parse(key) != nil {
		t.Fatalf("printed %q, not a key", out)
	}
	list, _, err := runCLI(t, "", "apikey", "list", "--user", "cli-key@example.com", "--data-dir", dir)
	if err != nil || !strings.Contains(list, "from cli") || strings.Contains(list, key) {
		t.Fatalf("apikey list: %v %q", err, list)
	}
	srv = apptest.StartIn(t, dir)
	r := srv.Do(t, "GET", "/v1/me", nil, "X-API-Key", key)
	if r.Status != 200 {
		t.Fatalf("CLI key: %d", r.Status)
	}
	id := r.JSON(t)["api_key"].(map[string]any)["id"].(string)
	srv.Stop(t)
	if out, _, err := runCLI(t, "", "apikey", "revoke", id, "--data-dir", dir); err != nil || !strings.Contains(out, "revoked") {
		t.Fatalf("apikey revoke: %v %q", err, out)
	}
	srv = apptest.StartIn(t, dir)
	if r := srv.Do(t, "GET", "/v1/me", nil, "X-API-Key", key); r.Status != 401 {
		t.Fatalf("revoked CLI key: %d", r.Status)
	}
}

// TestAPIKeysOfDisabledAndDemotedUsers: an admin's change to a user reaches
// that user's API keys at once, even though verified keys are cached.
func TestAPIKeysOfDisabledAndDemotedUsers(t *testing.T) {
	srv, _ := startWithAdmin(t, nil)
	adm := bearer(loginJSON(t, srv, "root@example.com", adminPassword)["access_token"])
	owner := signup(t, srv, "keyholder@example.com")
	key := createKey(t, srv, bearer(owner["access_token"]), map[string]any{"name": "k"})["key"].(string)
	id := userID(owner)

	if r := srv.Do(t, "PATCH", "/v1/admin/users/"+id, map[string]any{"roles": []string{"user", "billing"}}, adm...); r.Status != 200 {
		t.Fatalf("grant: %d %s", r.Status, r.Body)
	}
	if roles := fmt.Sprint(srv.Do(t, "GET", "/v1/me", nil, "X-API-Key", key).JSON(t)["roles"]); roles != "[user billing]" {
		t.Errorf("a cached key still reports the old roles: %s", roles)
	}
	if r := srv.Do(t, "PATCH", "/v1/admin/users/"+id, map[string]any{"disabled": true}, adm...); r.Status != 200 {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	if r := srv.Do(t, "GET", "/v1/me", nil, "X-API-Key", key); r.Status != 401 {
		t.Fatalf("a disabled user's key still works: %d", r.Status)
	}
	if r := srv.Do(t, "PATCH", "/v1/admin/users/"+id, map[string]any{"disabled": false}, adm...); r.Status != 200 {
		t.Fatalf("enable: %d", r.Status)
	}
	if r := srv.Do(t, "GET", "/v1/me", nil, "X-API-Key", key); r.Status != 401 {
		t.Errorf("disabling revoked the keys for good, but one works again: %d", r.Status)
	}
}
