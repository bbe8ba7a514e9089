package janitor_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/janitor"
	"github.com/latchkey/latchkey/internal/store/sqlite"
)

func TestOnceRemovesWhatOutlivedItsUse(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	u := &latchkey.User{ID: latchkey.NewID(now), Email: "j@example.com", Roles: []string{"user"}, CreatedAt: now, UpdatedAt: now}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	session := func(expires time.Time) string {
		s := &latchkey.Session{ID: latchkey.NewID(now), UserID: u.ID, CreatedAt: now.Add(-time.Hour), LastUsedAt: now, AuthTime: now.Add(-time.Hour), ExpiresAt: expires}
		if err := db.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		return s.ID
	}
	expired, live := session(now.Add(-time.Minute)), session(now.Add(time.Hour))
	audit := func(at time.Time) string {
		e := &latchkey.AuditEvent{ID: latchkey.NewID(at), Time: at, Type: latchkey.AuditLogout, UserID: u.ID}
		if err := db.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
		return e.ID
	}
	const retention = 90 * 24 * time.Hour
	old, recent := audit(now.Add(-retention-time.Hour)), audit(now.Add(-retention+time.Hour))
	token := &latchkey.EmailToken{ID: latchkey.NewID(now), UserID: u.ID, Purpose: latchkey.PurposeVerifyEmail, Email: u.Email,
		LinkHash: []byte("link"), CreatedAt: now.Add(-25 * time.Hour), ExpiresAt: now.Add(-time.Hour)}
	if err := db.CreateEmailToken(ctx, token); err != nil {
		t.Fatal(err)
	}
	mail := func(sent time.Time) string {
		m := &latchkey.OutboxMail{ID: latchkey.NewID(sent), Kind: "verify-email", To: u.Email, CreatedAt: sent, NextAttemptAt: sent}
		if err := db.EnqueueMail(ctx, m); err != nil {
			t.Fatal(err)
		}
		if err := db.MarkMailSent(ctx, m.ID, sent); err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	oldMail, recentMail := mail(now.Add(-janitor.MailRetention-time.Hour)), mail(now.Add(-janitor.MailRetention+time.Hour))

	var logs bytes.Buffer
	j := janitor.New(db, retention, func() time.Time { return now }, slog.New(slog.NewTextHandler(&logs, nil)))
	n, err := j.Once(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Errorf("removed %d rows, want 4 (a session, an audit event, an email token, a mail)", n)
	}
	if _, err := db.MailByID(ctx, oldMail); !latchkey.IsCode(err, latchkey.ENotFound) {
		t.Errorf("old mail still there: %v", err)
	}
	if _, err := db.MailByID(ctx, recentMail); err != nil {
		t.Errorf("recent mail removed: %v", err)
	}
	if _, err := db.SessionByID(ctx, expired); !latchkey.IsCode(err, latchkey.ENotFound) {
		t.Errorf("expired session still there: %v", err)
	}
	if _, err := db.SessionByID(ctx, live); err != nil {
		t.Errorf("live session removed: %v", err)
	}
	events, _, err := db.ListAudit(ctx, latchkey.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].ID != recent || events[0].ID == old {
		t.Errorf("audit after clean-up: %+v", events)
	}
	if !bytes.Contains(logs.Bytes(), []byte("rows=4")) {
		t.Errorf("the count was not logged: %s", logs.String())
	}

	// KeepMail shortens the mail retention.
	j = janitor.New(db, retention, func() time.Time { return now }, slog.New(slog.DiscardHandler), janitor.KeepMail(time.Hour))
	if n, err := j.Once(ctx); err != nil || n != 1 {
		t.Errorf("with KeepMail(1h): removed %d rows (%v), want the recent mail", n, err)
	}

	// Run cleans up at once and stops with its context.
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	logs.Reset()
	j = janitor.New(db, retention, func() time.Time { return now.Add(2 * time.Hour) }, slog.New(slog.NewTextHandler(&logs, nil)))
	go func() { j.Run(runCtx, time.Hour); close(done) }()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, err := db.SessionByID(ctx, live); latchkey.IsCode(err, latchkey.ENotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not clean up at start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
}
