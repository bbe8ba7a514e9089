package server

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzDecodeIntrospection feeds untrusted introspection bodies to the
// decoder: it must never panic, and a request it accepts has a token.
func FuzzDecodeIntrospection(f *testing.F) {
	for _, seed := range []struct{ ct, body string }{
		{"application/x-www-form-urlencoded", "token=abc&token_type_hint=access_token"},
		{"application/x-www-form-urlencoded", "token=a&token=b"},
		{"application/x-www-form-urlencoded", "%zz"},
		{"application/json", `{"token":"abc"}`},
		{"application/json", `{"token":"a","Token":"b"}`},
		{"text/plain", "token=a"},
	} {
		f.Add(seed.ct, seed.body)
	}
	f.Fuzz(func(t *testing.T, ct, body string) {
		r := httptest.NewRequest("POST", "/v1/introspect", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		req, err := decodeIntrospection(httptest.NewRecorder(), r)
		if err == nil && req.Token == "" {
			t.Fatalf("accepted a request without a token: %q %q", ct, body)
		}
	})
}
