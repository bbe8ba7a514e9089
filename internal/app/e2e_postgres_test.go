package app_test

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/internal/testenv"
)

func TestPostgresAccountsAndRefresh(t *testing.T) {
	dsn := testenv.PostgresSchema(t)
	srv := apptest.Start(t, "--database", dsn, "--refresh-reuse-grace", "0s")
	tok := signup(t, srv, "pg@example.com")
	if r := srv.Do(t, "GET", "/v1/me", nil, bearer(tok["access_token"])...); r.Status != 200 {
		t.Fatalf("me: %d", r.Status)
	}
	ok, statuses := 0, []int{}
	for _, r := range refreshConcurrently(t, srv, tok["refresh_token"], 20) {
		statuses = append(statuses, r.Status)
		if r.Status == 200 {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("%d concurrent refreshes succeeded on PostgreSQL, want exactly 1 (%v)", ok, statuses)
	}
	if r := srv.Do(t, "POST", "/v1/auth/logout", map[string]string{"scope": "global"}, bearer(tok["access_token"])...); r.Status != 401 {
		// reuse detection above revoked the session: the old token is dead
		t.Errorf("logout with a token of a revoked session: %d", r.Status)
	}
}

// proxy forwards TCP to target until closed; closing it is a database
// that went away mid-flight.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	t.Cleanup(p.Close)
	return p
}

func (p *proxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

func TestDatabaseGoneFailsClosed(t *testing.T) {
	dsn := testenv.PostgresSchema(t)
	px := startProxy(t, "127.0.0.1:5432")
	proxied := strings.Replace(dsn, "127.0.0.1:5432", px.ln.Addr().String(), 1)
	if proxied == dsn {
		t.Skip("LATCHKEY_TEST_POSTGRES does not point at 127.0.0.1:5432")
	}
	srv := apptest.Start(t, "--database", proxied)
	tok := signup(t, srv, "gone@example.com")
	px.Close()

	checks := []struct {
		method, path string
		body         any
		headers      []string
	}{
		{"GET", "/v1/me", nil, bearer(tok["access_token"])},
		{"POST", "/v1/auth/login", map[string]string{"email": "gone@example.com", "password": goodPassword}, nil},
		{"POST", "/v1/auth/refresh", map[string]any{"refresh_token": tok["refresh_token"]}, nil},
		{"POST", "/v1/auth/signup", map[string]string{"email": "new@example.com", "password": goodPassword}, nil},
		{"GET", "/readyz", nil, nil},
	}
	for _, c := range checks {
		r := srv.Do(t, c.method, c.path, c.body, c.headers...)
		if r.Status != 503 {
			t.Errorf("%s %s with the database gone: %d %s (want 503: fail closed)", c.method, c.path, r.Status, r.Body)
			continue
		}
		if c.path != "/readyz" && r.String(t, "code") != "unavailable" {
			t.Errorf("%s %s: %s", c.method, c.path, r.Body)
		}
		if strings.Contains(string(r.Body), "dial") || strings.Contains(string(r.Body), "5432") {
			t.Errorf("internal detail leaked: %s", r.Body)
		}
	}
	if r := srv.Do(t, "GET", "/healthz", nil); r.Status != 200 {
		t.Errorf("liveness should not depend on the database: %d", r.Status)
	}
}
