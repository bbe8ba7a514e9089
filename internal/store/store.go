// Package store opens latchkey's database from the --database setting:
// PostgreSQL for a postgres:// URL, SQLite for anything else that is a file
// path (or sqlite:// followed by one).
package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/postgres"
	"github.com/latchkey/latchkey/internal/store/sqlite"
)

// Store is a latchkey.Store that can bring its schema up to date.
type Store interface {
	latchkey.Store
	// Migrate applies the migrations that are not applied yet; it is safe
	// to call on every start.
	Migrate(ctx context.Context) error
}

var (
	_ Store = (*sqlite.DB)(nil)
	_ Store = (*postgres.DB)(nil)
)

// Open opens the database that the --database setting names. It does not
// migrate. For SQLite it creates the parent directory (0700) and the file
// (0600) when they are missing.
func Open(ctx context.Context, database string) (Store, error) {
	switch {
	case database == "":
		return nil, errors.New("--database: empty; give a file path, sqlite:///path or postgres://…")
	case strings.HasPrefix(database, "postgres://"), strings.HasPrefix(database, "postgresql://"):
		if _, err := url.Parse(database); err != nil {
			// url's error repeats the whole URL, password included.
			return nil, fmt.Errorf("--database: %s is not a valid PostgreSQL URL", Redact(database))
		}
		db, err := postgres.Open(ctx, database)
		if err != nil {
			return nil, fmt.Errorf("--database: %s", redactIn(err.Error(), database))
		}
		return db, nil
	case strings.HasPrefix(database, "sqlite://"):
		return openSQLite(ctx, strings.TrimPrefix(database, "sqlite://"))
	case strings.Contains(database, "://"):
		return nil, fmt.Errorf("--database: unsupported scheme in %s; use a file path, sqlite:///path or postgres://…", Redact(database))
	}
	return openSQLite(ctx, database)
}

func openSQLite(ctx context.Context, path string) (Store, error) {
	if path == "" || path == ":memory:" || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("--database: %q is not a usable SQLite file path", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("--database: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("--database: %w", err)
		}
	case !errors.Is(err, os.ErrExist):
		return nil, fmt.Errorf("--database: %w", err)
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("--database: %w", err)
	}
	return db, nil
}

var passwordParam = regexp.MustCompile(`(?i)(password=)[^&\s]*`)

// Redact returns database without any password, for logs and error
// messages.
func Redact(database string) string {
	out := passwordParam.ReplaceAllString(database, "${1}xxxxx")
	if u, err := url.Parse(out); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			return u.Redacted()
		}
		return out
	} else if err != nil && strings.Contains(out, "@") {
		// Unparseable: drop everything between the scheme and the host.
		if i, j := strings.Index(out, "://"), strings.LastIndex(out, "@"); i >= 0 && j > i {
			return out[:i+3] + "xxxxx" + out[j:]
		}
	}
	return out
}

// redactIn removes the password of database from s, in case a driver
// repeats it.
func redactIn(s, database string) string {
	if u, err := url.Parse(database); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			s = strings.ReplaceAll(s, p, "xxxxx")
		}
	}
	return passwordParam.ReplaceAllString(s, "${1}xxxxx")
}
