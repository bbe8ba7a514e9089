package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// txConn runs one transaction on one pooled connection, and holds back
// the writes whose only answer is success or an error (an audit event, a
// new refresh token, a session's last use) until the next statement or
// COMMIT, which then go to the server together in one pipelined batch. A
// refresh rotation costs seven round trips instead of nine; a new
// session two instead of five. Any statement flushes first, so the transaction
// always reads its own writes; an error of a held-back write surfaces from
// that flush (at the latest from InTx) and rolls everything back, so the
// outcome is the same as if it had been sent at once, only reported later.
type txConn struct {
	conn    *pgxpool.Conn
	pending *pgx.Batch
	first   error // the first error of the pending batch
	// checked: a pending write is judged by its command tag on the client
	// (no row touched = not found), which the server cannot see, so COMMIT
	// must wait for that judgement instead of riding in the same batch.
	checked bool
}

// errRow is a pgx.Row that fails with err.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

func (c *txConn) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if err := c.flush(ctx); err != nil {
		return pgconn.CommandTag{}, err
	}
	return c.conn.Exec(ctx, sql, args...)
}

func (c *txConn) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := c.flush(ctx); err != nil {
		return nil, err
	}
	return c.conn.Query(ctx, sql, args...)
}

func (c *txConn) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if err := c.flush(ctx); err != nil {
		return errRow{err}
	}
	return c.conn.QueryRow(ctx, sql, args...)
}

// later queues a write; check judges its command tag (nil: any is fine).
// op names it in a mapped error.
func (c *txConn) later(op string, check func(pgconn.CommandTag) error, sql string, args ...any) {
	if c.pending == nil {
		c.pending = &pgx.Batch{}
	}
	c.checked = c.checked || check != nil
	qq := c.pending.Queue(sql, args...)
	qq.Fn = func(br pgx.BatchResults) error {
		tag, err := br.Exec()
		if err == nil && check != nil {
			err = check(tag)
		} else if err != nil {
			err = mapErr(op, err)
		}
		if err != nil && c.first == nil {
			c.first = err
		}
		return err
	}
}

// flush sends the held-back writes, followed by tail when it is not "".
func (c *txConn) flush(ctx context.Context, tail ...string) error {
	if c.pending == nil && len(tail) == 0 {
		return nil
	}
	if c.checked && len(tail) > 0 {
		if err := c.flush(ctx); err != nil {
			return err
		}
	}
	b := c.pending
	if b == nil {
		b = &pgx.Batch{}
	}
	c.pending, c.first, c.checked = nil, nil, false
	for _, sql := range tail {
		b.Queue(sql)
	}
	err := c.conn.SendBatch(ctx, b).Close()
	if c.first != nil {
		return c.first
	}
	return err
}

// deferredExec runs a write now outside a transaction, or holds it back
// inside one (see txConn).
func (q *queries) deferredExec(ctx context.Context, op string, check func(pgconn.CommandTag) error, sql string, args ...any) error {
	if tc, ok := q.q.(*txConn); ok {
		tc.later(op, check, sql, args...)
		return nil
	}
	tag, err := q.q.Exec(ctx, sql, args...)
	if err != nil {
		return mapErr(op, err)
	}
	if check != nil {
		return check(tag)
	}
	return nil
}
