package web

import (
	"fmt"
	"net/url"
	"strings"
)

// MaxRedirectLength bounds a return_to before it is parsed.
const MaxRedirectLength = 2048

// Redirects decides where a browser may be sent after signing in: a path
// on latchkey itself, or a URL on the operator's allow-list. Everything
// else is an open redirect waiting to happen and is refused.
type Redirects struct {
	allow []*url.URL
}

// NewRedirects parses the allow-list (--redirect-allowlist): each entry is
// an absolute http(s) URL; a target matches when its scheme, host and port
// equal the entry's and its path lies under the entry's path.
func NewRedirects(allowlist []string) (*Redirects, error) {
	r := &Redirects{}
	for _, raw := range allowlist {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return nil, fmt.Errorf("redirect allow-list entry %q is not an absolute http(s) URL", raw)
		}
		u.Host = strings.ToLower(u.Host)
		if u.Path == "" {
			u.Path = "/"
		}
		r.allow = append(r.allow, u)
	}
	return r, nil
}

// Safe returns target if a browser may be redirected to it, and false
// otherwise (the caller then uses its own default).
func (r *Redirects) Safe(target string) (string, bool) {
	if target == "" || len(target) > MaxRedirectLength || hasUnsafeBytes(target) {
		return "", false
	}
	// The decoded form must be as clean as the raw one: a browser or a
	// proxy further on may decode %0d%0a, %5c or %2f%2f.
	decoded, err := url.PathUnescape(target)
	if err != nil || hasUnsafeBytes(decoded) {
		return "", false
	}
	if strings.HasPrefix(target, "/") {
		if strings.HasPrefix(target, "//") || strings.HasPrefix(decoded, "//") {
			return "", false
		}
		u, err := url.Parse(target)
		if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
			return "", false
		}
		return target, true
	}
	u, err := url.Parse(target)
	if err != nil || u.User != nil || u.Opaque != "" || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", false
	}
	if dotSegments(u.EscapedPath()) {
		return "", false
	}
	for _, a := range r.allow {
		if a.Scheme == u.Scheme && sameHostPort(a, u) && underPath(a.Path, u.Path) {
			return target, true
		}
	}
	return "", false
}

// hasUnsafeBytes reports control characters, spaces, backslashes (which
// browsers read as slashes) and anything outside printable ASCII.
func hasUnsafeBytes(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == '\\' || c >= 0x7f {
			return true
		}
	}
	return false
}

func sameHostPort(a, u *url.URL) bool {
	return strings.EqualFold(a.Hostname(), u.Hostname()) && effectivePort(a) == effectivePort(u)
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// underPath reports whether p is prefix itself or lies below it, on a
// segment boundary: /app allows /app and /app/x, not /application.
func underPath(prefix, p string) bool {
	if p == "" {
		p = "/"
	}
	if p == prefix || strings.HasSuffix(prefix, "/") && strings.HasPrefix(p, prefix) {
		return true
	}
	return strings.HasPrefix(p, prefix+"/")
}

// dotSegments reports a "." or ".." path segment, raw or percent-encoded,
// which would climb out of an allowed path once resolved.
func dotSegments(escaped string) bool {
	for _, seg := range strings.Split(escaped, "/") {
		s := strings.ToLower(strings.ReplaceAll(seg, "%2e", "."))
		if s == "." || s == ".." {
			return true
		}
	}
	return strings.Contains(strings.ToLower(escaped), "%2f")
}
