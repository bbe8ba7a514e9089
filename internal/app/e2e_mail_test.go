package app_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/internal/store"
	"github.com/latchkey/latchkey/internal/testenv"
)

// The delivery tests queue mails straight into the outbox of a running
// server (the use cases that queue them are tested with their flows) and
// read what arrives over real SMTP at Mailpit.

// fastMail makes the sender poll and retry in milliseconds.
var fastMail = apptest.Options{MailPollInterval: 50 * time.Millisecond, MailFirstRetry: 200 * time.Millisecond,
	MailMaxRetry: time.Second, MailLease: 3 * time.Second}

// mailDatabases are the databases every delivery test runs on: the
// --database argument for a data directory.
func mailDatabases(t *testing.T) map[string]func(t *testing.T, dir string) string {
	return map[string]func(t *testing.T, dir string) string{
		"sqlite":   func(_ *testing.T, dir string) string { return filepath.Join(dir, "latchkey.db") },
		"postgres": func(t *testing.T, _ string) string { return testenv.PostgresSchema(t) },
	}
}

// openOutbox opens the database a server uses, to queue and inspect mail.
func openOutbox(t *testing.T, database string) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), database)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// queueMails puts n mails to to into the outbox, due now, and returns their IDs.
func queueMails(t *testing.T, st latchkey.Store, n int, to string) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		now := time.Now()
		m := &latchkey.OutboxMail{ID: latchkey.NewID(now), Kind: "sign-in", To: to, Subject: fmt.Sprintf("Mail %d", i),
			Text: "code 12345678", HTML: "<p>code 12345678</p>", CreatedAt: now, NextAttemptAt: now}
		if err := st.EnqueueMail(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		ids[i] = m.ID
	}
	return ids
}

// arrivals counts the messages Mailpit holds by outbox ID (the part of the
// Message-ID before the @).
func arrivals(t *testing.T, mp *testenv.Mailpit) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, m := range mp.Messages(t) {
		id, _, _ := strings.Cut(m.MessageID, "@")
		got[id]++
	}
	return got
}

