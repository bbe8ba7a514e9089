package web

import (
	"net/url"
	"strings"
	"testing"
)

var testAllowlist = []string{"https://app.example.com/dashboard", "http://localhost:3000/", "https://docs.example.com"}

func TestSafeRedirect(t *testing.T) {
	r, err := NewRedirects(testAllowlist)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		target string
		ok     bool
	}{
		// Same-origin paths.
		{"/account", true},
		{"/account?tab=keys#top", true},
		{"/", true},
		{"/a/b/../c", true},
		// On the allow-list.
		{"https://app.example.com/dashboard", true},
		{"https://app.example.com/dashboard/x?y=1", true},
		{"https://APP.example.com/dashboard", true},
		{"https://app.example.com:443/dashboard", true},
		{"http://localhost:3000/anything", true},
		{"https://docs.example.com", true},
		{"https://docs.example.com/guide", true},
		// Open-redirect tricks.
		{"", false},
		{"//evil.test", false},
		{"//evil.test/account", false},
		{"///evil.test", false},
		{"/\\evil.test", false},
		{"\\\\evil.test", false},
		{"\\/evil.test", false},
		{"/%2f%2fevil.test", false},
		{"/%2F/evil.test", false},
		{"/%5cevil.test", false},
		{"/%5Cevil.test", false},
		{"javascript:alert(1)", false},
		{"JavaScript:alert(1)", false},
		{"javascript://%0aalert(1)", false},
		{"data:text/html,<script>alert(1)</script>", false},
		{"vbscript:x", false},
		{"https://evil.test/", false},
		{"http://evil.test", false},
		{"evil.test", false},
		{"https:evil.test", false},
		{"https:/evil.test", false},
		{"https://app.example.com.evil.test/dashboard", false},
		{"https://app.example.com@evil.test/dashboard", false},
		{"https://evil.test@app.example.com/dashboard", false},
		{"https://user:pw@app.example.com/dashboard", false},
		{"https://app.example.com/dashboardx", false},
		{"https://app.example.com/other", false},
		{"https://app.example.com/dashboard/../admin", false},
		{"https://app.example.com/dashboard/%2e%2e/admin", false},
		{"https://app.example.com/dashboard%2f..%2fadmin", false},
		{"http://app.example.com/dashboard", false},
		{"https://app.example.com:8443/dashboard", false},
		{"http://localhost:3001/", false},
		{"http://localhost/", false},
		{"ftp://app.example.com/dashboard", false},
		{"/account%0d%0aSet-Cookie:x=y", false},
		{"/account\r\nSet-Cookie: x=y", false},
		{"/account%0aLocation:%20//evil.test", false},
		{"/acc\tount", false},
		{"/acc ount", false},
		{"/acc\x00ount", false},
		{"/\x7f", false},
		{"/caf\u00e9", false},
		{"\x01/account", false},
		{" /account", false},
		{"/%zz", false},
		{"https://app.example.com\\@evil.test/dashboard", false},
		{"/" + strings.Repeat("a", MaxRedirectLength), false},
	}
	for _, tt := range tests {
		got, ok := r.Safe(tt.target)
		if ok != tt.ok || (ok && got != tt.target) {
			t.Errorf("Safe(%q) = %q, %v; want ok=%v", tt.target, got, ok, tt.ok)
		}
	}
}

func TestNewRedirectsRejects(t *testing.T) {
	for _, bad := range []string{"app.example.com", "javascript:x", "https://u@app.example.com/", "ftp://x/", "/path"} {
		if _, err := NewRedirects([]string{bad}); err == nil {
			t.Errorf("NewRedirects(%q) accepted", bad)
		}
	}
}

// FuzzSafeRedirect checks the invariants of every accepted target: it is
// returned unchanged, has no byte a browser could reinterpret, and is
// either a path on latchkey or a URL under an allow-listed origin.
func FuzzSafeRedirect(f *testing.F) {
	for _, s := range []string{"/account", "//evil", "/\\evil", "https://app.example.com/dashboard/x",
		"https://app.example.com@evil.test/", "/%2f%2fevil", "javascript:alert(1)", "/a%0d%0ab", "http://localhost:3000/"} {
		f.Add(s)
	}
	r, err := NewRedirects(testAllowlist)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, target string) {
		got, ok := r.Safe(target)
		if !ok {
			return
		}
		if got != target || hasUnsafeBytes(got) {
			t.Fatalf("accepted %q as %q", target, got)
		}
		u, err := url.Parse(got)
		if err != nil || u.User != nil {
			t.Fatalf("accepted %q: %v", got, err)
		}
		if strings.HasPrefix(got, "/") {
			if u.Host != "" || strings.HasPrefix(got, "//") {
				t.Fatalf("accepted a path that leaves latchkey: %q", got)
			}
			if d, _ := url.PathUnescape(got); strings.HasPrefix(d, "//") {
				t.Fatalf("accepted %q which decodes to %q", got, d)
			}
			return
		}
		for _, entry := range testAllowlist {
			a, _ := url.Parse(entry)
			if a.Scheme == u.Scheme && strings.EqualFold(a.Hostname(), u.Hostname()) {
				return
			}
		}
		t.Fatalf("accepted %q, which is on no allowed origin", got)
	})
}
