package server

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzBearerToken feeds arbitrary Authorization headers to the parser: it
// must never panic, and what it accepts must be a single bounded token
// that the header really carried after "Bearer ".
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"", "Bearer abc.def.ghi", "bearer x", "BEARER  x", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz",
		"Bearer a b", "Bearer a\tb", "Bearer ....", "Bearer " + strings.Repeat("a", MaxAuthorizationLength), "Token x", "Bearer\x00x"} {
		f.Add(s, "")
	}
	f.Add("Bearer a", "Bearer b")
	f.Fuzz(func(t *testing.T, first, second string) {
		r, _ := http.NewRequest("GET", "http://127.0.0.1/v1/me", nil)
		if first != "" {
			r.Header["Authorization"] = []string{first}
		}
		if second != "" {
			r.Header["Authorization"] = append(r.Header["Authorization"], second)
		}
		tok, err := bearerToken(r)
		if err != nil {
			if tok != "" {
				t.Fatalf("error %v with token %q", err, tok)
			}
			return
		}
		sent := r.Header.Values("Authorization")
		if len(sent) != 1 {
			t.Fatalf("accepted %q from %d Authorization headers", tok, len(sent))
		}
		h := sent[0]
		if tok == "" || strings.ContainsAny(tok, " \t") || len(h) > MaxAuthorizationLength {
			t.Fatalf("accepted token %q from %q", tok, h)
		}
		if !strings.EqualFold(h[:7], "Bearer ") || h[7:] != tok {
			t.Fatalf("token %q is not what %q carried", tok, h)
		}
	})
}
