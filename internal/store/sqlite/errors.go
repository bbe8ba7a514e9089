package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/latchkey/latchkey"
)

const unavailable = "The database is unavailable."

// mapErr turns a driver error into latchkey's codes: constraint violations
// into EConflict / ENotFound, failures to reach the database into
// EUnavailable, and anything else into a wrapped operator-only error.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var le *latchkey.Error
	if errors.As(err, &le) {
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return &latchkey.Error{Code: latchkey.EConflict, Message: "It already exists.", Err: err}
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return &latchkey.Error{Code: latchkey.ENotFound, Message: "The record it refers to does not exist.", Err: err}
		}
		switch se.Code() & 0xff { // the primary result code
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR,
			sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY,
			sqlite3.SQLITE_INTERRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
			return latchkey.WrapError(latchkey.EUnavailable, unavailable, fmt.Errorf("sqlite: %s: %w", op, err))
		}
	}
	if isUnavailable(err) {
		return latchkey.WrapError(latchkey.EUnavailable, unavailable, fmt.Errorf("sqlite: %s: %w", op, err))
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

func isUnavailable(err error) bool {
	return errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Canceled) ||
		// database/sql does not export its "database is closed" error.
		strings.Contains(err.Error(), "sql: database is closed")
}

func notFound(what string) error {
	return latchkey.Errorf(latchkey.ENotFound, "%s not found.", what)
}

// rowErr maps the error of a single-row read: no row means ENotFound.
func rowErr(op, what string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(what)
	}
	return mapErr(op, err)
}

// affected turns "no row changed" into ENotFound.
func affected(op, what string, res sql.Result, err error) error {
	if err != nil {
		return mapErr(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return mapErr(op, err)
	}
	if n == 0 {
		return notFound(what)
	}
	return nil
}

// Times are stored as microseconds since the Unix epoch.
func micro(t time.Time) int64 { return t.UnixMicro() }

func nullMicro(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

func fromMicro(v int64) time.Time { return time.UnixMicro(v).UTC() }

func fromNullMicro(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicro(v.Int64)
	return &t
}

// nullBytes stores an empty slice as NULL.
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func encodeList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l) // a []string always marshals
	return string(b)
}

func decodeList(s string) ([]string, error) {
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("sqlite: decode list: %w", err)
	}
	if len(l) == 0 {
		return nil, nil
	}
	return l, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// pageLimit applies the default (50) and maximum (200) page sizes.
func pageLimit(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 200:
		return 200
	}
	return n
}

// likeEscape escapes LIKE wildcards so that s matches literally.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

type scanner interface{ Scan(dest ...any) error }
