package postgres

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"

	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

var errs = sqlstore.Errors{Backend: "postgres", NoRows: pgx.ErrNoRows, Classify: classify}

// classify tells PostgreSQL's constraint violations (by SQLSTATE) and the
// failures of the connection rather than the query.
func classify(err error) sqlstore.Class {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505": // unique_violation
			return sqlstore.Duplicate
		case pe.Code == "23503": // foreign_key_violation
			return sqlstore.MissingRef
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "53"),       // insufficient resources (too many connections, …)
			strings.HasPrefix(pe.Code, "57P"),      // shutting down, cannot connect now
			pe.Code == "57014",                     // query_canceled (statement timeout)
			pe.Code == "40001", pe.Code == "40P01": // serialization failure, deadlock: retry later
			return sqlstore.Unavailable
		}
		return sqlstore.Other
	}
	if isUnavailable(err) {
		return sqlstore.Unavailable
	}
	return sqlstore.Other
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
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) ||
		sqlstore.Unreachable(err)
}

func mapErr(op string, err error) error { return errs.Map(op, err) }

// rowErr maps the error of a single-row read: no row means ENotFound.
func rowErr(op, what string, err error) error { return errs.Row(op, what, err) }

// affected turns "no row changed" into ENotFound.
func affected(op, what string, tag pgconn.CommandTag, err error) error {
	if err != nil {
		return mapErr(op, err)
	}
	return sqlstore.Changed(what, tag.RowsAffected())
}
