package app_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
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

// TestNodeExpressExample installs examples/node-express (jose, express) at
// the versions of its package-lock.json and runs it against a real latchkey.
func TestNodeExpressExample(t *testing.T) {
	node := needTool(t, "node")
	npm := needTool(t, "npm")
	dir := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json", "server.js"} {
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
	install := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm ci (is examples/node-express/package-lock.json in step with package.json?): %v\n%s", err, out)
	}

	srv := apptest.Start(t)
	addr, _ := startNodeExample(ctx, t, node, dir, srv.URL)
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

	// An issuer that differs from the tokens' iss (here by a trailing slash;
	// localhost against 127.0.0.1 is the usual case) is refused, and the log
	// names both.
	other, output := startNodeExample(ctx, t, node, dir, srv.URL+"/")
	addr = other
	if code, _ := call("/api/me", tok); code != 401 {
		t.Errorf("a token of another issuer: %d, want 401", code)
	}
	want := fmt.Sprintf("token refused: issuer mismatch: expected %q (LATCHKEY_ISSUER), received %q", srv.URL+"/", srv.URL)
	waitFor(t, 5*time.Second, fmt.Sprintf("the example's log saying %q", want), func() bool {
		return strings.Contains(output(), want)
	})
	if strings.Contains(output(), tok) {
		t.Error("the example logged the token")
	}
}

// startNodeExample runs the installed example in dir with issuer as
// LATCHKEY_ISSUER, waits until it listens, and returns its address and a
// function that reads what it has printed so far.
func startNodeExample(ctx context.Context, t *testing.T, node, dir, issuer string) (string, func() string) {
	t.Helper()
	addr := freeAddr(t)
	host, port, _ := strings.Cut(addr, ":")
	logFile := filepath.Join(t.TempDir(), "node.log")
	f, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.CommandContext(ctx, node, "server.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LATCHKEY_ISSUER="+issuer, "HOST="+host, "PORT="+port)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	output := func() string { data, _ := os.ReadFile(logFile); return string(data) }
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(output(), "listening on") {
		select {
		case <-exited:
			t.Fatalf("the example exited:\n%s", output())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the example did not start:\n%s", output())
		}
	}
	return addr, output
}
