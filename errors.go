package latchkey

import (
	"errors"
	"fmt"
)

// Error codes are the stable, machine-readable part of every error a client
// sees. The HTTP layer maps each to one status code (internal/server/problem.go).
const (
	EInvalidRequest     = "invalid_request"
	EInvalidCredentials = "invalid_credentials"
	ETokenRequired      = "token_required"
	ETokenExpired       = "token_expired"
	EInvalidToken       = "invalid_token"
	EInvalidGrant       = "invalid_grant"
	EInvalidAPIKey      = "invalid_api_key"
	EForbidden          = "forbidden"
	// EReauthenticationRequired: the operation needs a sign-in more recent
	// than --reauth-window (POST /v1/auth/reauthenticate renews it).
	EReauthenticationRequired = "reauthentication_required"
	// EEmailNotVerified: with --email-verification required, an account
	// signs in only once its address is proven.
	EEmailNotVerified = "email_not_verified"
	// EInsufficientAuthentication: the session did not prove enough
	// factors for this (acr below what is required): prove a second
	// factor (POST /v1/auth/mfa/verify with the session's token) and retry.
	EInsufficientAuthentication = "insufficient_authentication"
	ENotFound                   = "not_found"
	EMethodNotAllowed           = "method_not_allowed"
	EConflict                   = "conflict"
	EPayloadTooLarge            = "payload_too_large"
	EUnsupportedMediaType       = "unsupported_media_type"
	EWeakPassword               = "weak_password"
	ERateLimited                = "rate_limited"
	EInternal                   = "internal"
	EUnavailable                = "unavailable"
)

// Error is latchkey's one error type. Message is safe to show a client;
// Err carries the operator-only detail (wrapped, never sent over the wire).
type Error struct {
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a client-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns an *Error whose client-safe message is msg and whose
// operator detail is err.
func WrapError(code, msg string, err error) *Error {
	return &Error{Code: code, Message: msg, Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, or
// EInternal for anything else: an unknown error is never shown to a client.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the client-safe message of err, or a generic one.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Code != EInternal {
		return e.Message
	}
	return "An internal error occurred."
}

// IsCode reports whether err carries the given code.
func IsCode(err error, code string) bool { return ErrorCode(err) == code }
