package server

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/jsonx"
)

// MaxBodyBytes is the largest request body latchkey reads; a larger one is
// refused with 413.
const MaxBodyBytes = 1 << 20

// validator is implemented by request types that check themselves.
type validator interface{ Validate() error }

// decode reads a JSON request body strictly: Content-Type must be JSON
// (415), the body at most MaxBodyBytes (413), and the document one object
// with no unknown, duplicate or case-variant fields (400).
func decode[T any](w http.ResponseWriter, r *http.Request) (T, error) {
	var v T
	if err := requireJSON(r); err != nil {
		return v, err
	}
	data, err := readBody(w, r)
	if err != nil {
		return v, err
	}
	if err := jsonx.Decode(data, &v); err != nil {
		return v, err
	}
	if val, ok := any(&v).(validator); ok {
		if err := val.Validate(); err != nil {
			return v, err
		}
	}
	return v, nil
}

func requireJSON(r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return latchkey.Errorf(latchkey.EUnsupportedMediaType, "The request body must be JSON (Content-Type: application/json).")
	}
	return nil
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, latchkey.Errorf(latchkey.EPayloadTooLarge, "The request body is larger than %d bytes.", MaxBodyBytes)
	}
	if err != nil {
		return nil, latchkey.WrapError(latchkey.EInvalidRequest, "The request body could not be read.", err)
	}
	return data, nil
}

// writeJSON answers v as JSON. Content-Type is set before WriteHeader.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"type":"about:blank","title":"Internal Server Error","status":500,"code":"internal"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// noStore marks a response that carries a token, key or personal data.
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}
