package app_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/app"
	"github.com/latchkey/latchkey/internal/apptest"
)

func runCLI(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := app.Run(context.Background(), args, nil, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), err
}

func TestCLIUserCreateThenLogin(t *testing.T) {
	dir := t.TempDir()
	if _, errOut, err := runCLI(t, "", "migrate", "--data-dir", dir); err != nil {
		t.Fatal(err, errOut)
	}
	args := append([]string{"user", "create", "--email", "Root@Example.com", "--role", "admin", "--password-stdin", "--data-dir", dir}, apptest.FastHashing...)
	out, errOut, err := runCLI(t, goodPassword+"\n", args...)
	if err != nil {
		t.Fatalf("user create: %v\n%s", err, errOut)
	}
	if !strings.Contains(out, "root@example.com") || !strings.Contains(out, "admin") {
		t.Errorf("output %q", out)
	}
	if strings.Contains(out+errOut, goodPassword) {
		t.Error("the password was echoed")
	}
	srv := apptest.StartIn(t, dir)
	r := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "root@example.com", "password": goodPassword})
	if r.Status != 200 {
		t.Fatalf("login as the CLI-created user: %d %s", r.Status, r.Body)
	}
	if roles := r.JSON(t)["user"].(map[string]any)["roles"].([]any); len(roles) != 1 || roles[0] != "admin" {
		t.Errorf("roles = %v", roles)
	}
	if _, _, err := runCLI(t, "", "user", "create", "--email", "x@example.com", "--data-dir", dir); err == nil || app.ExitCode(err) != 2 {
		t.Errorf("user create without --password-stdin: %v", err)
	}
}

func TestZeroConfigDataDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "latchkey-data")
	srv := apptest.StartIn(t, dir)
	if r := srv.Do(t, "GET", "/healthz", nil); r.Status != 200 {
		t.Fatal(r.Status)
	}
	for _, name := range []string{"latchkey.db", "master.key"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, st.Mode().Perm())
		}
	}
	if st, _ := os.Stat(dir); st.Mode().Perm()&0o077 != 0 {
		t.Errorf("data dir mode %v", st.Mode().Perm())
	}
}

func TestBadConfigurationStopsWithOneLine(t *testing.T) {
	cases := map[string][]string{
		"--access-token-ttl": {"serve", "--access-token-ttl", "soon"},
		"--signing-alg":      {"serve", "--signing-alg", "HS256"},
		"--trusted-proxies":  {"serve", "--trusted-proxies", "10.0.0.0/99"},
		"--cors-origins":     {"serve", "--cors-origins", "*"},
		"--database":         {"serve", "--database", "mysql://x"},
		"--addr":             {"serve", "--addr", "nope"},
	}
	for setting, args := range cases {
		_, _, err := runCLI(t, "", append(args, "--data-dir", t.TempDir())...)
		if err == nil {
			t.Errorf("%v started", args)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, setting) || strings.Contains(msg, "\n") {
			t.Errorf("%v: error %q should be one line naming %s", args, msg, setting)
		}
	}
	var out, errb bytes.Buffer
	err := app.Run(context.Background(), []string{"serve", "--data-dir", t.TempDir()}, []string{"LATCHKEY_REFRESH_REUSE_GRACE=forever"}, nil, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "LATCHKEY_REFRESH_REUSE_GRACE") {
		t.Errorf("bad env var: %v", err)
	}
}

func TestVersionAndKeysCommands(t *testing.T) {
	out, _, err := runCLI(t, "", "version")
	if err != nil || !strings.Contains(out, "latchkey") || !strings.Contains(out, "go") {
		t.Fatalf("version: %q %v", out, err)
	}
	dir := t.TempDir()
	if out, _, err = runCLI(t, "", "migrate", "--data-dir", dir); err != nil || !strings.Contains(out, "migrations applied") {
		t.Fatalf("migrate: %q %v", out, err)
	}
	if out, _, err = runCLI(t, "", "keys", "list", "--data-dir", dir); err != nil || !strings.Contains(out, "current") || !strings.Contains(out, "next") {
		t.Fatalf("keys list: %q %v", out, err)
	}
	if out, _, err = runCLI(t, "", "keys", "rotate", "--data-dir", dir); err != nil || !strings.Contains(out, "retired") {
		t.Fatalf("keys rotate: %q %v", out, err)
	}
	if _, _, err := runCLI(t, "", "frobnicate"); app.ExitCode(err) != 2 {
		t.Errorf("unknown command: %v", err)
	}
}
