package app_test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/internal/crypt"
	"github.com/latchkey/latchkey/internal/store"
	"github.com/latchkey/latchkey/internal/testenv"
)

// limited starts a server with rate limits on (apptest turns them off
// unless asked).
var limited = apptest.Options{RateLimits: true}

// limitsOn are the arguments that make the test client (127.0.0.1) a
// trusted proxy, so X-Forwarded-For picks the client.
var limitsOn = []string{"--trusted-proxies", "127.0.0.1/32"}

// backend is one way to keep rate-limit state: each end-to-end test runs
// once per backend.
type backend struct {
	name string
	args func(t *testing.T) []string
}

var backends = []backend{
	{"memory", func(*testing.T) []string { return nil }},
	{"redis", func(t *testing.T) []string {
		return []string{"--redis", testenv.Redis(t), "--redis-prefix", redisPrefix()}
	}},
}

// redisPrefix isolates a test's keys in the shared Redis.
func redisPrefix() string { return "latchkeytest:" + crypt.RandomToken(9) + ":" }

// forEachBackend runs f with the arguments of a server without Redis and
// of one with Redis; f starts it with limited (or scaled) options.
func forEachBackend(t *testing.T, f func(t *testing.T, args []string)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f(t, append(append([]string{}, limitsOn...), b.args(t)...))
		})
	}
}

func login(t *testing.T, srv *apptest.Instance, email, pw string, headers ...string) *apptest.Response {
	t.Helper()
	return srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": email, "password": pw}, headers...)
}

// checkRateLimited asserts a complete 429 answer and returns Retry-After.
func checkRateLimited(t *testing.T, r *apptest.Response) int {
	t.Helper()
	if r.Status != 429 {
		t.Fatalf("status %d, want 429: %s", r.Status, r.Body)
	}
	if code := r.String(t, "code"); code != "rate_limited" {
		t.Errorf("code %q, want rate_limited", code)
	}
	retry, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || retry < 1 {
		t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	if p := r.Header.Get("RateLimit-Policy"); !strings.Contains(p, ";q=") || !strings.Contains(p, ";w=") {
		t.Errorf("RateLimit-Policy %q", p)
	}
	if l := r.Header.Get("RateLimit"); !strings.Contains(l, ";r=") || !strings.Contains(l, ";t=") {
		t.Errorf("RateLimit %q", l)
	}
	return retry
}

// auditEvents reads the audit log of a SQLite-backed instance.
func auditEvents(t *testing.T, srv *apptest.Instance, typ string) []latchkey.AuditEvent {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(srv.DataDir, "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var all []latchkey.AuditEvent
	cursor := ""
	for {
		page, next, err := db.ListAudit(ctx, latchkey.AuditFilter{Type: typ, Page: latchkey.Page{Cursor: cursor, Limit: 100}})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" {
			return all
		}
		cursor = next
	}
}

// waitFor polls cond every 100 ms until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within %s", what, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freePort returns a loopback port nobody listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	_, port, _ := net.SplitHostPort(freeAddr(t))
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// ownRedis starts a private redis-server on port and returns a stop func.
func ownRedis(t *testing.T, port int) (stop func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if testenv.Required() {
			t.Fatal("redis-server is not installed")
		}
		t.Skip("redis-server is not installed")
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(stop)
	waitFor(t, 10*time.Second, "redis-server start", func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return stop
}

func redisURL(t *testing.T) string { return testenv.Redis(t) }
