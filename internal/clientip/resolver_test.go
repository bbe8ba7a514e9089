package clientip

import (
	"crypto/tls"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func mustResolver(t *testing.T, cidrs ...string) *Resolver {
	t.Helper()
	r, err := NewResolver(cidrs)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestNewResolverRejectsBadCIDR(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "nonsense", "10.0.0.1/8/2", "::ffff:10.0.0.0/80"} {
		_, err := NewResolver([]string{"127.0.0.1/32", bad})
		if err == nil || !strings.Contains(err.Error(), "--trusted-proxies") || !strings.Contains(err.Error(), bad) {
			t.Errorf("NewResolver(%q) error = %v, want one naming --trusted-proxies and the entry", bad, err)
		}
	}
	r := mustResolver(t, " 10.0.0.0/8 ", "", "192.0.2.7", "::ffff:172.16.0.0/108", "fd00::/8")
	for _, a := range []string{"10.1.2.3", "192.0.2.7", "172.16.9.9", "::ffff:10.0.0.1", "fd00::1"} {
		if !r.Trusted(netip.MustParseAddr(a)) {
			t.Errorf("Trusted(%s) = false", a)
		}
	}
	for _, a := range []string{"192.0.2.8", "11.0.0.1", "172.32.0.1", "fe80::1"} {
		if r.Trusted(netip.MustParseAddr(a)) {
			t.Errorf("Trusted(%s) = true", a)
		}
	}
}

func TestClientIP(t *testing.T) {
	r := mustResolver(t, "10.0.0.0/8", "fd00::/8")
	tests := []struct {
		name   string
		remote string
		header map[string][]string
		want   string
	}{
		{"untrusted peer, no headers", "203.0.113.5:1234", nil, "203.0.113.5"},
		{"untrusted peer, spoofed XFF", "203.0.113.5:1234", map[string][]string{"X-Forwarded-For": {"1.1.1.1"}}, "203.0.113.5"},
		{"untrusted peer, spoofed Forwarded", "203.0.113.5:1234", map[string][]string{"Forwarded": {"for=1.1.1.1"}}, "203.0.113.5"},
		{"untrusted peer, spoofed X-Real-IP", "203.0.113.5:1234", map[string][]string{"X-Real-Ip": {"1.1.1.1"}}, "203.0.113.5"},
		{"trusted peer, X-Real-IP never believed", "10.0.0.1:80", map[string][]string{"X-Real-Ip": {"1.1.1.1"}, "True-Client-Ip": {"1.1.1.2"}, "Cf-Connecting-Ip": {"1.1.1.3"}}, "10.0.0.1"},
		{"untrusted peer mapped", "[::ffff:203.0.113.5]:1234", nil, "203.0.113.5"},
		{"untrusted v6 peer", "[2001:db8::1]:1234", nil, "2001:db8::1"},
		{"trusted peer, no header", "10.0.0.1:80", nil, "10.0.0.1"},
		{"trusted peer, one hop", "10.0.0.1:80", map[string][]string{"X-Forwarded-For": {"198.51.100.7"}}, "198.51.100.7"},
		{"client spoof left of real hop", "10.0.0.1:80", map[string][]string{"X-Forwarded-For": {"1.1.1.1, 198.51.100.7"}}, "198.51.100.7"},
		{"trusted chain skipped", "10.0.0.1:80", map[string][]string{"X-Forwarded-For": {"1.1.1.1, 198.51.100.7, 10.9.9.9"}}, "198.51.100.7"},
		{"several field lines", "10.0.0.1:80", map[string][]string{"X-Forwarded-For": {"1.1.1.1", "198.51.100.7", "10.2.2.2"}}, "198.51.100.7"},
		{"all hops trusted", "10.0.0.1:80", map[string][]string{"X-Forwarded-For": {"10.3.3.3, 10.2.2.2"}}, "10.3.3.3"},
		{"hop with port", "10.0.0.1:80", map[string][]string{"X-Forwarded-For": {"198.51.100.7:4444"}}, "198.51.100.7"},
		{"v6 hop bracketed", "10.0.0.1:80", map[string][]string{"X-Forwarded-For": {"[2001:db8::9]:443"}}, "2001:db8::9"},
		{"mapped hop unmapped", "10.0.0.1:80", map[string][]string{"X-Forwarded-For": {"::ffff:198.51.100.7"}}, "198.51.100.7"},
		{"malformed rightmost → peer", "10.0.0.1:80", map[string][]string{"X-Forwarded-For": {"198.51.100.7, garbage"}}, "10.0.0.1"},
		{"garbage left of client ignored", "10.0.0.1:80", map[string][]string{"X-Forwarded-For": {"garbage, 198.51.100.7"}}, "198.51.100.7"},
		{"empty XFF → peer", "10.0.0.1:80", map[string][]string{"X-Forwarded-For": {""}}, "10.0.0.1"},
		{"XFF preferred over Forwarded", "10.0.0.1:80", map[string][]string{"X-Forwarded-For": {"198.51.100.7"}, "Forwarded": {"for=1.1.1.1"}}, "198.51.100.7"},
		{"Forwarded", "10.0.0.1:80", map[string][]string{"Forwarded": {`for=1.1.1.1, for="[2001:db8::5]:80";proto=https, for=10.2.2.2`}}, "2001:db8::5"},
		{"Forwarded unknown → peer", "10.0.0.1:80", map[string][]string{"Forwarded": {`for=unknown`}}, "10.0.0.1"},
		{"Forwarded malformed → peer", "10.0.0.1:80", map[string][]string{"Forwarded": {`for="1.1.1.1`}}, "10.0.0.1"},
		{"Forwarded unquoted port → peer", "10.0.0.1:80", map[string][]string{"Forwarded": {`for=1.1.1.1:80`}}, "10.0.0.1"},
		{"trusted v6 peer", "[fd00::1]:80", map[string][]string{"X-Forwarded-For": {"198.51.100.7"}}, "198.51.100.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tt.remote
			for k, vs := range tt.header {
				for _, v := range vs {
					req.Header.Add(k, v)
				}
			}
			got := r.ClientIP(req)
			if got != netip.MustParseAddr(tt.want) {
				t.Errorf("ClientIP = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestClientIPBadRemoteAddr(t *testing.T) {
	r := mustResolver(t, "0.0.0.0/0")
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "not-an-address"
	req.Header.Set("X-Forwarded-For", "1.1.1.1")
	if got := r.ClientIP(req); got.IsValid() {
		t.Errorf("ClientIP = %v, want the zero Addr", got)
	}
}

func TestIsHTTPS(t *testing.T) {
	r := mustResolver(t, "10.0.0.0/8")
	tests := []struct {
		name   string
		remote string
		tls    bool
		header map[string]string
		want   bool
	}{
		{"plain", "203.0.113.5:1", false, nil, false},
		{"tls", "203.0.113.5:1", true, nil, true},
		{"untrusted says https", "203.0.113.5:1", false, map[string]string{"X-Forwarded-Proto": "https"}, false},
		{"untrusted Forwarded https", "203.0.113.5:1", false, map[string]string{"Forwarded": "for=1.1.1.1;proto=https"}, false},
		{"trusted says https", "10.0.0.1:1", false, map[string]string{"X-Forwarded-Proto": "HTTPS"}, true},
		{"trusted says http", "10.0.0.1:1", false, map[string]string{"X-Forwarded-Proto": "http"}, false},
		{"trusted list, nearest wins", "10.0.0.1:1", false, map[string]string{"X-Forwarded-Proto": "http, https"}, true},
		{"trusted Forwarded", "10.0.0.1:1", false, map[string]string{"Forwarded": `for=1.1.1.1;proto=https`}, true},
		{"trusted Forwarded malformed", "10.0.0.1:1", false, map[string]string{"Forwarded": `proto=https;proto=https`}, false},
		{"trusted nothing", "10.0.0.1:1", false, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tt.remote
			if tt.tls {
				req.TLS = &tls.ConnectionState{}
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			if got := r.IsHTTPS(req); got != tt.want {
				t.Errorf("IsHTTPS = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseForwarded(t *testing.T) {
	tests := []struct {
		in      string
		want    []ForwardedElement
		wantErr bool
	}{
		{"", nil, false},
		{"for=192.0.2.60;proto=http;by=203.0.113.43", []ForwardedElement{{For: "192.0.2.60", Proto: "http"}}, false},
		{`For="[2001:db8:cafe::17]:4711"`, []ForwardedElement{{For: "[2001:db8:cafe::17]:4711"}}, false},
		{`for=192.0.2.43, for=198.51.100.17`, []ForwardedElement{{For: "192.0.2.43"}, {For: "198.51.100.17"}}, false},
		{`for="a\"b"`, []ForwardedElement{{For: `a"b`}}, false},
		{`for=_hidden ; proto = https`, nil, true}, // no whitespace around "="
		{`for=1.1.1.1;for=2.2.2.2`, nil, true},
		{`for="unterminated`, nil, true},
		{`for=`, nil, true},
		{`=x`, nil, true},
		{`for=a b`, nil, true},
		{"for=\"\x00\"", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseForwarded(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseForwarded(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && !equalElems(got, tt.want) {
			t.Errorf("ParseForwarded(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func equalElems(a, b []ForwardedElement) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRateKey(t *testing.T) {
	tests := map[string]string{
		"192.0.2.1":           "192.0.2.1",
		"::ffff:192.0.2.1":    "192.0.2.1",
		"2001:db8:1:2:3::4":   "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::": "2001:db8:1:2::/64",
	}
	for in, want := range tests {
		if got := RateKey(netip.MustParseAddr(in)); got != want {
			t.Errorf("RateKey(%s) = %s, want %s", in, got, want)
		}
	}
	if got := RateKey(netip.Addr{}); got != "unknown" {
		t.Errorf("RateKey(zero) = %s", got)
	}
}
