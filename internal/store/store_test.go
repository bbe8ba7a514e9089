package store_test

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store"
	"github.com/latchkey/latchkey/internal/testenv"
)

func TestOpenSQLiteCreatesPrivateFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "latchkey.db")
	for _, database := range []string{path, "sqlite://" + path} {
		db, err := store.Open(t.Context(), database)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("database file mode %o, want 600", perm)
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := di.Mode().Perm(); perm != 0o700 {
		t.Errorf("data directory mode %o, want 700", perm)
	}
}

func TestOpenPostgres(t *testing.T) {
	dsn := testenv.Postgres(t)
	db, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	alt := strings.Replace(dsn, "postgres://", "postgresql://", 1)
	db2, err := store.Open(t.Context(), alt)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if err := db2.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestOpenBadSettings(t *testing.T) {
	for _, database := range []string{
		"",
		"mysql://u:hunter2@127.0.0.1/db",
		"sqlite://",
		":memory:",
		"postgres://u:hunter2@127.0.0.1:notaport/db",
		"postgres://u:hunter2@[::1/db",
		"postgres://u:hunter2@127.0.0.1/db?sslmode=bogus",
	} {
		db, err := store.Open(t.Context(), database)
		if err == nil {
			_ = db.Close()
			t.Errorf("Open(%q) succeeded", database)
			continue
		}
		if !strings.Contains(err.Error(), "--database") {
			t.Errorf("Open(%q): %v does not name --database", database, err)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q): %v shows the password", database, err)
		}
	}
}

func TestUnavailableSQLite(t *testing.T) {
	db, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	if err := db.Migrate(t.Context()); latchkey.ErrorCode(err) != latchkey.EUnavailable {
		t.Fatalf("Migrate on a closed store: %v", err)
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:hunter2@db:5432/x?sslmode=require", "postgres://u:xxxxx@db:5432/x?sslmode=require"},
		{"postgres://u@db/x", "postgres://u@db/x"},
		{"postgres://db/x?user=u&password=hunter2&sslmode=disable", "postgres://db/x?user=u&password=xxxxx&sslmode=disable"},
		{"host=db user=u password=hunter2 dbname=x", "host=db user=u password=xxxxx dbname=x"},
		{"postgres://u:hunter2@[::1/db", "postgres://xxxxx@[::1/db"},
		{"./latchkey-data/latchkey.db", "./latchkey-data/latchkey.db"},
		{"sqlite:///var/lib/latchkey.db", "sqlite:///var/lib/latchkey.db"},
	}
	for _, tc := range tests {
		if got := store.Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// reencoded is a URL as url.URL.String writes it back, escapes and all.
func reencoded(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.String()
	}
	return raw
}

// FuzzRedact checks that the password of a URL never survives Redact.
func FuzzRedact(f *testing.F) {
	f.Add("u", "hunter2", "db:5432", "x")
	f.Add("u", "p@ss:w/rd", "[::1]", "x?sslmode=disable")
	f.Add("", "secretsecret", "h", "")
	f.Fuzz(func(t *testing.T, user, pass, host, path string) {
		if len(pass) < 6 || strings.ContainsAny(pass, "x") {
			return // too short to tell apart from the rest of the URL
		}
		rest := "postgres://" + url.User(user).String() + "@" + host + "/" + path
		for _, form := range []string{pass, url.QueryEscape(pass), url.PathEscape(pass)} {
			// The same text may stand in the non-secret parts, as given or as
			// Redact re-encodes them ("\xf0" + "0000" becomes "%F00000").
			if strings.Contains(rest, form) || strings.Contains(reencoded(rest), form) {
				return // the "password" also stands in the user, host or path, which are not secret
			}
		}
		dsn := "postgres://" + url.UserPassword(user, pass).String() + "@" + host + "/" + path
		got := store.Redact(dsn)
		if strings.Contains(got, pass) || strings.Contains(got, url.QueryEscape(pass)) || strings.Contains(got, url.PathEscape(pass)) {
			t.Fatalf("Redact(%q) = %q still holds the password", dsn, got)
		}
	})
}
