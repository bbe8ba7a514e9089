package server

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/jwtcheck"
)

// problemStatus maps every error code to its one HTTP status. This is the
// only place that decides it.
var problemStatus = map[string]int{
	latchkey.EInvalidRequest:             http.StatusBadRequest,
	latchkey.EInvalidGrant:               http.StatusBadRequest,
	latchkey.EInvalidCredentials:         http.StatusUnauthorized,
	latchkey.ETokenRequired:              http.StatusUnauthorized,
	latchkey.ETokenExpired:               http.StatusUnauthorized,
	latchkey.EInvalidToken:               http.StatusUnauthorized,
	latchkey.EInvalidAPIKey:              http.StatusUnauthorized,
	latchkey.EForbidden:                  http.StatusForbidden,
	latchkey.EReauthenticationRequired:   http.StatusForbidden,
	latchkey.EEmailNotVerified:           http.StatusForbidden,
	latchkey.EInsufficientAuthentication: http.StatusForbidden,
	latchkey.ENotFound:                   http.StatusNotFound,
	latchkey.EMethodNotAllowed:           http.StatusMethodNotAllowed,
	latchkey.EConflict:                   http.StatusConflict,
	latchkey.EPayloadTooLarge:            http.StatusRequestEntityTooLarge,
	latchkey.EUnsupportedMediaType:       http.StatusUnsupportedMediaType,
	latchkey.EWeakPassword:               http.StatusUnprocessableEntity,
	latchkey.ERateLimited:                http.StatusTooManyRequests,
	latchkey.EInternal:                   http.StatusInternalServerError,
	latchkey.EUnavailable:                http.StatusServiceUnavailable,
}

// classify gives err's code and status. The whole error, with its
// operator-only detail, goes to the log: at error level for 5xx.
func (s *Server) classify(r *http.Request, err error) (string, int) {
	code := latchkey.ErrorCode(err)
	status, ok := problemStatus[code]
	if !ok {
		code, status = latchkey.EInternal, http.StatusInternalServerError
	}
	var wrongIssuer *jwtcheck.IssuerError
	switch {
	case status >= 500:
		s.log.ErrorContext(r.Context(), "request failed", "code", code, "err", err)
	case errors.As(err, &wrongIssuer):
		// A correctly signed token for another issuer name is almost always
		// a configuration mistake (localhost vs 127.0.0.1): say so plainly.
		s.log.WarnContext(r.Context(), "token refused: issuer mismatch", "expected_issuer", wrongIssuer.Expected,
			"received_issuer", wrongIssuer.Received)
	default:
		s.log.DebugContext(r.Context(), "request refused", "code", code, "err", err)
	}
	return code, status
}

// Problem is an RFC 9457 problem document with latchkey's stable code.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail,omitempty"`
}

// writeProblem answers err as a problem document. Clients see only the
// code's safe message; operators get the whole error in the log for 5xx.
func (s *Server) writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	code, status := s.classify(r, err)
	switch code {
	case latchkey.ETokenRequired:
		w.Header().Set("WWW-Authenticate", `Bearer realm="latchkey"`)
	case latchkey.EInvalidToken, latchkey.ETokenExpired, latchkey.EInvalidAPIKey:
		w.Header().Set("WWW-Authenticate", `Bearer realm="latchkey", error="invalid_token"`)
	case latchkey.EUnavailable:
		w.Header().Set("Retry-After", "1")
	}
	p := Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Code: code, Detail: latchkey.ErrorMessage(err)}
	if code == latchkey.EInvalidCredentials {
		p.Title = "Invalid credentials"
	}
	body, _ := json.Marshal(p)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if _, err := w.Write(body); err != nil {
		s.log.DebugContext(r.Context(), "writing problem", slog.Any("err", err))
	}
}
