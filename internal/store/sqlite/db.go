// Package sqlite implements latchkey.Store on SQLite (modernc.org/sqlite, no
// cgo).
//
// The database runs in WAL mode with synchronous=NORMAL, foreign keys on and
// a busy timeout. It is reached through two pools: a single-connection writer
// whose transactions start with BEGIN IMMEDIATE, so that writers queue in Go
// instead of failing with SQLITE_BUSY, and a read-only pool of several
// connections, so that reads run in parallel with each other and with the
// writer. InTx and every write method use the writer; reads outside a
// transaction use the reader pool.
//
// Times are stored as INTEGER microseconds since the Unix epoch: they
// round-trip in UTC with microsecond precision (anything finer is
// truncated). Roles and scopes are stored as JSON arrays; an empty list
// reads back as nil.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// busyTimeoutMS bounds how long a connection waits for another process's
// lock before reporting SQLITE_BUSY (which becomes EUnavailable).
const busyTimeoutMS = 5000

// DB is a latchkey.Store on one SQLite file.
type DB struct {
	queries
	writer *pool
	reader *pool
	// txMu queues InTx callers in Go: a mutex lets a ready goroutine take
	// the writer at once, where database/sql's wait queue hands the
	// connection to a parked goroutine and idles until it runs.
	txMu sync.Mutex
}

var (
	_ latchkey.Store = (*DB)(nil)
	_ latchkey.Tx    = (*queries)(nil)
)

// Open opens (creating if needed) the SQLite database at path. It does not
// apply migrations; call Migrate.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" || strings.ContainsRune(path, '?') || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: %q is not a usable database file path", path)
	}
	common := fmt.Sprintf("%s?_busy_timeout=%d&_foreign_keys=1&_synchronous=NORMAL", path, busyTimeoutMS)
	w, err := sql.Open("sqlite", common+"&_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open writer: %w", err)
	}
	// One writer connection: writes queue in database/sql rather than
	// fighting over SQLite's lock. It is kept open for the life of the DB.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// Connect the writer first: it switches the file to WAL mode, which
	// the readers rely on.
	if err := w.PingContext(ctx); err != nil {
		_ = w.Close()
		return nil, mapErr("open", err)
	}
	r, err := sql.Open("sqlite", common+"&_query_only=1")
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("sqlite: open reader: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(0)
	r.SetConnMaxLifetime(0)
	d := &DB{writer: newPool(w), reader: newPool(r)}
	d.queries = queries{r: d.reader, w: d.writer}
	return d, nil
}

// Migrate applies the embedded migrations that are not applied yet.
func (d *DB) Migrate(ctx context.Context) error { return d.migrate(ctx, 0) }

// migrate applies them up to version (0: all).
func (d *DB) migrate(ctx context.Context, version int64) error {
	return sqlstore.Migrate(ctx, errs, d.writer.db, goose.DialectSQLite3, migrations, version)
}

// Ping checks that both pools can reach the database.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.writer.db.PingContext(ctx); err != nil {
		return mapErr("ping", err)
	}
	if err := d.reader.db.PingContext(ctx); err != nil {
		return mapErr("ping", err)
	}
	return nil
}

// Close closes both pools.
func (d *DB) Close() error {
	return errors.Join(d.reader.close(), d.writer.close())
}

// InTx runs fn in one write transaction on the writer connection. fn must
// use tx, not d: the writer is busy until fn returns.
func (d *DB) InTx(ctx context.Context, fn func(tx latchkey.Tx) error) (err error) {
	// Prepare, while the writer is still free, the statements that earlier
	// transactions ran uncached.
	d.writer.prepareWanted(ctx)
	d.txMu.Lock()
	defer d.txMu.Unlock()
	sqlTx, err := d.writer.db.BeginTx(ctx, nil)
	if err != nil {
		return mapErr("begin", err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = sqlTx.Rollback()
		}
	}()
	tr := &txRunner{tx: sqlTx, p: d.writer}
	if err := fn(&queries{r: tr, w: tr}); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return mapErr("commit", err)
	}
	committed = true
	return nil
}

// insert stores a new record, which its caller has named id (op: "create
// user").
func (q *queries) insert(ctx context.Context, op, id, query string, args ...any) error {
	return sqlstore.Insert(ctx, errs, q.w.exec, op, id, query, args...)
}
