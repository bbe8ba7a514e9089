package clientip

import (
	"errors"
	"net/netip"
	"strings"
)

// maxHops bounds the work done on a forwarding chain; a longer chain than
// this is not produced by any sane proxy setup.
const maxHops = 64

// splitXFF splits X-Forwarded-For field lines into trimmed entries, in order.
// Empty entries are kept so that "1.2.3.4,,5.6.7.8" counts as malformed when
// the walk reaches the gap.
func splitXFF(lines []string) []string {
	var out []string
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ",") {
			out = append(out, strings.TrimSpace(part))
		}
	}
	if len(out) > maxHops {
		out = out[len(out)-maxHops:]
	}
	return out
}

// parseHost parses an address as it appears in RemoteAddr, X-Forwarded-For
// or a Forwarded for= value: "1.2.3.4", "1.2.3.4:80", "::1", "[::1]",
// "[::1]:80". Zones are dropped and IPv4-mapped IPv6 is unmapped.
func parseHost(s string) (netip.Addr, bool) {
	if s == "" {
		return netip.Addr{}, false
	}
	var a netip.Addr
	var err error
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		rest := s[end+1:]
		if rest != "" && !validPort(rest) {
			return netip.Addr{}, false
		}
		a, err = netip.ParseAddr(s[1:end])
		if err == nil && !a.Is6() {
			return netip.Addr{}, false
		}
	case strings.Count(s, ":") == 1:
		host, port, _ := strings.Cut(s, ":")
		if !validPort(":" + port) {
			return netip.Addr{}, false
		}
		a, err = netip.ParseAddr(host)
		if err == nil && !a.Is4() {
			return netip.Addr{}, false
		}
	default:
		a, err = netip.ParseAddr(s)
	}
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

func validPort(s string) bool {
	if len(s) < 2 || len(s) > 6 || s[0] != ':' {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ForwardedElement is one hop of an RFC 7239 Forwarded header. For and Proto
// hold the raw (unquoted) values; For may be "unknown" or an obfuscated
// identifier such as "_hidden", which are not addresses.
type ForwardedElement struct {
	For   string
	Proto string
}

// ErrMalformed reports a Forwarded header that does not follow RFC 7239.
var ErrMalformed = errors.New("malformed Forwarded header")

// ParseForwarded parses the value of a Forwarded header (all field lines
// joined with commas) into its elements, left to right. Parameters other than
// for and proto are checked for syntax and ignored.
func ParseForwarded(v string) ([]ForwardedElement, error) {
	var out []ForwardedElement
	p := fwdParser{s: v}
	for {
		p.skipSpace()
		if p.done() {
			break
		}
		e, err := p.element()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		if len(out) > maxHops {
			return nil, ErrMalformed
		}
		p.skipSpace()
		if p.done() {
			break
		}
		if !p.eat(',') {
			return nil, ErrMalformed
		}
	}
	return out, nil
}

type fwdParser struct {
	s string
	i int
}

func (p *fwdParser) done() bool { return p.i >= len(p.s) }

func (p *fwdParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *fwdParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// element parses forwarded-pair *( ";" forwarded-pair ). An empty element
// (",,") is allowed by the list syntax and yields an element with no values.
func (p *fwdParser) element() (ForwardedElement, error) {
	var e ForwardedElement
	seen := map[string]bool{}
	for {
		p.skipSpace()
		if p.done() || p.s[p.i] == ',' {
			return e, nil
		}
		name := strings.ToLower(p.token())
		if name == "" || !p.eat('=') {
			return e, ErrMalformed
		}
		val, err := p.value()
		if err != nil {
			return e, err
		}
		if seen[name] {
			// RFC 7239 §4: each parameter at most once per element.
			return e, ErrMalformed
		}
		seen[name] = true
		switch name {
		case "for":
			e.For = val
		case "proto":
			e.Proto = val
		}
		p.skipSpace()
		if !p.eat(';') {
			return e, nil
		}
	}
}

func (p *fwdParser) token() string {
	start := p.i
	for p.i < len(p.s) && isTchar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

func (p *fwdParser) value() (string, error) {
	if !p.eat('"') {
		v := p.token()
		if v == "" {
			return "", ErrMalformed
		}
		return v, nil
	}
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '"':
			return b.String(), nil
		case c == '\\':
			if p.i >= len(p.s) {
				return "", ErrMalformed
			}
			b.WriteByte(p.s[p.i])
			p.i++
		case c == '\t' || (c >= 0x20 && c != 0x7f):
			b.WriteByte(c)
		default:
			return "", ErrMalformed
		}
	}
	return "", ErrMalformed
}

// isTchar reports whether c is an RFC 9110 token character.
func isTchar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
