package app_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/app"
	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/internal/testenv"
)

func TestCLIUserAdminCommands(t *testing.T) {
	dir := t.TempDir()
	cli := func(stdin string, args ...string) (string, error) {
		t.Helper()
		out, errOut, err := runCLI(t, stdin, append(append(args, "--data-dir", dir), apptest.FastHashing...)...)
		if strings.Contains(out+errOut, adminPassword) {
			t.Errorf("%v printed the password", args)
		}
		if err != nil {
			return out + errOut, err
		}
		return out, nil
	}
	if _, err := cli("", "migrate"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli(adminPassword+"\n", "user", "create", "--email", "root@example.com", "--role", "admin", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli(adminPassword+"\n", "user", "create", "--email", "dee@example.com", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	if out, err := cli("", "user", "create", "--email", "x@example.com", "--role", "Bad Role", "--password-stdin"); err == nil {
		t.Errorf("an invalid role was accepted: %s", out)
	}
	out, err := cli("", "user", "list", "--query", "DEE")
	if err != nil || !strings.Contains(out, "dee@example.com") || strings.Contains(out, "root@") {
		t.Fatalf("user list --query: %v\n%s", err, out)
	}
	if out, err = cli("", "user", "show", "dee@example.com"); err != nil || !strings.Contains(out, "roles:    user") {
		t.Fatalf("user show: %v\n%s", err, out)
	}
	steps := []struct {
		args []string
		ok   bool
		want string
	}{
		{[]string{"user", "update", "root@example.com", "--role", "user"}, false, "no enabled administrator"},
		{[]string{"user", "update", "root@example.com", "--disable"}, false, "no enabled administrator"},
		{[]string{"user", "delete", "root@example.com"}, false, "no enabled administrator"},
		{[]string{"user", "update", "dee@example.com", "--role", "user,admin", "--name", "Dee"}, true, "roles:    user,admin"},
		{[]string{"user", "update", "root@example.com", "--disable"}, true, "disabled: true"},
		{[]string{"user", "update", "root@example.com", "--enable"}, true, "disabled: false"},
		{[]string{"user", "delete", "root@example.com"}, true, "deleted user"},
		{[]string{"user", "show", "root@example.com"}, false, "No such user"},
		{[]string{"user", "update", "dee@example.com"}, false, "nothing to change"},
		{[]string{"user", "update", "dee@example.com", "--enable", "--disable"}, false, "exclude"},
	}
	for _, s := range steps {
		out, err := cli("", s.args...)
		if (err == nil) != s.ok || !strings.Contains(out+errString(err), s.want) {
			t.Errorf("%v: %v\n%s (want ok=%t and %q)", s.args, err, out, s.ok, s.want)
		}
	}
	out, err = cli("", "audit", "tail", "--limit", "50")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"signup", "user.updated", "user.deleted", "latchkey-cli", "by the command line"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit tail lacks %q:\n%s", want, out)
		}
	}
	if out, err = cli("", "audit", "tail", "--type", "user.deleted"); err != nil || strings.Count(out, "\n") != 1 {
		t.Errorf("audit tail --type: %v\n%s", err, out)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestCLIAuditTailFollow(t *testing.T) {
	dir := t.TempDir()
	if _, errOut, err := runCLI(t, "", "migrate", "--data-dir", dir); err != nil {
		t.Fatal(err, errOut)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &testenv.LogBuffer{} // written by the command while the test reads it
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, []string{"audit", "tail", "--follow", "--data-dir", dir}, nil, strings.NewReader(""), out, io.Discard)
	}()
	// An event written after tail started appears in its output.
	args := append([]string{"user", "create", "--email", "late@example.com", "--password-stdin", "--data-dir", dir}, apptest.FastHashing...)
	if _, errOut, err := runCLI(t, goodPassword+"\n", args...); err != nil {
		t.Fatal(err, errOut)
	}
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out.String(), "signup"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("audit tail --follow did not print the new event:\n%s", out.String())
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("audit tail --follow ended with %v", err)
	}
	if n := strings.Count(out.String(), "signup"); n != 1 {
		t.Errorf("the event was printed %d times", n)
	}
}

// Mistakes on the command line are one line each, said once, with where
// to look; -h still prints the list.
func TestCLIMistakesAreOneLine(t *testing.T) {
	dir := t.TempDir()
	if _, errOut, err := runCLI(t, "", "migrate", "--data-dir", dir); err != nil {
		t.Fatal(err, errOut)
	}
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"user", "list", "--bogus"}, []string{`unknown flag --bogus ("latchkey user list -h" lists the settings)`}},
		{[]string{"serve", "--adress", "127.0.0.1:0"}, []string{"unknown flag --adress", "latchkey serve -h"}},
		{[]string{"apikey", "create", "--user", "a@example.com", "--name", "n", "--expires-in", "soon"},
			[]string{`invalid --expires-in "soon"`, "720h", "expires_in is a number of seconds"}},
		{[]string{"audit", "tail", "--type", "login"},
			[]string{`no event has the type "login"`, "did you mean login.succeeded or login.failed?", "user.deleted", "keys.rotated"}},
		{[]string{"audit", "tail", "--type", "bogus"}, []string{`no event has the type "bogus"`, "signup, login.succeeded"}},
		{[]string{"user", "show"}, []string{"user show: give one user ID or email"}},
		{[]string{"frobnicate"}, []string{`unknown command "frobnicate"`, "latchkey help"}},
	}
	for _, c := range cases {
		out, errOut, err := runCLI(t, "", append(c.args, "--data-dir", dir)...)
		if err == nil || app.ExitCode(err) != 2 {
			t.Errorf("%v: %v (exit %d), want a usage error", c.args, err, app.ExitCode(err))
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: %q does not say %q", c.args, err, w)
			}
		}
		if name := strings.Join(c.args[:min(2, len(c.args))], " ") + ":"; strings.Count(err.Error(), name) > 1 {
			t.Errorf("%v: the command is named twice: %q", c.args, err)
		}
		if out != "" || errOut != "" {
			t.Errorf("%v printed more than the error:\n%s%s", c.args, out, errOut)
		}
	}
	// -h lists a command's own flags and the settings, and is no error.
	_, errOut, err := runCLI(t, "", "apikey", "create", "-h")
	if err != nil || !strings.Contains(errOut, "-expires-in") || !strings.Contains(errOut, "expires_in is a number of seconds") {
		t.Errorf("apikey create -h: %v\n%s", err, errOut)
	}
	_, errOut, err = runCLI(t, "", "serve", "-h")
	if err != nil || !strings.Contains(errOut, "-master-key-file") || strings.Contains(errOut, "rate-limit") {
		t.Errorf("serve -h: %v\n%s", err, errOut)
	}
}

