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
	begun   bool // BEGIN has been sent (it rides with the first statement)
}

// errRow is a pgx.Row that fails with err.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

func (c *txConn) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	br, err := c.send(ctx, sql, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (c *txConn) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := c.flush(ctx); err != nil {
		return nil, err
	}
	return c.conn.Query(ctx, sql, args...)
}

func (c *txConn) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	br, err := c.send(ctx, sql, args)
	if err != nil {
		return errRow{err}
	}
	return &batchRow{br: br, row: br.QueryRow()}
}

// send sends BEGIN (on the transaction's first statement) and the
// held-back writes together with one more statement, whose results are
// left for the caller to read from br (and br to close).
func (c *txConn) send(ctx context.Context, sql string, args []any) (pgx.BatchResults, error) {
	b := c.take()
	b.Queue(sql, args...)
	br := c.conn.SendBatch(ctx, b)
	// Run the held-back writes' handlers; all but the last result.
	for _, qq := range b.QueuedQueries[:len(b.QueuedQueries)-1] {
		if qq.Fn != nil {
			_ = qq.Fn(br)
		} else if _, err := br.Exec(); err != nil && c.first == nil {
			c.first = mapErr("begin", err)
		}
	}
	if err := c.first; err != nil {
		c.first = nil
		_ = br.Close()
		return nil, err
	}
	return br, nil
}

// take returns the pending batch (with BEGIN in front on the first
// call) and starts a new one.
func (c *txConn) take() *pgx.Batch {
	b := c.pending
	if b == nil {
		b = &pgx.Batch{}
	}
	if !c.begun {
		c.begun = true
		b.QueuedQueries = append([]*pgx.QueuedQuery{{SQL: "begin"}}, b.QueuedQueries...)
	}
	c.pending, c.checked = nil, false
	return b
}

// batchRow is the row of a statement sent in a batch: scanning it also
// closes the batch.
type batchRow struct {
	br  pgx.BatchResults
	row pgx.Row
}

func (r *batchRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
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

// flush sends the held-back writes (and BEGIN if not yet sent),
// followed by tail.
func (c *txConn) flush(ctx context.Context, tail ...string) error {
	if c.pending == nil && len(tail) == 0 && c.begun {
		return nil
	}
	if c.checked && len(tail) > 0 {
		if err := c.flush(ctx); err != nil {
			return err
		}
	}
	b := c.take()
	for _, sql := range tail {
		b.Queue(sql)
	}
	c.first = nil
	err := c.conn.SendBatch(ctx, b).Close()
	if c.first != nil {
		err, c.first = c.first, nil
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
