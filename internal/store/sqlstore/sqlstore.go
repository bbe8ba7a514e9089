// Package sqlstore is what latchkey's SQL stores share whatever their
// driver: the row loop, newest-first paging, the driver-independent part
// of error mapping, and the migration runner. Each store keeps only what
// is its own: SQL text and placeholders, how its columns read and write,
// and which of its driver's errors mean what (see Errors).
package sqlstore

import "context"

// Scanner is one row: *sql.Row, *sql.Rows, pgx.Row and pgx.Rows all are.
type Scanner interface {
	Scan(dest ...any) error
}

// Rows is the cursor of a query: *sql.Rows and pgx.Rows both are.
type Rows interface {
	Scanner
	Next() bool
	Err() error
}

// Query runs a query on a pool or in a transaction: the store's own.
type Query[R Rows] func(ctx context.Context, query string, args ...any) (R, error)

// Exec runs a statement that returns no rows: the store's own.
type Exec[R any] func(ctx context.Context, query string, args ...any) (R, error)

// Insert runs the INSERT of a new record, which its caller has named id
// (op: "create user"): a record without an ID is refused (see NeedID).
func Insert[R any](ctx context.Context, e Errors, exec Exec[R], op, id, query string, args ...any) error {
	if err := e.NeedID(op, id); err != nil {
		return err
	}
	_, err := exec(ctx, query, args...)
	return e.Map(op, err)
}

// List runs a query with run and reads every row with scan (see Collect);
// it closes the rows and maps an error as op's (e.Map).
func List[T any, R Rows](ctx context.Context, e Errors, run Query[R], op, query string, args []any,
	scan func(Scanner) (*T, error)) ([]T, error) {
	rows, err := run(ctx, query, args...)
	if err != nil {
		return nil, e.Map(op, err)
	}
	defer closeRows(rows)
	out, err := Collect(rows, scan)
	return out, e.Map(op, err)
}

// closeRows closes rows: database/sql's Close returns an error (the
// rows' own, which Err has reported already), pgx's does not.
func closeRows(rows any) {
	switch r := rows.(type) {
	case interface{ Close() error }:
		_ = r.Close()
	case interface{ Close() }:
		r.Close()
	}
}

// Collect reads every row of rows with scan, in order; no rows is nil. It
// returns the first error of scan or of the cursor, unmapped.
func Collect[T any](rows Rows, scan func(Scanner) (*T, error)) ([]T, error) {
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// ScanString reads a row of one text column (an ID).
func ScanString(s Scanner) (*string, error) {
	var v string
	if err := s.Scan(&v); err != nil {
		return nil, err
	}
	return &v, nil
}

// One reads a single-row result with scan; no row is NotFound(what), any
// other error is mapped as op's.
func One[T any](e Errors, op, what string, row Scanner, scan func(Scanner) (*T, error)) (*T, error) {
	v, err := scan(row)
	if err != nil {
		return nil, e.Row(op, what, err)
	}
	return v, nil
}
