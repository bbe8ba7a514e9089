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

	var logs bytes.Buffer
	j := janitor.New(db, retention, func() time.Time { return now }, slog.New(slog.NewTextHandler(&logs, nil)))
	n, err := j.Once(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("removed %d rows, want 2 (one session, one audit event)", n)
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
	if !bytes.Contains(logs.Bytes(), []byte("rows=2")) {
		t.Errorf("the count was not logged: %s", logs.String())
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
