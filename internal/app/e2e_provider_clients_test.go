package app_test

import (
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/testenv"
)

// TestProviderClientsAdminAPI manages the OpenID provider's clients over
// the admin API, on SQLite and PostgreSQL: the secret is shown once and
// never again, rotation keeps the previous one listed as working, and
// every change is audited without the secret.
func TestProviderClientsAdminAPI(t *testing.T) {
	for _, b := range []struct {
		name string
		db   func(t *testing.T) []string
	}{
		{"sqlite", func(*testing.T) []string { return nil }},
		{"postgres", func(t *testing.T) []string { return []string{"--database", testenv.PostgresSchema(t)} }},
	} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := startWithAdmin(t, b.db(t))
			root := loginJSON(t, srv, "root@example.com", adminPassword)
			auth := bearer(root["access_token"])
			var seen secrets

			r := srv.Do(t, "POST", "/v1/admin/clients", map[string]any{"name": "Web app", "redirect_uris": []string{"https://app.example/cb"},
				"scopes": []string{"openid", "email"}}, auth...)
			if r.Status != 201 || r.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("create: %d %s", r.Status, r.Body)
			}
			created := r.JSON(t)
			secret := created["client_secret"].(string)
			seen.add(secret)
			client := created["client"].(map[string]any)
			id := client["id"].(string)
			if len(secret) != 43 || client["type"] != "confidential" || client["token_endpoint_auth_method"] != "client_secret_basic" {
				t.Fatalf("created client: %s", r.Body)
			}
			for _, bad := range []map[string]any{
				{"name": "x", "redirect_uris": []string{"https://app.example/cb#frag"}},
				{"name": "x", "redirect_uris": []string{"http://app.example/cb"}},
				{"name": "x", "type": "public", "grant_types": []string{"client_credentials"}},
				{"name": "x", "redirect_uris": []string{"https://a.example/"}, "client_secret": "mine"},
			} {
				if r := srv.Do(t, "POST", "/v1/admin/clients", bad, auth...); r.Status != 400 {
					t.Errorf("create %v: %d %s", bad, r.Status, r.Body)
				}
			}
			pub := srv.Do(t, "POST", "/v1/admin/clients", map[string]any{"name": "SPA", "type": "public",
				"redirect_uris": []string{"http://127.0.0.1:5173/cb"}}, auth...)
			if pub.Status != 201 || strings.Contains(string(pub.Body), "client_secret") {
				t.Fatalf("public client: %d %s", pub.Status, pub.Body)
			}

			r = srv.Do(t, "GET", "/v1/admin/clients/"+id, nil, auth...)
			if r.Status != 200 || strings.Contains(string(r.Body), secret) || strings.Contains(string(r.Body), "secret_hash") {
				t.Fatalf("get: %d %s", r.Status, r.Body)
			}
			r = srv.Do(t, "PATCH", "/v1/admin/clients/"+id, map[string]any{"first_party": true, "redirect_uris": []string{"https://app.example/cb2"}}, auth...)
			if r.Status != 200 || r.JSON(t)["first_party"] != true {
				t.Fatalf("patch: %d %s", r.Status, r.Body)
			}
			r = srv.Do(t, "POST", "/v1/admin/clients/"+id+"/rotate-secret", map[string]any{"overlap_seconds": 3600}, auth...)
			if r.Status != 200 {
				t.Fatalf("rotate: %d %s", r.Status, r.Body)
			}
			rotated := r.JSON(t)
			next := rotated["client_secret"].(string)
			seen.add(next)
			if next == secret || rotated["client"].(map[string]any)["previous_secret_expires_at"] == nil {
				t.Fatalf("rotate: %s", r.Body)
			}
			if r := srv.Do(t, "POST", "/v1/admin/clients/"+id+"/rotate-secret", map[string]any{"overlap_seconds": -1}, auth...); r.Status != 400 {
				t.Errorf("negative overlap: %d", r.Status)
			}
			r = srv.Do(t, "GET", "/v1/admin/clients", nil, auth...)
			if r.Status != 200 || len(r.JSON(t)["clients"].([]any)) != 2 {
				t.Fatalf("list: %d %s", r.Status, r.Body)
			}
			if r := srv.Do(t, "DELETE", "/v1/admin/clients/"+id, nil, auth...); r.Status != 204 {
				t.Fatalf("delete: %d %s", r.Status, r.Body)
			}
			if r := srv.Do(t, "GET", "/v1/admin/clients/"+id, nil, auth...); r.Status != 404 {
				t.Fatalf("deleted client: %d %s", r.Status, r.Body)
			}
			r = srv.Do(t, "GET", "/v1/admin/audit?limit=50", nil, auth...)
			for _, typ := range []string{"client.created", "client.updated", "client.secret_rotated", "client.deleted"} {
				if !strings.Contains(string(r.Body), `"`+typ+`"`) {
					t.Errorf("the audit log lacks %s", typ)
				}
			}
			seen.check(t, "the audit log", string(r.Body))
			seen.check(t, "the server log", srv.Logs())
		})
	}
}

func TestCLIClientCommands(t *testing.T) {
	dir := t.TempDir()
	cli := func(args ...string) (string, string, error) {
		t.Helper()
		return runCLI(t, "", append(args, "--data-dir", dir)...)
	}
	if _, errOut, err := cli("migrate"); err != nil {
		t.Fatal(errOut)
	}
	out, errOut, err := cli("client", "create", "--name", "Billing", "--redirect-uri", "https://billing.example/cb",
		"--scope", "openid,email", "--grant", "authorization_code,refresh_token")
	if err != nil {
		t.Fatalf("client create: %v %s", err, errOut)
	}
	lines := strings.Fields(out)
	if len(lines) != 2 || len(lines[1]) != 43 || strings.Contains(errOut, lines[1]) {
		t.Fatalf("client create printed %q (stderr %q)", out, errOut)
	}
	id, secret := lines[0], lines[1]
	out, _, err = cli("client", "create", "--name", "CLI", "--type", "public", "--grant", "device_code")
	if err != nil || len(strings.Fields(out)) != 1 {
		t.Fatalf("public client create: %v %q", err, out)
	}
	if _, errOut, err := cli("client", "create", "--name", "Bad", "--redirect-uri", "http://evil.example/cb"); err == nil || !strings.Contains(errOut+err.Error(), "loopback") {
		t.Fatalf("an http redirect URI was accepted: %v %s", err, errOut)
	}
	out, _, err = cli("client", "list")
	if err != nil || !strings.Contains(out, id) || !strings.Contains(out, "Billing") || !strings.Contains(out, "urn:ietf:params:oauth:grant-type:device_code") || strings.Contains(out, secret) {
		t.Fatalf("client list: %v\n%s", err, out)
	}
	out, _, err = cli("client", "rotate-secret", id, "--overlap", "1h")
	if err != nil || len(strings.TrimSpace(out)) != 43 || strings.TrimSpace(out) == secret {
		t.Fatalf("rotate-secret: %v %q", err, out)
	}
	if _, _, err := cli("client", "rotate-secret", "nope"); err == nil || !strings.Contains(err.Error(), "No such client") {
		t.Fatalf("rotate-secret of an unknown client: %v", err)
	}
	if out, _, err = cli("client", "delete", id); err != nil || !strings.Contains(out, "deleted client "+id) {
		t.Fatalf("delete: %v %q", err, out)
	}
	out, _, _ = cli("audit", "tail", "--type", "client.secret_rotated")
	if !strings.Contains(out, "by the command line") || strings.Contains(out, secret) {
		t.Fatalf("audit: %q", out)
	}
}
