package app_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/internal/testenv"
)

var securityHeaders = map[string]string{
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy":        "no-referrer",
	"X-Frame-Options":        "DENY",
}

const hsts = "max-age=31536000; includeSubDomains"

// checkHeaders asserts the headers every response carries (HDR-02, 04, 05)
// and whether HSTS is there (HDR-01).
func checkHeaders(t *testing.T, what string, h http.Header, wantHSTS bool) {
	t.Helper()
	for k, want := range securityHeaders {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %s = %q, want %q", what, k, got, want)
		}
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("%s: CSP %q", what, csp)
	}
	for _, banner := range []string{"Server", "X-Powered-By", "X-AspNet-Version", "Via"} {
		if v := h.Get(banner); v != "" {
			t.Errorf("%s: banner %s: %s", what, banner, v)
		}
	}
	if got := h.Get("Strict-Transport-Security"); wantHSTS && got != hsts || !wantHSTS && got != "" {
		t.Errorf("%s: HSTS %q, want it %v", what, got, wantHSTS)
	}
}

// headerProbes are requests that between them get most kinds of answer:
// 200, 201, 400, 401, 404, 405, 413, 415, 429.
var headerProbes = []struct {
	method, path, body string
	headers            []string
}{
	{"GET", "/healthz", "", nil},
	{"GET", "/readyz", "", nil},
	{"GET", "/.well-known/jwks.json", "", nil},
	{"GET", "/openapi.yaml", "", nil},
	{"GET", "/v1/me", "", nil},
	{"GET", "/v1/me", "", []string{"Authorization", "Bearer not.a.token"}},
	{"GET", "/nope", "", nil},
	{"TRACE", "/", "", nil},
	{"DELETE", "/v1/auth/login", "", nil},
	{"POST", "/v1/auth/login", `{"email":`, []string{"Content-Type", "application/json"}},
	{"POST", "/v1/auth/login", `{}`, []string{"Content-Type", "text/plain"}},
	{"POST", "/v1/auth/login", `{"email":"nobody@example.com","password":"wrong password"}`, []string{"Content-Type", "application/json"}},
	{"POST", "/v1/auth/signup", `{"email":"h@example.com","password":"correct horse battery staple"}`, []string{"Content-Type", "application/json"}},
	{"POST", "/v1/auth/signup", strings.Repeat(" ", 2<<20), []string{"Content-Type", "application/json"}},
}

// Every response, errors included, carries the security headers; HSTS only
// when the request came over HTTPS, as the connection or a trusted proxy
// says — never on a plain request or an untrusted peer's word.
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	t.Parallel()
	plain := apptest.StartWith(t, limited)
	proxied := apptest.Start(t, "--trusted-proxies", "127.0.0.1/32")
	cert, key, pool := writeCert(t)
	tlsSrv := startTLS(t, cert, key, pool)
	for _, c := range []struct {
		name     string
		srv      *apptest.Instance
		extra    []string
		wantHSTS bool
	}{
		{"plain", plain, nil, false},
		{"untrusted peer says https", plain, []string{"X-Forwarded-Proto", "https", "Forwarded", "proto=https"}, false},
		{"trusted proxy says http", proxied, []string{"X-Forwarded-Proto", "http"}, false},
		{"trusted proxy says https", proxied, []string{"X-Forwarded-Proto", "https"}, true},
		{"trusted proxy Forwarded https", proxied, []string{"Forwarded", "for=192.0.2.1;proto=https"}, true},
		{"TLS", tlsSrv, nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, p := range headerProbes {
				r := c.srv.Do(t, p.method, p.path, p.body, append(append([]string{}, p.headers...), c.extra...)...)
				checkHeaders(t, p.method+" "+p.path+" → "+http.StatusText(r.Status), r.Header, c.wantHSTS)
			}
		})
	}
	// 429 too.
	var last *apptest.Response
	for range 11 {
		last = login(t, plain, "hammer@example.com", "wrong password")
	}
	checkRateLimited(t, last)
	checkHeaders(t, "429", last.Header, false)
}

// writeCert makes a self-signed certificate for 127.0.0.1.
func writeCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	return testenv.SelfSignedCert(t)
}

func startTLS(t *testing.T, cert, key string, pool *x509.CertPool) *apptest.Instance {
	t.Helper()
	srv := apptest.Start(t, "--tls-cert", cert, "--tls-key", key)
	if !strings.HasPrefix(srv.URL, "https://") {
		t.Fatalf("TLS server URL %q", srv.URL)
	}
	srv.Client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	return srv
}

// TLS 1.2 and 1.3 work; 1.0 and 1.1, CBC and RSA key exchange are refused
// (HDR-06); a plain HTTP request to the TLS port is not redirected (HDR-07).
func TestTLS(t *testing.T) {
	t.Parallel()
	cert, key, pool := writeCert(t)
	srv := startTLS(t, cert, key, pool)
	host := strings.TrimPrefix(srv.URL, "https://")
	handshake := func(cfg *tls.Config) (tls.ConnectionState, error) {
		cfg.RootCAs = pool
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", host, cfg)
		if err != nil {
			return tls.ConnectionState{}, err
		}
		defer conn.Close()
		return conn.ConnectionState(), nil
	}
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		st, err := handshake(&tls.Config{MinVersion: v, MaxVersion: v})
		if err != nil || st.Version != v {
			t.Errorf("%s: %v", tls.VersionName(v), err)
			continue
		}
		if v == tls.VersionTLS12 && !strings.Contains(tls.CipherSuiteName(st.CipherSuite), "ECDHE") {
			t.Errorf("TLS 1.2 negotiated %s", tls.CipherSuiteName(st.CipherSuite))
		}
	}
	if st, err := handshake(&tls.Config{}); err != nil || st.Version != tls.VersionTLS13 {
		t.Errorf("a modern client does not get TLS 1.3: %v %x", err, st.Version)
	}
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		if _, err := handshake(&tls.Config{MinVersion: v, MaxVersion: v}); err == nil {
			t.Errorf("%s accepted", tls.VersionName(v))
		}
	}
	var weak []uint16
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		name := cs.Name
		if strings.Contains(name, "CBC") || strings.HasPrefix(name, "TLS_RSA_") || strings.Contains(name, "RC4") || strings.Contains(name, "3DES") {
			weak = append(weak, cs.ID)
			if _, err := handshake(&tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{cs.ID}}); err == nil {
				t.Errorf("weak suite %s accepted", name)
			}
		}
	}
	if len(weak) < 5 {
		t.Fatalf("only %d weak suites tried", len(weak))
	}

	r := srv.Do(t, "GET", "/healthz", nil)
	if r.Status != 200 {
		t.Fatalf("healthz over TLS: %d", r.Status)
	}
	checkHeaders(t, "TLS healthz", r.Header, true)

	// Plain HTTP to the TLS port: an error, never a redirect.
	plain := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := plain.Get("http://" + host + "/v1/me")
	if err == nil {
		defer resp.Body.Close()
		if resp.StatusCode < 400 || resp.Header.Get("Location") != "" {
			t.Errorf("plain HTTP to the TLS port: %d Location=%q", resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

// rawRequest sends bytes on a fresh connection and returns what comes back
// until the server closes it or 10 s pass.
func rawRequest(t *testing.T, srv *apptest.Instance, raw string) string {
	t.Helper()
	u, _ := url.Parse(srv.URL)
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.Status + "\n" + string(body)
}
