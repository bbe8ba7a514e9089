package app_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/app"
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

// lockedBuffer is written by the command while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestCLIAuditTailFollow(t *testing.T) {
	dir := t.TempDir()
	if _, errOut, err := runCLI(t, "", "migrate", "--data-dir", dir); err != nil {
		t.Fatal(err, errOut)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &lockedBuffer{}
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
