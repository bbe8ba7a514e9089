package app_test

import (
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/apptest"
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
