package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// runner runs statements: on a pool outside a transaction, or on a
// transaction.
type runner interface {
	exec(ctx context.Context, query string, args ...any) (sql.Result, error)
	query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	queryRow(ctx context.Context, query string, args ...any) *sql.Row
}

// pool is a *sql.DB with a cache of prepared statements, so that each query
// is compiled once per connection rather than once per call.
type pool struct {
	db *sql.DB

	mu     sync.RWMutex
	stmts  map[string]*sql.Stmt
	wanted map[string]bool // run uncached inside a transaction; prepare later
}

func newPool(db *sql.DB) *pool {
	return &pool{db: db, stmts: map[string]*sql.Stmt{}, wanted: map[string]bool{}}
}

func (p *pool) cached(q string) *sql.Stmt {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.stmts[q]
}

// stmt returns the prepared statement for q, preparing it if needed. It
// takes a connection from the pool, so it must not be called while this
// goroutine holds the writer in a transaction.
func (p *pool) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if s := p.cached(q); s != nil {
		return s, nil
	}
	s, err := p.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if old := p.stmts[q]; old != nil {
		_ = s.Close()
		return old, nil
	}
	p.stmts[q] = s
	delete(p.wanted, q)
	return s, nil
}

func (p *pool) want(q string) {
	p.mu.Lock()
	p.wanted[q] = true
	p.mu.Unlock()
}

// prepareWanted prepares the statements that transactions asked for. A
// failure is left for the statement's next use to report.
func (p *pool) prepareWanted(ctx context.Context) {
	p.mu.RLock()
	n := len(p.wanted)
	p.mu.RUnlock()
	if n == 0 {
		return
	}
	p.mu.Lock()
	qs := make([]string, 0, len(p.wanted))
	for q := range p.wanted {
		qs = append(qs, q)
	}
	clear(p.wanted)
	p.mu.Unlock()
	for _, q := range qs {
		_, _ = p.stmt(ctx, q)
	}
}

func (p *pool) close() error {
	p.mu.Lock()
	var errs []error
	for q, s := range p.stmts {
		errs = append(errs, s.Close())
		delete(p.stmts, q)
	}
	p.mu.Unlock()
	errs = append(errs, p.db.Close())
	return errors.Join(errs...)
}

func (p *pool) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	s, err := p.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

func (p *pool) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	s, err := p.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// queryRow returns a *sql.Row; a preparation failure surfaces from Scan
// because the query is then run unprepared and fails the same way.
func (p *pool) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	s, err := p.stmt(ctx, q)
	if err != nil {
		return p.db.QueryRowContext(ctx, q, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// txRunner runs statements inside a transaction, reusing the pool's
// prepared statements (already compiled on the writer connection).
type txRunner struct {
	tx *sql.Tx
	p  *pool
}

func (t *txRunner) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if s := t.p.cached(q); s != nil {
		return t.tx.StmtContext(ctx, s).ExecContext(ctx, args...)
	}
	t.p.want(q)
	return t.tx.ExecContext(ctx, q, args...)
}

func (t *txRunner) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if s := t.p.cached(q); s != nil {
		return t.tx.StmtContext(ctx, s).QueryContext(ctx, args...)
	}
	t.p.want(q)
	return t.tx.QueryContext(ctx, q, args...)
}

func (t *txRunner) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if s := t.p.cached(q); s != nil {
		return t.tx.StmtContext(ctx, s).QueryRowContext(ctx, args...)
	}
	t.p.want(q)
	return t.tx.QueryRowContext(ctx, q, args...)
}
