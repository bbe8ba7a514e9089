package testenv

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Mailpit is a real mail server (github.com/axllent/mailpit) run for one
// test: latchkey's mail goes over real SMTP to it, and tests read what
// arrived through its HTTP API.
type Mailpit struct {
	SMTPAddr string // host:port of its SMTP listener
	API      string // base URL of its HTTP API
	// TLS trusts Mailpit's certificate when it was started WithSTARTTLS.
	TLS *tls.Config

	bin  string
	args []string
	cmd  *exec.Cmd
	out  bytes.Buffer
}

// MailpitOption changes how Mailpit starts.
type MailpitOption func(*mailpitConfig)

type mailpitConfig struct{ starttls bool }

// WithSTARTTLS gives Mailpit a certificate for 127.0.0.1 and requires
// clients to use STARTTLS.
func WithSTARTTLS() MailpitOption { return func(c *mailpitConfig) { c.starttls = true } }

// mailpitBinary finds Mailpit: LATCHKEY_TEST_MAILPIT, the PATH, or where
// `go install` puts it.
func mailpitBinary() string {
	if p := os.Getenv("LATCHKEY_TEST_MAILPIT"); p != "" {
		return p
	}
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, "go", "bin", "mailpit")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// StartMailpit runs Mailpit on free loopback ports until the test ends. It
// skips the test when Mailpit is missing, unless services are required.
func StartMailpit(t testing.TB, opts ...MailpitOption) *Mailpit {
	t.Helper()
	bin := mailpitBinary()
	if bin == "" {
		if Required() {
			t.Fatal("mailpit is not installed (go install github.com/axllent/mailpit@v1.33.1), and LATCHKEY_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("mailpit is not installed")
	}
	var cfg mailpitConfig
	for _, o := range opts {
		o(&cfg)
	}
	m := &Mailpit{SMTPAddr: freeAddr(t)}
	httpAddr := freeAddr(t)
	m.API = "http://" + httpAddr
	args := []string{"--smtp", m.SMTPAddr, "--listen", httpAddr, "--disable-version-check", "--smtp-auth-accept-any",
		"--smtp-disable-rdns", "--database", filepath.Join(t.TempDir(), "mailpit.db")}
	if cfg.starttls {
		certFile, keyFile, pool := SelfSignedCert(t)
		args = append(args, "--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile, "--smtp-require-starttls")
		m.TLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	} else {
		args = append(args, "--smtp-auth-allow-insecure")
	}
	m.bin, m.args = bin, args
	m.start(t)
	t.Cleanup(func() {
		m.Stop()
		if t.Failed() {
			t.Logf("mailpit output:\n%s", m.out.String())
		}
	})
	return m
}

// start runs Mailpit and waits until it answers.
func (m *Mailpit) start(t testing.TB) {
	t.Helper()
	m.cmd = exec.Command(m.bin, m.args...)
	m.cmd.Stdout, m.cmd.Stderr = &m.out, &m.out
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if resp, err := http.Get(m.API + "/api/v1/info"); err == nil {
			resp.Body.Close()
			if c, err := net.Dial("tcp", m.SMTPAddr); err == nil {
				c.Close()
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit did not start:\n%s", m.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills Mailpit: its SMTP port refuses connections until Restart.
func (m *Mailpit) Stop() {
	if m.cmd != nil {
		_ = m.cmd.Process.Kill()
		_ = m.cmd.Wait()
		m.cmd = nil
	}
}

// Restart starts a stopped Mailpit again on the same ports, with the
// messages it had received.
func (m *Mailpit) Restart(t testing.TB) {
	t.Helper()
	m.Stop()
	m.start(t)
}

// MailSummary is one message as Mailpit lists it.
type MailSummary struct {
	ID      string `json:"ID"`
	Subject string `json:"Subject"`
	// MessageID is the Message-ID header, without the angle brackets.
	MessageID string `json:"MessageID"`
	To        []struct {
		Address string `json:"Address"`
	} `json:"To"`
}

// Messages lists what Mailpit received, newest first.
func (m *Mailpit) Messages(t testing.TB) []MailSummary {
	t.Helper()
	var body struct {
		Messages []MailSummary `json:"messages"`
	}
	m.getJSON(t, "/api/v1/messages?limit=5000", &body)
	return body.Messages
}

// Count returns how many messages Mailpit holds.
func (m *Mailpit) Count(t testing.TB) int {
	t.Helper()
	var body struct {
		Total int `json:"total"`
	}
	m.getJSON(t, "/api/v1/messages?limit=1", &body)
	return body.Total
}

// Raw returns a message's source as received.
func (m *Mailpit) Raw(t testing.TB, id string) []byte {
	t.Helper()
	resp, err := http.Get(m.API + "/api/v1/message/" + id + "/raw")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit raw %s: %d %v", id, resp.StatusCode, err)
	}
	return data
}

// WaitFor waits until n messages to address have arrived and returns them.
func (m *Mailpit) WaitFor(t testing.TB, address string, n int, within time.Duration) []MailSummary {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var got []MailSummary
		for _, s := range m.Messages(t) {
			for _, to := range s.To {
				if to.Address == address {
					got = append(got, s)
				}
			}
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d mails to %s arrived within %s", len(got), n, address, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (m *Mailpit) getJSON(t testing.TB, path string, v any) {
	t.Helper()
	resp, err := http.Get(m.API + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit %s: %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// SelfSignedCert writes a certificate and key (PEM files) for 127.0.0.1 and
// localhost, valid for a day, and returns a pool that trusts it: for tests
// that serve TLS on loopback.
func SelfSignedCert(t testing.TB) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mailpit test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writePEM := func(path, typ string, b []byte) {
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writePEM(certFile, "CERTIFICATE", der)
	writePEM(keyFile, "EC PRIVATE KEY", keyDER)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
