package app_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/internal/testenv"
)

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if testenv.Required() {
			t.Fatalf("%s is not installed, and LATCHKEY_TEST_REQUIRE_SERVICES=1", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

// TestNodeExpressExample installs examples/node-express (jose, express)
// and runs it against a real latchkey.
func TestNodeExpressExample(t *testing.T) {
	node := needTool(t, "node")
	npm := needTool(t, "npm")
	dir := t.TempDir()
	for _, f := range []string{"package.json", "server.js"} {
		data, err := os.ReadFile(filepath.Join("../../examples/node-express", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", "--loglevel=error")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm install: %v\n%s", err, out)
	}

	srv := apptest.Start(t)
	addr := freeAddr(t)
	host, port, _ := strings.Cut(addr, ":")
	cmd := exec.CommandContext(ctx, node, "server.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LATCHKEY_ISSUER="+srv.URL, "HOST="+host, "PORT="+port)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	started := make(chan bool, 1)
	var output strings.Builder
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			output.WriteString(sc.Text() + "\n")
			if strings.HasPrefix(sc.Text(), "listening on") {
				started <- true
			}
		}
		close(started)
	}()
	select {
	case ok := <-started:
		if !ok {
			t.Fatalf("the example exited:\n%s", output.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the example did not start")
	}

	alice := signup(t, srv, "node@example.com")
	tok := alice["access_token"].(string)
	id := callerID(t, srv, bearer(tok))
	call := func(path, token string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		var m map[string]any
		_ = json.Unmarshal(data, &m)
		return resp.StatusCode, m
	}

	code, me := call("/api/me", tok)
	if code != 200 || me["userId"] != id || me["sessionId"] != alice["session_id"] {
		t.Fatalf("a latchkey token: %d %v", code, me)
	}
	if code, _ := call("/api/admin", tok); code != 403 {
		t.Errorf("admin route for a user: %d", code)
	}

	// Forgeries, with the genuine token's header and claims.
	parts := strings.Split(tok, ".")
	var header, claims map[string]any
	for i, dst := range []*map[string]any{&header, &claims} {
		data, _ := base64.RawURLEncoding.DecodeString(parts[i])
		if err := json.Unmarshal(data, dst); err != nil {
			t.Fatal(err)
		}
	}
	claims["roles"] = []string{"user", "admin"}
	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	none := enc(map[string]any{"alg": "none", "typ": "at+jwt", "kid": header["kid"]}) + "." + enc(claims) + "."
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signed := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims(claims))
	signed.Header["kid"], signed.Header["typ"] = header["kid"], "at+jwt"
	another, _ := signed.SignedString(otherKey)
	tampered := parts[0] + "." + enc(claims) + "." + parts[2]
	for name, forged := range map[string]string{"alg none": none, "another key": another, "tampered claims": tampered, "garbage": "x.y.z"} {
		if code, _ := call("/api/admin", forged); code != 401 {
			t.Errorf("%s: %d, want 401", name, code)
		}
	}
	if code, _ := call("/api/me", ""); code != 401 {
		t.Errorf("no token: %d", code)
	}
}
