package redirect

import (
	"strings"
	"testing"
)

func TestAllowed(t *testing.T) {
	a, err := NewAllowlist([]string{"https://app.example.com/app", "http://127.0.0.1:3000/", "https://Other.Example.com:8443/cb/"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		target string
		want   bool
	}{
		{"https://app.example.com/app", true},
		{"https://app.example.com/app/", true},
		{"https://app.example.com/app/home?x=1#frag", true},
		{"https://app.example.com:443/app/home", true},
		{"HTTPS://APP.EXAMPLE.COM/app/home", true},
		{"http://127.0.0.1:3000/", true},
		{"http://127.0.0.1:3000", true},
		{"http://127.0.0.1:3000/anything/below?code=x", true},
		{"https://other.example.com:8443/cb", true},
		{"https://other.example.com:8443/cb/x", true},

		{"https://app.example.com/application", false},
		{"https://app.example.com/ap", false},
		{"https://app.example.com/", false},
		{"https://app.example.com/App", false},
		{"http://app.example.com/app", false},
		{"https://app.example.com:8443/app", false},
		{"https://app.example.com.evil.test/app", false},
		{"https://evil.test/app", false},
		{"https://app.example.com@evil.test/app", false},
		{"https://user:pw@app.example.com/app", false},
		{"https://app.example.com\\@evil.test/app", false},
		{"https:\\\\evil.test/app", false},
		{"//app.example.com/app", false},
		{"/app", false},
		{"app", false},
		{"", false},
		{"javascript://app.example.com/app", false},
		{"javascript:alert(1)", false},
		{"data:text/html,x", false},
		{"ftp://app.example.com/app", false},
		{"https:app.example.com/app", false},
		{"https:/app.example.com/app", false},
		{"https:///app.example.com/app", false},
		{"https://app.example.com/app/../admin", false},
		{"https://app.example.com/app/%2e%2e/admin", false},
		{"https://app.example.com/app/%2E./admin", false},
		{"https://app.example.com/app%2f..%2fadmin", false},
		{"https://app.example.com/app/.", false},
		{"https://app.example.com/app\r\nLocation: https://evil.test", false},
		{"https://app.example.com/app\n", false},
		{"https://app.example.com/app\t", false},
		{"https://app.example.com/app x", false},
		{"https://app.example.com/app\x00", false},
		{"https://app.exam%70le.com/app", false},
		{"https://аpp.example.com/app", false}, // Cyrillic а
		{"https://app.example.com./app", false},
		{"https://app.example.com:/app", false},
		{"https://app.example.com:0443/app", true}, // same port number
		{"https://app.example.com:99999/app", false},
		{"https://app.example.com:44a/app", false},
		{"https://[::1]:3000/", false},
		{"http://127.0.0.1:3000/%00", false},
		{"https://app.example.com/app/" + strings.Repeat("a", MaxTargetLength), false},
	}
	for _, tt := range tests {
		if got := a.Allowed(tt.target); got != tt.want {
			t.Errorf("Allowed(%q) = %v, want %v", tt.target, got, tt.want)
		}
	}
}

func TestRootEntryAllowsTheWholeOrigin(t *testing.T) {
	a, err := NewAllowlist([]string{"https://app.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"https://app.example.com", "https://app.example.com/", "https://app.example.com/a/b?c"} {
		if !a.Allowed(target) {
			t.Errorf("Allowed(%q) = false", target)
		}
	}
	if a.Allowed("https://app.example.com.evil.test/") {
		t.Error("suffix host allowed")
	}
}

func TestEmptyAndNilAllowNothing(t *testing.T) {
	a, err := NewAllowlist(nil)
	if err != nil {
		t.Fatal(err)
	}
	var nilList *Allowlist
	for _, l := range []*Allowlist{a, nilList} {
		if l.Allowed("https://app.example.com/") {
			t.Error("empty allow-list allowed a target")
		}
	}
}

func TestNewAllowlistRefusesBadEntries(t *testing.T) {
	for _, e := range []string{"", "/app", "app.example.com", "ftp://x.test/", "https://u@x.test/", "https://x.test/?q=1",
		"https://x.test/#f", "https://x.test/a/../b", "https://x.test\\a", "javascript:alert(1)"} {
		if _, err := NewAllowlist([]string{e}); err == nil {
			t.Errorf("NewAllowlist(%q) accepted", e)
		}
	}
}

func TestSameOrigin(t *testing.T) {
	tests := []struct {
		target, base string
		want         bool
	}{
		{"http://127.0.0.1:8080/app", "http://127.0.0.1:8080", true},
		{"https://x.test/app", "https://x.test:443", true},
		{"https://X.test/app", "https://x.test", true},
		{"http://x.test/app", "https://x.test", false},
		{"https://x.test:8443/app", "https://x.test", false},
		{"https://y.test/app", "https://x.test", false},
		{"/app", "https://x.test", false},
	}
	for _, tt := range tests {
		if got := SameOrigin(tt.target, tt.base); got != tt.want {
			t.Errorf("SameOrigin(%q, %q) = %v", tt.target, tt.base, got)
		}
	}
}

// FuzzAllowed checks that whatever is allowed is a plain URL that a browser
// and Go agree on: it stays on an allowed origin, below an allowed path.
func FuzzAllowed(f *testing.F) {
	for _, s := range []string{"https://app.example.com/app/x", "https://app.example.com/app/../x", "https://app.example.com@evil/app",
		"https://app.example.com\\evil/app", "//evil/app", "https://app.example.com/app%2f..", "https://app.example.com:443/app?x#y"} {
		f.Add(s)
	}
	a, err := NewAllowlist([]string{"https://app.example.com/app"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, target string) {
		if !a.Allowed(target) {
			return
		}
		lower := strings.ToLower(target)
		if !strings.HasPrefix(lower, "https://app.example.com/app") && !strings.HasPrefix(lower, "https://app.example.com:443/app") &&
			!strings.HasPrefix(lower, "https://app.example.com:0") {
			t.Fatalf("allowed %q", target)
		}
		_, rest, _ := strings.Cut(target, "://")
		authority, path := rest, ""
		if i := strings.IndexAny(rest, "/?#"); i >= 0 {
			authority, path = rest[:i], rest[i:]
		}
		path, _, _ = strings.Cut(path, "#")
		path, _, _ = strings.Cut(path, "?")
		if strings.ContainsAny(authority, "@%") || strings.ContainsAny(target, "\\\r\n\t ") ||
			strings.Contains(path, "/../") || strings.HasSuffix(path, "/..") {
			t.Fatalf("allowed %q", target)
		}
	})
}
