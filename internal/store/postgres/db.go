// Package postgres implements latchkey.Store on PostgreSQL with pgx v5 and
// a pgxpool connection pool.
//
// pgx prepares and caches every statement per connection, so each query is
// parsed and planned once per connection. Transactions run at READ
// COMMITTED; the atomic operations (MarkRefreshTokenUsed,
// ConsumeOneTimeCode, the revocations) are single conditional statements,
// which PostgreSQL re-checks under the row lock, so concurrent callers
// cannot both win.
//
// A search_path given in the URL (…?search_path=tenant) is sent as a
// connection parameter and honoured by every query and by the migrations.
//
// Times are timestamptz: they round-trip in UTC with microsecond precision
// (anything finer is truncated). Roles and scopes are text[]; an empty list
// reads back as nil.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// querier is what a pool and a transaction have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// queries implements latchkey.Tx on a pool or on one transaction.
type queries struct{ q querier }

// DB is a latchkey.Store on a PostgreSQL database.
type DB struct {
	queries
	pool *pgxpool.Pool
}

var (
	_ latchkey.Store = (*DB)(nil)
	_ latchkey.Tx    = (*queries)(nil)
)

// Open parses dsn and creates the pool. It does not connect: connections
// are made on first use, so a database that is down shows up as
// EUnavailable from Ping and every method, never as a failed start.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx redacts the password from its parse errors.
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		// pgxpool's default (the number of CPUs, at least 4) leaves most
		// of a request's time waiting for a connection while another
		// waits for a round trip; more connections also let PostgreSQL
		// flush many commits with one WAL write.
		cfg.MaxConns = int32(min(64, max(16, 8*runtime.NumCPU())))
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return &DB{queries: queries{q: pool}, pool: pool}, nil
}

// Migrate applies the embedded migrations that are not applied yet. A
// session-level advisory lock, keyed by the current schema, makes two
// processes that migrate at once take turns.
func (d *DB) Migrate(ctx context.Context) error { return d.migrate(ctx, 0) }

// migrate applies them up to version (0: all).
func (d *DB) migrate(ctx context.Context, version int64) error {
	db := stdlib.OpenDBFromPool(d.pool)
	defer db.Close()
	return sqlstore.Migrate(ctx, errs, db, goose.DialectPostgres, migrations, version, goose.WithSessionLocker(schemaLocker{}))
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	return mapErr("ping", d.pool.Ping(ctx))
}

// Close closes the pool.
func (d *DB) Close() error {
	d.pool.Close()
	return nil
}

// InTx runs fn in one READ COMMITTED transaction, on one connection,
// with its final writes pipelined with COMMIT (see txConn).
func (d *DB) InTx(ctx context.Context, fn func(tx latchkey.Tx) error) error {
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return mapErr("begin", err)
	}
	// A connection left inside a transaction is destroyed, not reused,
	// by pgxpool's Release.
	defer conn.Release()
	tc := &txConn{conn: conn}
	committed := false
	defer func() {
		if !committed && tc.begun {
			// A context that is already done must not stop the rollback.
			_, _ = conn.Exec(context.WithoutCancel(ctx), "rollback")
		}
	}()
	if err := fn(&queries{q: tc}); err != nil {
		return err
	}
	if !tc.begun && tc.pending == nil {
		committed = true // nothing was sent: nothing to commit
		return nil
	}
	if err := tc.flush(ctx, "commit"); err != nil {
		return mapErr("commit", err)
	}
	committed = true
	return nil
}

// DeleteExpired deletes in one transaction. Refresh tokens of doomed
// sessions are deleted explicitly (rather than by the cascade) so that they
// are counted.
func (d *DB) DeleteExpired(ctx context.Context, before, auditBefore time.Time) (int64, error) {
	stmts := []struct {
		sql  string
		args []any
	}{
		{`DELETE FROM refresh_tokens WHERE expires_at < $1 OR session_id IN
			(SELECT id FROM sessions WHERE expires_at < $1 OR revoked_at < $1)`, []any{before}},
		{`DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1`, []any{before}},
		{`DELETE FROM one_time_codes WHERE expires_at < $1`, []any{before}},
		{`DELETE FROM email_tokens WHERE expires_at < $1 OR consumed_at < $1`, []any{before}},
		{`DELETE FROM passkey_challenges WHERE expires_at < $1`, []any{before}},
		{`DELETE FROM mfa_challenges WHERE expires_at < $1 OR consumed_at < $1`, []any{before}},
		{`DELETE FROM totp_factors WHERE expires_at < $1`, []any{before}}, // lapsed enrollments (confirmed: NULL)
		{`DELETE FROM oauth_auth_requests WHERE expires_at < $1`, []any{before}},
		{`DELETE FROM oauth_refresh_tokens WHERE expires_at < $1`, []any{before}},
		{`DELETE FROM oauth_assertion_ids WHERE expires_at < $1`, []any{before}},
		{`DELETE FROM oauth_device_codes WHERE expires_at < $1`, []any{before}},
		{`DELETE FROM oauth_grants WHERE expires_at < $1 OR revoked_at < $1`, []any{before}},
		{`DELETE FROM audit_events WHERE occurred_at < $1`, []any{auditBefore}},
	}
	var total int64
	err := d.InTx(ctx, func(tx latchkey.Tx) error {
		q := tx.(*queries).q
		for _, s := range stmts {
			tag, err := q.Exec(ctx, s.sql, s.args...)
			if err != nil {
				return mapErr("delete expired", err)
			}
			total += tag.RowsAffected()
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}

func (d *DB) DeleteOldMail(ctx context.Context, before time.Time) (int64, error) {
	tag, err := d.pool.Exec(ctx, `DELETE FROM outbox WHERE sent_at < $1 OR failed_at < $1`, before)
	if err != nil {
		return 0, mapErr("delete old mail", err)
	}
	return tag.RowsAffected(), nil
}

// schemaLocker is goose's session locker with a lock per schema: tenants
// (and parallel tests) in other schemas do not wait for each other, and
// pg_advisory_lock blocks until the lock is free instead of polling.
type schemaLocker struct{}

const lockKey = `hashtextextended('latchkey.migrate:' || current_schema(), 0)`

func (schemaLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(`+lockKey+`)`)
	return err
}

func (schemaLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock(`+lockKey+`)`).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return errors.New("postgres: migration lock was not held")
	}
	return nil
}

// insert stores a new record, which its caller has named id (op: "create
// user").
func (q *queries) insert(ctx context.Context, op, id, query string, args ...any) error {
	return sqlstore.Insert(ctx, errs, q.q.Exec, op, id, query, args...)
}
