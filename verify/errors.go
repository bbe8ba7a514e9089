package verify

import (
	"errors"
	"net/http"
)

// Error is a refusal: Code is latchkey's stable error code, Title the
// client-safe message, Status the HTTP status the middleware answers with.
// Errors returned by Authenticate wrap one of the Err* values below with
// operator detail that is never sent to the client.
type Error struct {
	Status int
	Code   string
	Title  string
}

func (e *Error) Error() string { return e.Code + ": " + e.Title }

// The refusals Authenticate can return (test with errors.Is).
var (
	// ErrNoCredentials: the request carried neither a bearer token nor an API key.
	ErrNoCredentials = &Error{http.StatusUnauthorized, "token_required", "Authentication required"}
	// ErrInvalidToken: the access token is malformed, forged, or fails a claim check.
	ErrInvalidToken = &Error{http.StatusUnauthorized, "invalid_token", "Invalid access token"}
	// ErrTokenExpired: a genuine access token whose only fault is that it expired.
	ErrTokenExpired = &Error{http.StatusUnauthorized, "token_expired", "Access token expired"}
	// ErrInvalidAPIKey: the API key is malformed, unknown, revoked or expired,
	// or API keys cannot be checked because no introspection key is configured.
	ErrInvalidAPIKey = &Error{http.StatusUnauthorized, "invalid_api_key", "Invalid API key"}
	// ErrInvalidRequest: the credentials were sent in an ambiguous way
	// (several Authorization headers, or both a bearer token and an API key).
	ErrInvalidRequest = &Error{http.StatusBadRequest, "invalid_request", "Invalid authentication request"}
	// ErrForbidden: authenticated, but the role or scope a route needs is missing.
	ErrForbidden = &Error{http.StatusForbidden, "forbidden", "Forbidden"}
	// ErrInsufficientAuthentication: authenticated, but the session did not
	// reach the assurance level a route needs (RequireAAL2): the user must
	// prove a second factor to latchkey first.
	ErrInsufficientAuthentication = &Error{http.StatusForbidden, "insufficient_authentication", "Insufficient authentication"}
	// ErrUnavailable: the issuer could not be reached to check the credentials.
	// The request is refused (fail closed), with 503.
	ErrUnavailable = &Error{http.StatusServiceUnavailable, "unavailable", "Authentication service unavailable"}
)

// refusal wraps a sentinel with operator detail.
type refusal struct {
	kind   *Error
	detail string
	err    error
}

func (r *refusal) Error() string {
	s := r.kind.Code + ": " + r.detail
	if r.err != nil {
		s += ": " + r.err.Error()
	}
	return s
}

func (r *refusal) Unwrap() []error {
	if r.err != nil {
		return []error{r.kind, r.err}
	}
	return []error{r.kind}
}

func refuse(kind *Error, detail string, err error) error {
	return &refusal{kind: kind, detail: detail, err: err}
}

// kindOf returns the *Error an error returned by this package stands for;
// anything unknown counts as an invalid token (fail closed).
func kindOf(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return ErrInvalidToken
}
