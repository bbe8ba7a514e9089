// Package redirect decides where latchkey may send a browser after a
// login: only to URLs the operator listed. It is deliberately strict, since
// an open redirect on an authentication server hands users (and one-time
// codes) to whoever crafts the link.
package redirect

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// MaxTargetLength bounds a redirect target before any parsing.
const MaxTargetLength = 2048

// Allowlist is a set of allowed redirect prefixes. A target is allowed when
// its scheme, host and port equal an entry's and its path is the entry's
// path or lies below it (whole path segments: /app allows /app and /app/x,
// never /application). Query strings and fragments may differ.
type Allowlist struct {
	entries []origin
}

// origin is a parsed, normalised URL: what a target is compared with.
type origin struct {
	scheme, host, port string
	path               string // decoded, without a trailing slash ("" for the root)
}

// NewAllowlist parses the entries (absolute http(s) URLs without user
// information, query or fragment). An empty list allows nothing.
func NewAllowlist(entries []string) (*Allowlist, error) {
	a := &Allowlist{}
	for _, e := range entries {
		o, err := parse(e)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", e, err)
		}
		if strings.Contains(e, "?") || strings.Contains(e, "#") {
			return nil, fmt.Errorf("%q: an allow-list entry has no query or fragment", e)
		}
		a.entries = append(a.entries, o)
	}
	return a, nil
}

// Allowed reports whether target may be redirected to.
func (a *Allowlist) Allowed(target string) bool {
	if a == nil {
		return false
	}
	t, err := parse(target)
	if err != nil {
		return false
	}
	for _, e := range a.entries {
		if t.scheme == e.scheme && t.host == e.host && t.port == e.port && underPath(t.path, e.path) {
			return true
		}
	}
	return false
}

// SameOrigin reports whether target and base are both valid redirect URLs
// with the same scheme, host and port.
func SameOrigin(target, base string) bool {
	t, err1 := parse(target)
	b, err2 := parse(base)
	return err1 == nil && err2 == nil && t.scheme == b.scheme && t.host == b.host && t.port == b.port
}

func underPath(target, prefix string) bool {
	return target == prefix || strings.HasPrefix(target, prefix+"/")
}

// parse accepts only an absolute http(s) URL written plainly: printable
// ASCII, no backslash, no user information, an ASCII host without
// percent-encoding, a numeric port, and a path without dot segments or
// encoded slashes. Anything a browser might read differently from Go's
// parser is refused rather than interpreted.
func parse(raw string) (origin, error) {
	if raw == "" || len(raw) > MaxTargetLength {
		return origin{}, errors.New("empty or too long")
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c <= 0x20 || c >= 0x7f || c == '\\' {
			return origin{}, errors.New("control, space, backslash or non-ASCII character")
		}
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return origin{}, errors.New("not an absolute URL")
	}
	scheme = strings.ToLower(scheme)
	if scheme != "http" && scheme != "https" {
		return origin{}, errors.New("scheme must be http or https")
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	if authority == "" || strings.ContainsAny(authority, "@%") {
		return origin{}, errors.New("missing host, user information or encoded host")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil || u.Host != authority {
		return origin{}, errors.New("malformed URL")
	}
	host := strings.ToLower(u.Hostname())
	if host == "" || strings.HasSuffix(host, ".") {
		return origin{}, errors.New("bad host")
	}
	port := u.Port()
	if strings.HasSuffix(u.Host, ":") {
		return origin{}, errors.New("empty port")
	}
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	} else if n, err := parsePort(port); err != nil {
		return origin{}, err
	} else {
		port = n
	}
	if err := checkPath(u); err != nil {
		return origin{}, err
	}
	return origin{scheme: scheme, host: host, port: port, path: strings.TrimSuffix(u.Path, "/")}, nil
}

func parsePort(p string) (string, error) {
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return "", errors.New("bad port")
		}
		n = n*10 + int(c-'0')
		if n > 65535 {
			return "", errors.New("bad port")
		}
	}
	if n == 0 {
		return "", errors.New("bad port")
	}
	return fmt.Sprint(n), nil
}

// checkPath refuses dot segments (plain or percent-encoded) and encoded
// slashes or backslashes, which would let /app/../admin or /app%2f..%2fx
// pass a prefix check and land elsewhere.
func checkPath(u *url.URL) error {
	lower := strings.ToLower(u.EscapedPath())
	if strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") || strings.Contains(lower, "%00") {
		return errors.New("encoded slash, backslash or NUL in path")
	}
	for seg := range strings.SplitSeq(u.Path, "/") {
		if seg == "." || seg == ".." {
			return errors.New("dot segment in path")
		}
	}
	for seg := range strings.SplitSeq(lower, "/") {
		if s := strings.ReplaceAll(seg, "%2e", "."); s == "." || s == ".." {
			return errors.New("dot segment in path")
		}
	}
	return nil
}
