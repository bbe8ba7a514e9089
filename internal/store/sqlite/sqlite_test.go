package sqlite_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlite"
	"github.com/latchkey/latchkey/internal/store/storetest"
)

func open(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "latchkey.db"))
	return storetest.Migrated(t, db, err)
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) latchkey.Store { return open(t) })
}

func TestMigrateTwice(t *testing.T) {
	db := open(t)
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if err := db.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesBadPaths(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db", "a.db?mode=ro"} {
		if db, err := sqlite.Open(t.Context(), p); err == nil {
			_ = db.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

func TestWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latchkey.db")
	db, err := sqlite.Open(t.Context(), path)
	storetest.Migrated(t, db, err)
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("no write-ahead log: %v", err)
	}
}

// go test -run '^$' -bench . ./internal/store/sqlite/
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, open(b))
}
