package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/app"
	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/internal/testenv"
)

// childArgs, in the environment of a re-executed test binary, makes it run
// latchkey with these arguments instead of the tests: a real process that
// a test can kill -9.
const childArgs = "LATCHKEY_TEST_CHILD_ARGS"

func TestMain(m *testing.M) {
	if raw := os.Getenv(childArgs); raw != "" {
		var args []string
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		hooks := app.TestHooks{DisableRateLimits: true, MailPollInterval: fastMail.MailPollInterval,
			MailFirstRetry: fastMail.MailFirstRetry, MailMaxRetry: fastMail.MailMaxRetry, MailLease: fastMail.MailLease}
		err := app.RunWith(context.Background(), args, os.Environ(), os.Stdin, os.Stdout, os.Stderr, hooks)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startChild runs latchkey serve in a process of its own and waits until
// it listens.
func startChild(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	raw, err := json.Marshal(append([]string{"serve", "--addr", "127.0.0.1:0"}, append(apptest.FastHashing, args...)...))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childArgs+"="+string(raw))
	var logs testenv.LogBuffer
	cmd.Stderr = &logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("child log:\n%s", logs.String())
		}
	})
	listening := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "latchkey listening on ") {
				listening <- true
			}
		}
		listening <- false
	}()
	select {
	case ok := <-listening:
		if !ok {
			t.Fatalf("the child exited:\n%s", logs.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the child did not start:\n%s", logs.String())
	}
	return cmd
}

// kill -9 of a latchkey process in the middle of sending loses nothing:
// after a restart every mail arrives. Delivery is at least once: the one
// mail that the mail server may have accepted just before the kill, and
// that was not yet recorded as sent, can arrive twice (with the same
// Message-ID); no other mail does.
func TestMailOutboxSurvivesKill9MidSend(t *testing.T) {
	for name, database := range mailDatabases(t) {
		t.Run(name, func(t *testing.T) {
			mp := testenv.StartMailpit(t)
			dir := t.TempDir()
			db := database(t, dir)
			if _, errOut, err := runCLI(t, "", "migrate", "--data-dir", dir, "--database", db); err != nil {
				t.Fatal(err, errOut)
			}
			const n = 300
			ids := queueMails(t, openOutbox(t, db), n, "ada@example.com")
			child := startChild(t, "--data-dir", dir, "--database", db, "--smtp-url", "smtp://"+mp.SMTPAddr)
			deadline := time.Now().Add(30 * time.Second)
			for mp.Count(t) < 20 {
				if time.Now().After(deadline) {
					t.Fatal("the child did not start sending")
				}
				time.Sleep(5 * time.Millisecond)
			}
			if err := child.Process.Kill(); err != nil { // SIGKILL: no shutdown, no deferred writes
				t.Fatal(err)
			}
			_ = child.Wait()
			before := mp.Count(t)
			if before >= n {
				t.Fatalf("all %d mails went out before the kill: the test proves nothing", n)
			}
			o := fastMail
			o.Dir = dir
			apptest.StartWith(t, o, "--database", db, "--smtp-url", "smtp://"+mp.SMTPAddr)
			got := waitForAll(t, mp, ids, 60*time.Second)
			twice := 0
			for _, id := range ids {
				if got[id] > 1 {
					twice++
				}
				if got[id] > 2 {
					t.Errorf("mail %s arrived %d times", id, got[id])
				}
			}
			if twice > 1 {
				t.Errorf("%d mails arrived twice; only the one in flight at the kill may", twice)
			}
			t.Logf("killed after %d of %d mails had arrived; %d arrived twice", before, n, twice)
		})
	}
}
