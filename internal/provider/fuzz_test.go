package provider

import (
	"strings"
	"testing"
)

// FuzzUntrustedInput: what reads a client's or a user's input before
// anything is verified never panics, and answers only what it may.
func FuzzUntrustedInput(f *testing.F) {
	for _, s := range []string{"", "a.b.c", "eyJhbGciOiJFUzI1NiJ9.eyJjbGllbnRfaWQiOiJ4In0.sig", "https://app.example/cb",
		"http://127.0.0.1:9/cb", "com.example.app:/cb", "javascript:alert(1)", "BCDF-GHJK", " bcdf ghjk "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if IsClientToken(s) && strings.Count(s, ".") != 2 {
			t.Fatalf("IsClientToken(%q) without three segments", s)
		}
		if c, ok := unverifiedIDTokenClient(s); ok && c == "" {
			t.Fatalf("an empty client from %q", s)
		}
		if err := validateURI(s); err == nil && (strings.ContainsAny(s, "# \n\r\t") || strings.HasPrefix(strings.ToLower(s), "javascript:")) {
			t.Fatalf("validateURI accepted %q", s)
		}
		if n := NormalizeUserCode(s); strings.ContainsAny(n, "- ") {
			t.Fatalf("NormalizeUserCode(%q) = %q", s, n)
		}
		_ = validResourceID(s)
	})
}