// keys rotate says when running servers switch, not that they already do.
func TestCLIKeysRotateSaysWhenServersSwitch(t *testing.T) {
	dir := t.TempDir()
	if _, errOut, err := runCLI(t, "", "migrate", "--data-dir", dir); err != nil {
		t.Fatal(err, errOut)
	}
	out, errOut, err := runCLI(t, "", "keys", "rotate", "--data-dir", dir, "--key-reload-interval", "30s")
	if err != nil {
		t.Fatal(err, errOut)
	}
	first := strings.SplitN(out, "\n", 2)[0]
	for _, want := range []string{"is the current key", "running servers sign with it once they next re-read the keys", "--key-reload-interval, 30s here"} {
		if !strings.Contains(first, want) {
			t.Errorf("keys rotate says %q, not %q", first, want)
		}
	}
	if strings.Contains(out, "now signs") {
		t.Errorf("keys rotate claims the new key signs at once:\n%s", out)
	}
	if strings.Contains(errOut, `"level"`) || strings.Contains(errOut, "level=INFO") {
		t.Errorf("keys rotate logged info lines:\n%s", errOut)
	}
}

// Every event type is accepted by audit tail --type; the list of types
// is complete.
func TestCLIAuditTypesAreComplete(t *testing.T) {
	dir := t.TempDir()
	if _, errOut, err := runCLI(t, "", "migrate", "--data-dir", dir); err != nil {
		t.Fatal(err, errOut)
	}
	for _, typ := range auditTypeConstants(t) {
		if _, errOut, err := runCLI(t, "", "audit", "tail", "--type", typ, "--data-dir", dir); err != nil {
			t.Errorf("audit tail --type %s: %v %s", typ, err, errOut)
		}
	}
}

// TestCLIUserResetMFA: latchkey user reset-mfa is the reset of
// DELETE /v1/admin/users/{id}/mfa — the authenticators and recovery codes
// go, every session ends, the next sign-in is by password alone — audited
// with the command line as the actor.
func TestCLIUserResetMFA(t *testing.T) {
	dir := t.TempDir()
	srv := apptest.StartIn(t, dir)
	tok := signup(t, srv, "cli-mfa@example.com")
	other := signup(t, srv, "cli-keep@example.com")
	enrollTOTP(t, srv, bearer(tok["access_token"]), time.Now())
	enrollTOTP(t, srv, bearer(other["access_token"]), time.Now())
	mfaLogin(t, srv, "cli-mfa@example.com")
	srv.Stop(t)

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"user", "reset-mfa"}, "give one user ID or email"},
		{[]string{"user", "reset-mfa", "a@example.com", "b@example.com"}, "give one user ID or email"},
		{[]string{"user", "reset-mfa", "nobody@example.com"}, "No such user"},
	} {
		out, errOut, err := runCLI(t, "", append(c.args, "--data-dir", dir)...)
		if err == nil || !strings.Contains(errString(err), c.want) {
			t.Errorf("%v: %v %s %s, want an error with %q", c.args, err, out, errOut, c.want)
		}
	}
	out, errOut, err := runCLI(t, "", "user", "reset-mfa", "CLI-MFA@example.com", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "reset two-step sign-in of "+userID(tok)+" (cli-mfa@example.com): removed 1 authenticator") {
		t.Fatalf("user reset-mfa: %v %q %s", err, out, errOut)
	}
	out, _, err = runCLI(t, "", "audit", "tail", "--type", "mfa.reset", "--data-dir", dir)
	if err != nil || strings.Count(out, "\n") != 1 || !strings.Contains(out, "user="+userID(tok)) ||
		!strings.Contains(out, `user_agent="latchkey-cli" reason="by the command line"`) {
		t.Errorf("audit of the reset: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, "", "audit", "tail", "--type", "session.revoked", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "session="+tok["session_id"].(string)) || !strings.Contains(out, `reason="mfa reset by the command line"`) {
		t.Errorf("audit of the ended session: %v\n%s", err, out)
	}

	srv = apptest.StartIn(t, dir)
	wantProblem(t, "a refresh token from before the reset", srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": tok["refresh_token"]}),
		400, "invalid_grant")
	if r := loginJSON(t, srv, "cli-mfa@example.com", goodPassword); r["access_token"] == nil || r["mfa_required"] != nil {
		t.Errorf("login after the reset: %v", r)
	}
	// Nobody else's factors or sessions were touched.
	mfaLogin(t, srv, "cli-keep@example.com")
	if r := srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": other["refresh_token"]}); r.Status != 200 {
		t.Errorf("another user's session: %d %s", r.Status, r.Body)
	}
}
