package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// Writes held back until COMMIT still fail the transaction, with their
// own error code, and leave nothing behind.
func TestHeldBackWriteErrorsRollBack(t *testing.T) {
	db := openMigrated(t)
	ctx := context.Background()
	now := time.Now().UTC()
	u := &latchkey.User{ID: latchkey.NewID(now), Email: "held@example.com", CreatedAt: now, UpdatedAt: now}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	sess := &latchkey.Session{ID: latchkey.NewID(now), UserID: u.ID, CreatedAt: now, LastUsedAt: now, AuthTime: now, ExpiresAt: now.Add(time.Hour)}
	tests := []struct {
		name string
		fn   func(tx latchkey.Tx) error
		code string
	}{
		{"refresh token of no session", func(tx latchkey.Tx) error {
			if err := tx.CreateSession(ctx, sess); err != nil {
				return err
			}
			return tx.CreateRefreshToken(ctx, &latchkey.RefreshToken{Hash: []byte("h1-000000000000000000000000000000"), SessionID: "ghost", UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
		}, latchkey.ENotFound},
		{"touch of no session", func(tx latchkey.Tx) error {
			if err := tx.CreateSession(ctx, sess); err != nil {
				return err
			}
			return tx.TouchSession(ctx, "ghost", now)
		}, latchkey.ENotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := db.InTx(ctx, tt.fn)
			if latchkey.ErrorCode(err) != tt.code {
				t.Fatalf("InTx = %v, want code %s", err, tt.code)
			}
			if _, err := db.SessionByID(ctx, sess.ID); !latchkey.IsCode(err, latchkey.ENotFound) {
				t.Fatalf("the session of a failed transaction exists: %v", err)
			}
		})
	}
	// Reads inside the transaction see the held-back writes.
	err := db.InTx(ctx, func(tx latchkey.Tx) error {
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		_, err := tx.SessionByID(ctx, sess.ID)
		return err
	})
	if err != nil {
		t.Fatalf("read after a held-back write: %v", err)
	}
}
