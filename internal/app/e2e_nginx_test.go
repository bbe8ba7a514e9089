package app_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/internal/testenv"
)

// recorder is an upstream application that remembers the headers of the
// requests that reached it.
type recorder struct {
	mu   sync.Mutex
	seen []http.Header
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	rec.seen = append(rec.seen, r.Header.Clone())
	rec.mu.Unlock()
	fmt.Fprintln(w, "hello from the app")
}

func (rec *recorder) last() (http.Header, int) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.seen) == 0 {
		return nil, 0
	}
	return rec.seen[len(rec.seen)-1], len(rec.seen)
}

// startNginx runs nginx with examples/nginx/nginx.conf, its addresses
// pointed at latchkey and upstream, and returns nginx's base URL.
func startNginx(t *testing.T, latchkeyAddr, upstreamAddr string) string {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx"} {
			if _, serr := os.Stat(p); serr == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		if testenv.Required() {
			t.Fatal("nginx is not installed (apt-get install -y nginx-light), and LATCHKEY_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("nginx is not installed (apt-get install -y nginx-light)")
	}
	dir := t.TempDir()
	conf, err := os.ReadFile("../../examples/nginx/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	include, err := os.ReadFile("../../examples/nginx/latchkey_identity.conf")
	if err != nil {
		t.Fatal(err)
	}
	listen := freeAddr(t)
	text := string(conf)
	for old, repl := range map[string]string{
		"127.0.0.1:8080": latchkeyAddr,
		"127.0.0.1:3000": upstreamAddr,
		"127.0.0.1:8000": listen,
	} {
		if !strings.Contains(text, old) {
			t.Fatalf("examples/nginx/nginx.conf no longer mentions %s", old)
		}
		text = strings.ReplaceAll(text, old, repl)
	}
	// Run in the foreground as this user, with every file in dir.
	head := fmt.Sprintf("daemon off;\nmaster_process off;\npid %[1]s/nginx.pid;\nerror_log %[1]s/error.log info;\n", dir)
	temps := fmt.Sprintf("http {\n    access_log %[1]s/access.log;\n    client_body_temp_path %[1]s/body;\n    proxy_temp_path %[1]s/proxy;\n"+
		"    fastcgi_temp_path %[1]s/fastcgi;\n    uwsgi_temp_path %[1]s/uwsgi;\n    scgi_temp_path %[1]s/scgi;\n", dir)
	text = head + strings.Replace(text, "http {\n", temps, 1)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "latchkey_identity.conf"), include, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			logs, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx output:\n%s\nerror.log:\n%s", out.String(), logs)
		}
	})
	awaitListening(t, listen, nil, func() string {
		logs, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		return out.String() + "\n" + string(logs)
	})
	return "http://" + listen
}

func TestNginxAuthRequest(t *testing.T) {
	srv := apptest.Start(t)
	app := &recorder{}
	upstream := httptest.NewServer(app)
	defer upstream.Close()
	base := startNginx(t, strings.TrimPrefix(srv.URL, "http://"), strings.TrimPrefix(upstream.URL, "http://"))

	alice := signup(t, srv, "nginx@example.com")
	id := callerID(t, srv, bearer(alice["access_token"]))
	key := createKey(t, srv, bearer(alice["access_token"]), map[string]any{"name": "nginx", "scopes": []string{"read"}})

	get := func(path string, headers ...string) (int, http.Header) {
		t.Helper()
		return through(t, base, "GET", path, headers...)
	}
	forged := []string{"X-Auth-User-Id", "victim", "X-Auth-Roles", "admin", "X-Auth-Api-Key-Id", "forged", "X-Auth-Scopes", "everything"}

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
		h.Get("X-Auth-Api-Key-Id") != "" || h.Get("X-Auth-Scopes") != "" || h.Get("Authorization") != "" {
		t.Errorf("what the app saw for a token: %v", h)
	}
	if vs := h.Values("X-Auth-User-Id"); len(vs) != 1 {
		t.Errorf("X-Auth-User-Id reached the app %d times: %v", len(vs), vs)
	}

	// An API key: 200 with the key's identity.
	if code, _ := get("/orders", append(forged, "X-API-Key", key["key"].(string))...); code != 200 {
		t.Fatalf("with an API key: %d", code)
	}
	h, _ = app.last()
	if h.Get("X-Auth-User-Id") != id || h.Get("X-Auth-Api-Key-Id") != key["id"] || h.Get("X-Auth-Scopes") != "read" ||
		h.Get("X-Auth-Session-Id") != "" || h.Get("X-API-Key") != "" {
		t.Errorf("what the app saw for an API key: %v", h)
	}

	// A role requirement: 403 for a plain user.
	if code, _ := get("/admin/", "Authorization", "Bearer "+alice["access_token"].(string)); code != 403 {
		t.Errorf("/admin/ without the admin role: %d", code)
	}

	// A revoked key: 401, and nothing more reaches the app.
	if r := srv.Do(t, "DELETE", "/v1/api-keys/"+key["id"].(string), nil, bearer(alice["access_token"])...); r.Status != 204 {
		t.Fatal(r.Status)
	}
	_, before := app.last()
	if code, _ := get("/orders", "X-API-Key", key["key"].(string)); code != 401 {
		t.Errorf("revoked key: %d", code)
	}
	if _, after := app.last(); after != before {
		t.Error("a request with a revoked key reached the app")
	}
}
