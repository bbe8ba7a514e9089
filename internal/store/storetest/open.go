package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

// Migrator is a store that can be migrated and closed.
type Migrator interface {
	Migrate(ctx context.Context) error
	Close() error
}

// Opened fails t if err (Open's) is not nil, and otherwise closes s when
// t ends.
func Opened[S Migrator](t testing.TB, s S, err error) S {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Migrated is Opened, and migrates s.
func Migrated[S Migrator](t testing.TB, s S, err error) S {
	t.Helper()
	s = Opened(t, s, err)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

// Legacy is a SQL store whose schema is at migration 00001, for an
// upgrade test.
type Legacy struct {
	Store latchkey.Store
	// Mark and Encoder write the store's placeholders and values.
	Mark    func(n int) string
	Encoder sqlstore.Encoder
	// Exec runs a statement on the store's database; Migrate applies the
	// migrations that are not applied yet.
	Exec    func(ctx context.Context, query string, args ...any) error
	Migrate func(ctx context.Context) error
}

// Upgrade00001 checks that rows written under migration 00001 read back
// after the later ones: a user with no proven email, a session
// authenticated when it was created.
func Upgrade00001(t *testing.T, l Legacy) {
	ctx := t.Context()
	created := time.Date(2030, 1, 2, 3, 4, 5, 6000, time.UTC)
	a := &sqlstore.Args{Mark: l.Mark}
	user := `INSERT INTO users (id, email, created_at, updated_at) VALUES ('u1', 'a@example.com', ` +
		a.Add(l.Encoder.Time(created)) + `, ` + a.Add(l.Encoder.Time(created)) + `)`
	if err := l.Exec(ctx, user, a.List...); err != nil {
		t.Fatal(err)
	}
	a = &sqlstore.Args{Mark: l.Mark}
	session := `INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at) VALUES ('s1', 'u1', ` +
		a.Add(l.Encoder.Time(created)) + `, ` + a.Add(l.Encoder.Time(created.Add(time.Hour))) + `, ` +
		a.Add(l.Encoder.Time(created.Add(24*time.Hour))) + `)`
	if err := l.Exec(ctx, session, a.List...); err != nil {
		t.Fatal(err)
	}
	if err := l.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := l.Store.UserByID(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if u.EmailVerifiedAt != nil {
		t.Errorf("EmailVerifiedAt = %v, want nil", u.EmailVerifiedAt)
	}
	s, err := l.Store.SessionByID(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if !s.AuthTime.Equal(created) {
		t.Errorf("AuthTime = %v, want the creation time %v", s.AuthTime, created)
	}
}
