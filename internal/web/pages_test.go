package web

import "testing"

// The account page's form-action names the providers' origins, and only
// bare http(s) origins: nothing that could add a source or a directive.
func TestFormTargetsCSP(t *testing.T) {
	got := formTargetsCSP([]string{"https://accounts.google.com", "http://127.0.0.1:8080", "https://accounts.google.com",
		"https://evil.test; script-src *", "https://a.test/path", "javascript:alert(1)", "https://user@a.test", "*", "'unsafe-inline'", ""})
	want := "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' https://accounts.google.com http://127.0.0.1:8080; frame-ancestors 'none'; base-uri 'none'"
	if got != want {
		t.Errorf("CSP =\n%s\nwant\n%s", got, want)
	}
	if got := formTargetsCSP(nil); got != ContentSecurityPolicy {
		t.Errorf("no providers: %s", got)
	}
}
