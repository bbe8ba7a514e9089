package sqlite

import (
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
)

// Rows written under migration 00001 read back after 00002: a user with
// no proven email, a session authenticated when it was created.
func TestMigrationKeepsRowsOf00001(t *testing.T) {
	ctx := t.Context()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, d.writer.db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 1); err != nil {
		t.Fatal(err)
	}
	created := time.Date(2030, 1, 2, 3, 4, 5, 6000, time.UTC)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO users (id, email, created_at, updated_at) VALUES ('u1', 'a@example.com', ?, ?)`, []any{micro(created), micro(created)}},
		{`INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at) VALUES ('s1', 'u1', ?, ?, ?)`,
			[]any{micro(created), micro(created.Add(time.Hour)), micro(created.Add(24 * time.Hour))}},
	} {
		if _, err := d.writer.db.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := d.UserByID(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if u.EmailVerifiedAt != nil {
		t.Errorf("EmailVerifiedAt = %v, want nil", u.EmailVerifiedAt)
	}
	s, err := d.SessionByID(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if !s.AuthTime.Equal(created) {
		t.Errorf("AuthTime = %v, want the creation time %v", s.AuthTime, created)
	}
}
