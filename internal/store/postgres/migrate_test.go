package postgres

import (
	"context"
	"testing"

	"github.com/latchkey/latchkey/internal/store/sqlstore"
	"github.com/latchkey/latchkey/internal/store/storetest"
	"github.com/latchkey/latchkey/internal/testenv"
)

func TestMigrationKeepsRowsOf00001(t *testing.T) {
	d, err := Open(t.Context(), testenv.PostgresSchema(t))
	d = storetest.Opened(t, d, err)
	if err := d.migrate(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	storetest.Upgrade00001(t, storetest.Legacy{Store: d, Mark: sqlstore.Dollar, Encoder: encoder{}, Migrate: d.Migrate,
		Exec: func(ctx context.Context, query string, args ...any) error {
			_, err := d.pool.Exec(ctx, query, args...)
			return err
		}})
}
