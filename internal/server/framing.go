package server

import (
	"net/http"

	"github.com/latchkey/latchkey"
)

// strictFraming refuses request bodies sent with Transfer-Encoding
// (chunked) before any handler runs. Every latchkey body is small JSON whose
// length the client knows. Go's server silently prefers Transfer-Encoding
// when a request also carries Content-Length and drops the latter, so this
// is the only point where that pair — the shape of request smuggling, read
// one way by a proxy and another way here — can still be refused (IN-12).
// Conflicting Content-Length values are refused by net/http itself.
func (s *Server) strictFraming(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TransferEncoding) > 0 {
			w.Header().Set("Connection", "close")
			s.writeProblem(w, r, latchkey.Errorf(latchkey.EInvalidRequest,
				"Send the request body with a Content-Length; Transfer-Encoding is not accepted."))
			return
		}
		if r.ContentLength > MaxBodyBytes {
			// Refuse before reading a byte of a body declared too large.
			w.Header().Set("Connection", "close")
			s.writeProblem(w, r, latchkey.Errorf(latchkey.EPayloadTooLarge, "The request body is larger than %d bytes.", MaxBodyBytes))
			return
		}
		next.ServeHTTP(w, r)
	})
}
