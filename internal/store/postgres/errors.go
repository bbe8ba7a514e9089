package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"

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
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505": // unique_violation
			return &latchkey.Error{Code: latchkey.EConflict, Message: "It already exists.", Err: err}
		case pe.Code == "23503": // foreign_key_violation
			return &latchkey.Error{Code: latchkey.ENotFound, Message: "The record it refers to does not exist.", Err: err}
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "53"),       // insufficient resources (too many connections, …)
			strings.HasPrefix(pe.Code, "57P"),      // shutting down, cannot connect now
			pe.Code == "57014",                     // query_canceled (statement timeout)
			pe.Code == "40001", pe.Code == "40P01": // serialization failure, deadlock: retry later
			return latchkey.WrapError(latchkey.EUnavailable, unavailable, fmt.Errorf("postgres: %s: %w", op, err))
		}
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	if isUnavailable(err) {
		return latchkey.WrapError(latchkey.EUnavailable, unavailable, fmt.Errorf("postgres: %s: %w", op, err))
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// isUnavailable reports errors of the connection rather than the query.
func isUnavailable(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) ||
		errors.As(err, &ne) ||
		pgconn.Timeout(err) ||
		pgconn.SafeToRetry(err) ||
		errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, puddle.ErrClosedPool) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Canceled) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) ||
		// database/sql (used by the migrations) does not export this one.
		strings.Contains(err.Error(), "sql: database is closed")
}

func notFound(what string) error {
	return latchkey.Errorf(latchkey.ENotFound, "%s not found.", what)
}

// rowErr maps the error of a single-row read: no row means ENotFound.
func rowErr(op, what string, err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound(what)
	}
	return mapErr(op, err)
}

// affected turns "no row changed" into ENotFound.
func affected(op, what string, tag pgconn.CommandTag, err error) error {
	if err != nil {
		return mapErr(op, err)
	}
	if tag.RowsAffected() == 0 {
		return notFound(what)
	}
	return nil
}

// list stores nil as an empty array (the columns are NOT NULL).
func list(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// unlist reads an empty array back as nil, as the SQLite store does.
func unlist(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}

// nullBytes stores an empty slice as NULL.
func nullBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
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