// waitForAll waits until every id has arrived, lets a moment pass for any
// duplicate to land, and returns the counts.
func waitForAll(t *testing.T, mp *testenv.Mailpit, ids []string, within time.Duration) map[string]int {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := arrivals(t, mp)
		missing := 0
		for _, id := range ids {
			if got[id] == 0 {
				missing++
			}
		}
		if missing == 0 {
			time.Sleep(500 * time.Millisecond)
			return arrivals(t, mp)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d mails did not arrive within %s", missing, len(ids), within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// exactlyOnce fails for every id that did not arrive exactly once.
func exactlyOnce(t *testing.T, got map[string]int, ids []string) {
	t.Helper()
	for _, id := range ids {
		if got[id] != 1 {
			t.Errorf("mail %s arrived %d times", id, got[id])
		}
	}
}

// Mail queued in the outbox arrives over SMTP, each exactly once, with the
// outbox ID as its Message-ID; the outbox ends empty and /readyz and the
// metrics say so.
func TestMailOutboxDeliversOverSMTP(t *testing.T) {
	for name, database := range mailDatabases(t) {
		t.Run(name, func(t *testing.T) {
			mp := testenv.StartMailpit(t)
			dir := t.TempDir()
			db := database(t, dir)
			o := fastMail
			o.Dir = dir
			srv := apptest.StartWith(t, o, "--database", db, "--smtp-url", "smtp://"+mp.SMTPAddr)
			if !strings.Contains(srv.Logs(), "mail is sent through smtp://"+mp.SMTPAddr) {
				t.Errorf("the start does not say where mail goes:\n%s", srv.Logs())
			}
			st := openOutbox(t, db)
			ids := queueMails(t, st, 30, "ada@example.com")
			exactlyOnce(t, waitForAll(t, mp, ids, 30*time.Second), ids)
			stats, err := st.OutboxStats(context.Background(), time.Now())
			if err != nil || stats.Queued != 0 {
				t.Errorf("outbox after delivery: %+v %v", stats, err)
			}
			r := srv.Do(t, "GET", "/readyz", nil)
			if checks, _ := r.JSON(t)["checks"].(map[string]any); r.Status != 200 || checks["mail"] != "ok" {
				t.Errorf("readyz: %d %s", r.Status, r.Body)
			}
			metrics := string(srv.Do(t, "GET", "/metrics", nil).Body)
			for _, want := range []string{"latchkey_mail_sent_total 30", "latchkey_mail_queued 0", "latchkey_mail_due 0", "latchkey_mail_oldest_due_seconds 0"} {
				if !strings.Contains(metrics, want+"\n") {
					t.Errorf("metrics lack %q", want)
				}
			}
		})
	}
}

// While the mail server is down, deliveries fail and are retried with
// backoff; once it is back, every mail arrives exactly once.
func TestMailOutboxSurvivesTheSMTPServerBeingDown(t *testing.T) {
	for name, database := range mailDatabases(t) {
		t.Run(name, func(t *testing.T) {
			mp := testenv.StartMailpit(t)
			mp.Stop()
			dir := t.TempDir()
			db := database(t, dir)
			o := fastMail
			o.Dir = dir
			srv := apptest.StartWith(t, o, "--database", db, "--smtp-url", "smtp://"+mp.SMTPAddr)
			st := openOutbox(t, db)
			ids := queueMails(t, st, 10, "ada@example.com")
			// Every mail is tried, and fails, at least twice.
			deadline := time.Now().Add(20 * time.Second)
			for _, id := range ids {
				for {
					m, err := st.MailByID(context.Background(), id)
					if err != nil {
						t.Fatal(err)
					}
					if m.Attempts >= 2 && m.LastError != "" && m.SentAt == nil {
						if !strings.Contains(m.LastError, "connection refused") {
							t.Errorf("last error %q", m.LastError)
						}
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("mail %s was not retried: %+v", id, m)
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
			if !strings.Contains(srv.Logs(), "delivery failed; will retry") {
				t.Error("no log line for a failed delivery")
			}
			mp.Restart(t)
			exactlyOnce(t, waitForAll(t, mp, ids, 30*time.Second), ids)
			if metrics := string(srv.Do(t, "GET", "/metrics", nil).Body); strings.Contains(metrics, "latchkey_mail_failed_total 0\n") ||
				!strings.Contains(metrics, "latchkey_mail_given_up_total 0\n") {
				t.Error("the failed deliveries are not counted, or a mail was given up")
			}
		})
	}
}

// Two instances on one PostgreSQL share the outbox: 200 mails, each
// delivered exactly once.
func TestMailOutboxTwoInstancesSendEachMailOnce(t *testing.T) {
	mp := testenv.StartMailpit(t)
	db := testenv.PostgresSchema(t)
	url := "smtp://" + mp.SMTPAddr
	a := apptest.StartWith(t, fastMail, "--database", db, "--smtp-url", url)
	o := fastMail
	o.Env = []string{"LATCHKEY_MASTER_KEY_FILE=" + filepath.Join(a.DataDir, "master.key")}
	b := apptest.StartWith(t, o, "--database", db, "--smtp-url", url)
	st := openOutbox(t, db)
	var ids []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 4 { // queued while both send
		wg.Go(func() {
			got := queueMails(t, st, 50, "ada@example.com")
			mu.Lock()
			ids = append(ids, got...)
			mu.Unlock()
		})
	}
	wg.Wait()
	exactlyOnce(t, waitForAll(t, mp, ids, 60*time.Second), ids)
	for name, srv := range map[string]*apptest.Instance{"a": a, "b": b} {
		for _, line := range strings.Split(string(srv.Do(t, "GET", "/metrics", nil).Body), "\n") {
			if strings.HasPrefix(line, "latchkey_mail_sent_total ") {
				t.Logf("instance %s: %s", name, line)
			}
		}
	}
}

// Without --smtp-url, the zero-configuration server writes each mail as a
// private .eml file under <data-dir>/mail and says so at start.
func TestMailWithoutSMTPWritesEmlFiles(t *testing.T) {
	dir := t.TempDir()
	srv := apptest.StartWith(t, apptest.Options{Dir: dir, MailPollInterval: 50 * time.Millisecond})
	mailDir := filepath.Join(dir, "mail")
	if !strings.Contains(srv.Logs(), "mail is written as .eml files to "+mailDir) {
		t.Errorf("the start does not name the mail folder %s:\n%s", mailDir, srv.Logs())
	}
	ids := queueMails(t, openOutbox(t, filepath.Join(dir, "latchkey.db")), 2, "ada@example.com")
	deadline := time.Now().Add(10 * time.Second)
	for {
		// A mail being written is a hidden .partial-* file until it is
		// renamed into place: count the finished ones.
		var entries []os.DirEntry
		all, _ := os.ReadDir(mailDir)
		for _, e := range all {
			if !strings.HasPrefix(e.Name(), ".partial-") {
				entries = append(entries, e)
			}
		}
		if len(entries) == 2 {
			for _, e := range entries {
				info, _ := e.Info()
				data, _ := os.ReadFile(filepath.Join(mailDir, e.Name()))
				if !strings.HasSuffix(e.Name(), ".eml") || info.Mode().Perm() != 0o600 ||
					!(strings.Contains(string(data), "Message-ID: <"+ids[0]+"@") || strings.Contains(string(data), "Message-ID: <"+ids[1]+"@")) {
					t.Errorf("%s: mode %v\n%s", e.Name(), info.Mode().Perm(), data)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d .eml files in %s, want 2", len(entries), mailDir)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A broken template override stops the start with one line, before
// anything is created.
func TestMailTemplatesAreCheckedAtStart(t *testing.T) {
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "sign-in.html"), []byte(`{{define "body"}}{{.Link}{{end}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, dir := range map[string]string{"broken": bad, "missing": filepath.Join(bad, "nope")} {
		data := filepath.Join(t.TempDir(), "latchkey-data")
		_, _, err := runCLI(t, "", "serve", "--addr", "127.0.0.1:0", "--data-dir", data, "--mail-templates", dir)
		oneLine(t, name, err, "invalid --mail-templates")
		mustNotExist(t, data)
	}
}

// latchkey mail status shows the outbox's counts and one mail's attempts
// and last error, never an address or a body.
func TestMailStatusCLI(t *testing.T) {
	dir := t.TempDir()
	if _, errOut, err := runCLI(t, "", "migrate", "--data-dir", dir); err != nil {
		t.Fatal(err, errOut)
	}
	st := openOutbox(t, filepath.Join(dir, "latchkey.db"))
	ids := queueMails(t, st, 3, "ada@example.com")
	if err := st.MarkMailFailed(context.Background(), ids[0], time.Now().Add(time.Hour), "smtp: dial tcp: connection refused", false); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkMailFailed(context.Background(), ids[1], time.Now(), "smtp: rcpt to: 550 no such user", true); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runCLI(t, "", "mail", "status", "--data-dir", dir)
	if err != nil || errOut != "" {
		t.Fatal(err, errOut)
	}
	for _, want := range []string{"queued:     2 (due now 1, being sent 0, waiting to retry 1)", "given up:   1", "state:      ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("mail status lacks %q:\n%s", want, out)
		}
	}
	out, _, err = runCLI(t, "", "mail", "status", ids[1], "--data-dir", dir)
	if err != nil || !strings.Contains(out, "kind:       sign-in") || !strings.Contains(out, "state:      given up") ||
		!strings.Contains(out, "last error: smtp: rcpt to: 550 no such user") {
		t.Errorf("mail status ID: %v\n%s", err, out)
	}
	for _, id := range ids {
		out, _, _ := runCLI(t, "", "mail", "status", id, "--data-dir", dir)
		if strings.Contains(out, "ada@example.com") || strings.Contains(out, "12345678") {
			t.Errorf("mail status shows an address or a body:\n%s", out)
		}
	}
	_, _, err = runCLI(t, "", "mail", "status", "nosuchmail", "--data-dir", dir)
	oneLine(t, "an unknown mail", err, "mail status")
}
