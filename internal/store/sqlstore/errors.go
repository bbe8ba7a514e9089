package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/latchkey/latchkey"
)

// Class is what a driver's error means to latchkey.
type Class int

const (
	// Other is any failure that is not one of the below: an operator-only
	// error.
	Other Class = iota
	// Duplicate is a unique or primary-key violation: EConflict.
	Duplicate
	// MissingRef is a foreign-key violation: the record a new one refers to
	// does not exist (ENotFound).
	MissingRef
	// Unavailable is a failure to reach the database, or of the database
	// to answer now: EUnavailable.
	Unavailable
)

const unavailable = "The database is unavailable."

// ErrMissing is wrapped by the error of a new record that lacks a value
// its caller must set: the stores make no IDs and fill in no defaults.
var ErrMissing = errors.New("a value the caller must set is missing")

// Errors maps the errors of one store's driver to latchkey's codes.
type Errors struct {
	// Backend names the store in operator-only messages ("sqlite").
	Backend string
	// NoRows is the driver's error for a single-row read that found none.
	NoRows error
	// Classify is the driver-specific part: which of its errors are which.
	Classify func(error) Class
}

// Map turns a driver error of operation op into latchkey's codes:
// constraint violations into EConflict / ENotFound, failures to reach the
// database into EUnavailable, and anything else into a wrapped
// operator-only error. A *latchkey.Error passes unchanged; nil is nil.
func (e Errors) Map(op string, err error) error {
	if err == nil {
		return nil
	}
	var le *latchkey.Error
	if errors.As(err, &le) {
		return err
	}
	switch e.Classify(err) {
	case Duplicate:
		return &latchkey.Error{Code: latchkey.EConflict, Message: "It already exists.", Err: err}
	case MissingRef:
		return &latchkey.Error{Code: latchkey.ENotFound, Message: "The record it refers to does not exist.", Err: err}
	case Unavailable:
		return latchkey.WrapError(latchkey.EUnavailable, unavailable, e.wrap(op, err))
	}
	return e.wrap(op, err)
}

func (e Errors) wrap(op string, err error) error {
	return fmt.Errorf("%s: %s: %w", e.Backend, op, err)
}

// Row maps the error of a single-row read: no row means ENotFound for
// what ("User").
func (e Errors) Row(op, what string, err error) error {
	if errors.Is(err, e.NoRows) {
		return NotFound(what)
	}
	return e.Map(op, err)
}

// NeedID refuses a new record of operation op ("create user") that has no
// ID. The error is operator-only (a caller's bug).
func (e Errors) NeedID(op, id string) error {
	if id == "" {
		return e.wrap(op, fmt.Errorf("%w: ID", ErrMissing))
	}
	return nil
}

// NewSession refuses a session without an ID or an AuthTime.
func (e Errors) NewSession(s *latchkey.Session) error {
	if s.AuthTime.IsZero() {
		return e.wrap("create session", fmt.Errorf("%w: AuthTime", ErrMissing))
	}
	return e.NeedID("create session", s.ID)
}

// NotFound is the error of an unknown what ("Session").
func NotFound(what string) error {
	return latchkey.Errorf(latchkey.ENotFound, "%s not found.", what)
}

// Changed turns "no row changed" (n == 0) into NotFound(what).
func Changed(what string, n int64) error {
	if n == 0 {
		return NotFound(what)
	}
	return nil
}

// Unreachable reports the failures that mean the database cannot be used
// whatever its driver: a done context, a closed connection or pool.
func Unreachable(err error) bool {
	return errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Canceled) ||
		// database/sql does not export its "database is closed" error.
		strings.Contains(err.Error(), "sql: database is closed")
}
