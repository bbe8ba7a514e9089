// Package clientip decides which address a request really came from, and
// whether it arrived over HTTPS, believing forwarding headers only when the
// socket peer is a proxy the operator listed in --trusted-proxies.
//
// Headers such as X-Real-IP, True-Client-IP and CF-Connecting-IP are never
// read: a client can set them to anything, and a proxy that sets them can
// equally append to X-Forwarded-For.
package clientip

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver answers ClientIP and IsHTTPS for requests. It is safe for
// concurrent use.
type Resolver struct {
	trusted []netip.Prefix
}

// NewResolver returns a Resolver that believes forwarding headers only from
// peers inside trustedCIDRs. A bare address counts as a single-host prefix;
// empty entries are ignored. A nil or empty list trusts nobody.
func NewResolver(trustedCIDRs []string) (*Resolver, error) {
	r := &Resolver{}
	for _, s := range trustedCIDRs {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, err := parsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %q is not a CIDR or IP address: %w", s, err)
		}
		r.trusted = append(r.trusted, p)
	}
	return r, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if p.Addr().Is4In6() {
			// ::ffff:10.0.0.0/104 means 10.0.0.0/8; peers are compared unmapped.
			if p.Bits() < 96 {
				return netip.Prefix{}, fmt.Errorf("IPv4-mapped prefix shorter than /96")
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap().WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Trusted reports whether addr is one of the trusted proxies.
func (r *Resolver) Trusted(addr netip.Addr) bool {
	addr = addr.Unmap().WithZone("")
	for _, p := range r.trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Peer returns the socket peer of req (r.RemoteAddr), unmapped. It returns
// the zero Addr when RemoteAddr cannot be parsed, which net/http never
// produces for a real connection.
func Peer(req *http.Request) netip.Addr {
	a, ok := parseHost(req.RemoteAddr)
	if !ok {
		return netip.Addr{}
	}
	return a
}

// ClientIP returns the address of the client that sent req: the socket peer,
// unless the peer is a trusted proxy. Then the forwarding chain is walked from
// the nearest hop outwards, skipping trusted proxies, and the first address
// that is not trusted is the client. X-Forwarded-For is preferred, since every
// common proxy writes it; Forwarded (RFC 7239) is read only when there is no
// X-Forwarded-For. A malformed chain yields the peer.
func (r *Resolver) ClientIP(req *http.Request) netip.Addr {
	peer := Peer(req)
	if !peer.IsValid() || !r.Trusted(peer) {
		return peer
	}
	var hops []string
	if xff := req.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		hops = splitXFF(xff)
	} else if fwd := req.Header.Values("Forwarded"); len(fwd) > 0 {
		elems, err := ParseForwarded(strings.Join(fwd, ","))
		if err != nil {
			return peer
		}
		for _, e := range elems {
			hops = append(hops, e.For)
		}
	}
	client, ok := r.walk(hops)
	if !ok {
		return peer
	}
	return client
}

// walk returns the first untrusted address from the right of hops. When every
// hop is trusted, the leftmost one is the client. Any unparsable hop reached
// before an untrusted one makes the chain unusable.
func (r *Resolver) walk(hops []string) (netip.Addr, bool) {
	if len(hops) == 0 {
		return netip.Addr{}, false
	}
	var a netip.Addr
	for i := len(hops) - 1; i >= 0; i-- {
		var ok bool
		a, ok = parseHost(hops[i])
		if !ok {
			return netip.Addr{}, false
		}
		if !r.Trusted(a) {
			return a, true
		}
	}
	return a, true
}

// IsHTTPS reports whether the client's request reached the first proxy (or
// latchkey itself) over TLS: either the connection is TLS, or a trusted peer
// says so with X-Forwarded-Proto (preferred) or Forwarded proto=.
func (r *Resolver) IsHTTPS(req *http.Request) bool {
	if req.TLS != nil {
		return true
	}
	peer := Peer(req)
	if !peer.IsValid() || !r.Trusted(peer) {
		return false
	}
	if xfp := req.Header.Values("X-Forwarded-Proto"); len(xfp) > 0 {
		// The nearest proxy's word is the last one.
		vals := splitXFF(xfp)
		return len(vals) > 0 && strings.EqualFold(vals[len(vals)-1], "https")
	}
	if fwd := req.Header.Values("Forwarded"); len(fwd) > 0 {
		elems, err := ParseForwarded(strings.Join(fwd, ","))
		if err != nil || len(elems) == 0 {
			return false
		}
		return strings.EqualFold(elems[len(elems)-1].Proto, "https")
	}
	return false
}
