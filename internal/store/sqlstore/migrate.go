package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// Migrate applies the migrations of fsys's migrations folder to db that
// are not applied yet, up to version (0: all of them), with goose's
// dialect and options.
func Migrate(ctx context.Context, e Errors, db *sql.DB, dialect goose.Dialect, fsys fs.FS, version int64, opts ...goose.ProviderOption) error {
	sub, err := fs.Sub(fsys, "migrations")
	if err != nil {
		return fmt.Errorf("%s: migrations: %w", e.Backend, err)
	}
	opts = append([]goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}, opts...)
	p, err := goose.NewProvider(dialect, db, sub, opts...)
	if err != nil {
		return fmt.Errorf("%s: migrations: %w", e.Backend, err)
	}
	if version == 0 {
		_, err = p.Up(ctx)
	} else {
		_, err = p.UpTo(ctx, version)
	}
	return e.Map("migrate", err)
}
