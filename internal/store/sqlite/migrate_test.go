package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/latchkey/latchkey/internal/store/sqlstore"
	"github.com/latchkey/latchkey/internal/store/storetest"
)

func TestMigrationKeepsRowsOf00001(t *testing.T) {
	d, err := Open(t.Context(), filepath.Join(t.TempDir(), "latchkey.db"))
	d = storetest.Opened(t, d, err)
	if err := d.migrate(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	storetest.Upgrade00001(t, storetest.Legacy{Store: d, Mark: sqlstore.Question, Encoder: encoder{}, Migrate: d.Migrate,
		Exec: func(ctx context.Context, query string, args ...any) error {
			_, err := d.writer.db.ExecContext(ctx, query, args...)
			return err
		}})
}
