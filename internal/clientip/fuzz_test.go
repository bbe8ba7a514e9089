package clientip

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func FuzzParseForwarded(f *testing.F) {
	for _, s := range []string{
		"for=192.0.2.60;proto=http;by=203.0.113.43",
		`for="[2001:db8:cafe::17]:4711", for=unknown`,
		`for="a\"b"`, `for="x`, ",,", "for=_hidden;host=example.com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		elems, err := ParseForwarded(s)
		if err != nil && elems != nil {
			t.Fatalf("elements returned with error %v", err)
		}
		if len(elems) > maxHops {
			t.Fatalf("%d elements, more than %d", len(elems), maxHops)
		}
	})
}

// FuzzClientIP checks the resolver's promises for arbitrary headers: an
// untrusted peer is always the answer, and a trusted peer's answer is either
// the peer itself or an address written in the header.
func FuzzClientIP(f *testing.F) {
	f.Add("10.0.0.1:80", "1.1.1.1, 198.51.100.7", "")
	f.Add("10.0.0.1:80", "", `for="[2001:db8::5]:80";proto=https`)
	f.Add("203.0.113.5:1", "1.1.1.1", "for=1.1.1.1")
	f.Add("[fd00::1]:80", "[2001:db8::9]:443,::ffff:1.2.3.4", "")
	f.Add("10.0.0.1:80", "10.1.1.1,,10.2.2.2", "")
	r, err := NewResolver([]string{"10.0.0.0/8", "fd00::/8"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, remote, xff, fwd string) {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = remote
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		if fwd != "" {
			req.Header.Set("Forwarded", fwd)
		}
		got := r.ClientIP(req)
		_ = r.IsHTTPS(req)
		peer := Peer(req)
		if got.Is4In6() || got.Zone() != "" {
			t.Fatalf("ClientIP = %v, not unmapped and zoneless", got)
		}
		if !r.Trusted(peer) || !peer.IsValid() {
			if got != peer {
				t.Fatalf("untrusted peer %v, but ClientIP = %v", peer, got)
			}
			return
		}
		if got != peer && !mentions(xff+","+fwd, got) {
			t.Fatalf("ClientIP = %v appears neither as the peer nor in the headers", got)
		}
	})
}

// mentions reports whether the headers plausibly contain a: its text, or the
// text of an IPv4 address written in mapped or IPv6 form.
func mentions(h string, a netip.Addr) bool {
	h = strings.ToLower(h)
	if strings.Contains(h, a.String()) {
		return true
	}
	// Non-canonical spellings ("0:0::1", "::FFFF:1.2.3.4") parse to a but do
	// not contain its canonical text; accept any parsable token equal to a.
	for _, tok := range strings.FieldsFunc(h, func(r rune) bool {
		return strings.ContainsRune(`,;" []=`, r)
	}) {
		tok = strings.TrimSpace(tok) // as the resolver trims each hop (\v, \t, …)
		if b, ok := parseHost(tok); ok && b == a {
			return true
		}
		if b, ok := parseHost("[" + tok + "]"); ok && b == a {
			return true
		}
	}
	return false
}
