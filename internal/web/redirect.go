package web

import (
	"net/url"
	"strings"

	"github.com/latchkey/latchkey/internal/redirect"
)

// MaxRedirectLength bounds a return_to before it is parsed.
const MaxRedirectLength = 2048

// Redirects decides where a browser may be sent after signing in: a path
// on latchkey itself, or a URL on the operator's allow-list (matched by
// internal/redirect, the one allow-list matcher latchkey has). Everything
// else is an open redirect waiting to happen and is refused.
type Redirects struct {
	allow *redirect.Allowlist
}

// NewRedirects parses the allow-list (--redirect-allowlist).
func NewRedirects(allowlist []string) (*Redirects, error) {
	allow, err := redirect.NewAllowlist(allowlist)
	if err != nil {
		return nil, err
	}
	return &Redirects{allow: allow}, nil
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
	if !strings.HasPrefix(target, "/") {
		if !r.allow.Allowed(target) {
			return "", false
		}
		return target, true
	}
	if strings.HasPrefix(target, "//") || strings.HasPrefix(decoded, "//") {
		return "", false
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	return target, true
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
