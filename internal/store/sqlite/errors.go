package sqlite

import (
	"database/sql"
	"errors"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

var errs = sqlstore.Errors{Backend: "sqlite", NoRows: sql.ErrNoRows, Classify: classify}

// classify tells SQLite's constraint violations and its failures to reach
// or use the file.
func classify(err error) sqlstore.Class {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return sqlstore.Duplicate
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return sqlstore.MissingRef
		}
		switch se.Code() & 0xff { // the primary result code
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR,
			sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY,
			sqlite3.SQLITE_INTERRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
			return sqlstore.Unavailable
		}
	}
	if sqlstore.Unreachable(err) {
		return sqlstore.Unavailable
	}
	return sqlstore.Other
}

func mapErr(op string, err error) error { return errs.Map(op, err) }

// rowErr maps the error of a single-row read: no row means ENotFound.
func rowErr(op, what string, err error) error { return errs.Row(op, what, err) }

// affected turns "no row changed" into ENotFound.
func affected(op, what string, res sql.Result, err error) error {
	if err != nil {
		return mapErr(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return mapErr(op, err)
	}
	return sqlstore.Changed(what, n)
}
