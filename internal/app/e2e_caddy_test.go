package app_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/internal/testenv"
)

// startCaddy runs Caddy with examples/caddy/Caddyfile, its addresses
// pointed at latchkey and upstream, and returns Caddy's base URL.
func startCaddy(t *testing.T, latchkeyAddr, upstreamAddr string) string {
	t.Helper()
	bin, err := exec.LookPath("caddy")
	if err != nil {
		if testenv.Required() {
			t.Fatal("caddy is not installed (apt-get install -y caddy), and LATCHKEY_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("caddy is not installed (apt-get install -y caddy)")
	}
	dir := t.TempDir()
	conf, err := os.ReadFile("../../examples/caddy/Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	listen := freeAddr(t)
	text := string(conf)
	for old, repl := range map[string]string{
		"127.0.0.1:8080": latchkeyAddr,
		"127.0.0.1:3000": upstreamAddr,
		"127.0.0.1:8000": listen,
		// No admin endpoint: parallel Caddys would fight over :2019.
		"\tauto_https off\n": "\tadmin off\n\tauto_https off\n",
	} {
		if !strings.Contains(text, old) {
			t.Fatalf("examples/caddy/Caddyfile no longer mentions %q", old)
		}
		text = strings.ReplaceAll(text, old, repl)
	}
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--config", path, "--adapter", "caddyfile")
	// Caddy's storage and autosaved config go to dir, not the user's home.
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"))
	cmd.Dir = dir
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("caddy output:\n%s", out.String())
		}
	})
	awaitListening(t, listen, exited, out.String)
	return "http://" + listen
}

func TestCaddyForwardAuth(t *testing.T) {
	srv := apptest.Start(t)
	app := &recorder{}
	upstream := httptest.NewServer(app)
	defer upstream.Close()
	base := startCaddy(t, strings.TrimPrefix(srv.URL, "http://"), strings.TrimPrefix(upstream.URL, "http://"))

	alice := signup(t, srv, "caddy@example.com")
	id := callerID(t, srv, bearer(alice["access_token"]))
	key := createKey(t, srv, bearer(alice["access_token"]), map[string]any{"name": "caddy", "scopes": []string{"read"}})

	do := func(method, path string, headers ...string) (int, http.Header) {
		t.Helper()
		return through(t, base, method, path, headers...)
	}
	get := func(path string, headers ...string) (int, http.Header) {
		t.Helper()
		return through(t, base, "GET", path, headers...)
	}
	// Every identity header, forged. Some are never in latchkey's answer to
	// that request (X-Auth-Identity: no signing key; X-Auth-Email: no such
	// header), so only removing the client's X-Auth-* keeps them from the app.
	forged := []string{"X-Auth-User-Id", "victim", "X-Auth-Roles", "admin", "X-Auth-Api-Key-Id", "forged",
		"X-Auth-Scopes", "everything", "X-Auth-Session-Id", "forged", "X-Auth-Identity", "forged", "X-Auth-Email", "forged"}
	noForgery := func(what string, h http.Header) {
		t.Helper()
		for k, vs := range h {
			for _, v := range vs {
				if v == "victim" || v == "admin" || v == "forged" || v == "everything" {
					t.Errorf("%s: the client's %s: %s reached the app", what, k, v)
				}
			}
		}
	}

	// No credentials (and forged identity headers): 401, nothing reaches the app.
	if code, h := get("/", forged...); code != 401 || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("no credentials: %d %v", code, h)
	}
	if _, n := app.last(); n != 0 {
		t.Fatalf("%d requests reached the app without credentials", n)
	}

	// A token: 200, the identity reaches the app, the forged headers do not.
	if code, _ := get("/orders", append(forged, "Authorization", "Bearer "+alice["access_token"].(string))...); code != 200 {
		t.Fatalf("with a token: %d", code)
	}
	h, n := app.last()
	if n != 1 || h.Get("X-Auth-User-Id") != id || h.Get("X-Auth-Roles") != "user" || h.Get("X-Auth-Session-Id") != alice["session_id"] ||
		h.Get("X-Auth-Api-Key-Id") != "" || h.Get("X-Auth-Scopes") != "" || h.Get("X-Auth-Identity") != "" || h.Get("Authorization") != "" {
		t.Errorf("what the app saw for a token: %v", h)
	}
	if vs := h.Values("X-Auth-User-Id"); len(vs) != 1 {
		t.Errorf("X-Auth-User-Id reached the app %d times: %v", len(vs), vs)
	}
	noForgery("token", h)

	// An API key: 200 with the key's identity.
	if code, _ := get("/orders", append(forged, "X-API-Key", key["key"].(string))...); code != 200 {
		t.Fatalf("with an API key: %d", code)
	}
	h, _ = app.last()
	if h.Get("X-Auth-User-Id") != id || h.Get("X-Auth-Api-Key-Id") != key["id"] || h.Get("X-Auth-Scopes") != "read" ||
		h.Get("X-Auth-Session-Id") != "" || h.Get("X-API-Key") != "" {
		t.Errorf("what the app saw for an API key: %v", h)
	}
	noForgery("API key", h)

	// A browser session cookie: Caddy asks with GET but tells latchkey the
	// original method (X-Forwarded-Method) and Host, so a cross-site POST is
	// refused and a same-origin one let through.
	cookie := "latchkey_session=" + cookieSession(t, srv, id)
	csrf := []struct {
		name, method string
		headers      []string
		want         int
	}{
		{"cross-site GET", "GET", []string{"Cookie", cookie, "Sec-Fetch-Site", "cross-site"}, 200},
		{"cross-site POST", "POST", []string{"Cookie", cookie, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, 403},
		{"foreign Origin POST", "POST", []string{"Cookie", cookie, "Origin", "https://evil.example"}, 403},
		{"same-origin POST", "POST", []string{"Cookie", cookie, "Origin", base}, 200},
	}
	for _, c := range csrf {
		_, before := app.last()
		code, _ := do(c.method, "/orders", append(c.headers, forged...)...)
		h, after := app.last()
		if code != c.want || (c.want == 200) != (after == before+1) {
			t.Errorf("cookie, %s: %d (want %d), %d requests reached the app", c.name, code, c.want, after-before)
			continue
		}
		if c.want == 200 && (h.Get("X-Auth-User-Id") != id || h.Get("X-Auth-Session-Id") == "" || h.Get("X-Auth-Api-Key-Id") != "") {
			t.Errorf("what the app saw for a cookie: %v", h)
		}
		if c.want == 200 {
			noForgery("cookie", h)
		}
	}

	// A role requirement: 403 for a plain user, and nothing reaches the app.
	_, before := app.last()
	for _, p := range []string{"/admin", "/admin/", "/admin/users"} {
		if code, _ := get(p, append(forged, "Authorization", "Bearer "+alice["access_token"].(string))...); code != 403 {
			t.Errorf("%s without the admin role: %d", p, code)
		}
	}
	if _, after := app.last(); after != before {
		t.Error("a request without the admin role reached /admin")
	}

	// A revoked key: 401, and nothing more reaches the app.
	if r := srv.Do(t, "DELETE", "/v1/api-keys/"+key["id"].(string), nil, bearer(alice["access_token"])...); r.Status != 204 {
		t.Fatal(r.Status)
	}
	if code, _ := get("/orders", "X-API-Key", key["key"].(string)); code != 401 {
		t.Errorf("revoked key: %d", code)
	}
	if _, after := app.last(); after != before {
		t.Error("a request with a revoked key reached the app")
	}
}
