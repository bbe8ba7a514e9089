package app_test

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/apptest"
)

// A slow-loris client that drips its headers is cut off by the read-header
// timeout, and a slow body by the read timeout, while normal requests are
// still served (AV-03, AV-04). The timeouts are shortened for the test.
func TestSlowClientsAreCutOff(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, "--http-read-header-timeout", "1s", "--http-read-timeout", "2s")
	u, _ := url.Parse(srv.URL)
	cases := []struct {
		name, head, drip string
	}{
		{"slow headers", "GET /healthz HTTP/1.1\r\nHost: x\r\n", "X-Slow: " + strings.Repeat("a", 200)},
		{"slow body", "POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n",
			`{"email":"slow@example.com","password":"` + strings.Repeat("a", 200)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, c.head); err != nil {
				t.Fatal(err)
			}
			// One byte every 100 ms; the connection must be closed long
			// before the 20 s the whole drip would take.
			closed := make(chan struct{})
			go func() {
				defer close(closed)
				_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
				_, _ = io.Copy(io.Discard, conn) // returns when the server closes
			}()
			cutOff := false
			for i := 0; i < len(c.drip) && !cutOff; i++ {
				if i == 3 {
					// Meanwhile an ordinary request is served.
					if r := srv.Do(t, "GET", "/healthz", nil); r.Status != 200 {
						t.Errorf("healthz during a slow client: %d", r.Status)
					}
				}
				if _, err := conn.Write([]byte{c.drip[i]}); err != nil {
					cutOff = true
				}
				select {
				case <-closed:
					cutOff = true
				case <-time.After(100 * time.Millisecond):
				}
			}
			if !cutOff {
				t.Fatal("the slow client was never cut off")
			}
		})
	}
}

// Ambiguous framing is refused: Content-Length with Transfer-Encoding, and
// conflicting Content-Lengths (IN-12); oversized headers get 431 (AV-06);
// oversized bodies a quick 413 (IN-01).
func TestHostileFraming(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	body := `{"email":"a@example.com","password":"x"}`
	cases := []struct {
		name, raw, status string
	}{
		{"CL and TE chunked", "POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" +
			fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body), "400"},
		{"TE chunked alone", "POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
			fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body), "400"},
		{"TE gzip, chunked", "POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", "501"},
		{"two Content-Lengths", "POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nContent-Length: " +
			fmt.Sprint(len(body)) + "\r\n\r\n" + body, "400"},
		{"Content-Length list", "POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5, 6\r\n\r\n" + body, "400"},
		{"negative Content-Length", "POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n" + body, "400"},
		{"2 MiB header", "GET /v1/me HTTP/1.1\r\nHost: x\r\nCookie: a=" + strings.Repeat("b", 2<<20) + "\r\n\r\n", "431"},
		{"10 MiB declared body", "POST /v1/auth/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10485760\r\n\r\n{", "413"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := rawRequest(t, srv, c.raw)
			if !strings.HasPrefix(got, c.status) {
				t.Errorf("got %.200q, want %s", got, c.status)
			}
			if strings.Contains(got, "panic") || strings.Contains(got, ".go:") {
				t.Errorf("internals leaked: %.300s", got)
			}
		})
	}
	// A 10 MiB body actually sent to every JSON route is refused with 413.
	big := `{"email":"` + strings.Repeat("a", 10<<20) + `"}`
	for _, path := range []string{"/v1/auth/login", "/v1/auth/signup", "/v1/auth/refresh"} {
		if r := srv.Do(t, "POST", path, big, "Content-Type", "application/json"); r.Status != 413 || r.String(t, "code") != "payload_too_large" {
			t.Errorf("%s with 10 MiB: %d %.200s", path, r.Status, r.Body)
		}
	}
	if r := srv.Do(t, "GET", "/healthz", nil); r.Status != 200 {
		t.Errorf("server unwell after hostile framing: %d", r.Status)
	}
}

// Look-alike addresses never reach an existing account: not by signing in,
// not by signing up over it (IN-07), and duplicate or case-variant keys do
// not smuggle a second address past the decoder (IN-05).
func TestLookAlikeEmails(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	for _, e := range []string{"kate@example.com", "sam@example.com", "mike@example.com", "alice@example.com"} {
		signup(t, srv, e)
	}
	for _, e := range []string{"\u212Aate@example.com", "\u017Fam@example.com", "m\u0131ke@example.com", "\uFF41lice@example.com",
		"\u0430lice@example.com", "alice@\uFF45xample.com", "alice\u0000@example.com", "alice@example.com\u200B", "\u202Ealice@example.com"} {
		if r := login(t, srv, e, goodPassword); r.Status == 200 {
			t.Errorf("%+q signed in to an existing account", e)
		}
		r := srv.Do(t, "POST", "/v1/auth/signup", map[string]string{"email": e, "password": goodPassword})
		if r.Status != 400 || r.String(t, "code") != "invalid_request" {
			t.Errorf("signup %+q: %d %s", e, r.Status, r.Body)
		}
	}
	for _, body := range []string{
		`{"email":"nobody@example.com","email":"kate@example.com","password":"correct horse battery staple"}`,
		`{"email":"nobody@example.com","Email":"kate@example.com","password":"correct horse battery staple"}`,
		`{"email":"kate@example.com","password":"wrong","PASSWORD":"correct horse battery staple"}`,
		`{"email":"kate@example.com","password":"correct horse battery staple","password":"correct horse battery staple"}`,
	} {
		if r := srv.Do(t, "POST", "/v1/auth/login", body, "Content-Type", "application/json"); r.Status != 400 {
			t.Errorf("%s: %d", body, r.Status)
		}
	}
}
