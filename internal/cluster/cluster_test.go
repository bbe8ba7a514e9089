// Package cluster_test runs three latchkey processes on one PostgreSQL
// schema and one Redis, and checks over HTTP that they behave as one
// server: revocations, rate limits, key rotation and refresh rotation are
// shared.
package cluster_test

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/internal/testenv"
)

// propagation is how soon a change on one instance must show on the others.
const propagation = time.Second

const goodPassword = "correct horse battery staple"

type cluster struct {
	bin, dataDir, dsn string
	nodes             []*apptest.Instance
}

func TestThreeInstancesActAsOne(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts three servers")
	}
	c := startCluster(t, 3)
	t.Run("logout", c.logoutIsSeenEverywhere)
	t.Run("api key revocation", c.apiKeyRevocationIsSeenEverywhere)
	t.Run("rate limits", c.rateLimitsAreShared)
	t.Run("key rotation", c.keyRotationIsSeenEverywhere)
	t.Run("concurrent refresh", c.concurrentRefreshHasOneWinner)
}

func startCluster(t *testing.T, n int) *cluster {
	redisURL := testenv.Redis(t)
	c := &cluster{dataDir: t.TempDir(), dsn: testenv.PostgresSchema(t)}
	c.bin = filepath.Join(t.TempDir(), "latchkey")
	build := exec.Command("go", "build", "-o", c.bin, "github.com/latchkey/latchkey/cmd/latchkey")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", c.dataDir, "--database", c.dsn,
		"--redis", redisURL, "--redis-prefix", "lk-cluster-" + strings.ToLower(rand.Text()[:10]) + ":", "--issuer", "http://127.0.0.1:9",
		"--trusted-proxies", "127.0.0.1/32", "--key-reload-interval", "200ms", "--refresh-reuse-grace", "0s",
		"--log-level", "warn"}, apptest.FastHashing...)
	// One after another: the first migrates the schema and writes the
	// master key the others share (as a shared secret volume would).
	for i := range n {
		c.nodes = append(c.nodes, c.start(t, i, args))
	}
	for _, node := range c.nodes {
		waitReady(t, node)
	}
	return c
}

func (c *cluster) start(t *testing.T, i int, args []string) *apptest.Instance {
	t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Env = cleanEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &strings.Builder{}
	var mu sync.Mutex
	cmd.Stderr = writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logs.Write(p) })
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			mu.Lock()
			t.Logf("instance %d logs:\n%s", i, logs.String())
			mu.Unlock()
		}
	})
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "latchkey listening on "); ok {
				urlc <- u
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case u := <-urlc:
		return &apptest.Instance{URL: u, DataDir: c.dataDir, Client: &http.Client{Timeout: 10 * time.Second}}
	case <-time.After(30 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("instance %d did not start:\n%s", i, logs.String())
	}
	return nil
}

// waitReady waits until the instance's revocation channel is up.
func waitReady(t *testing.T, n *apptest.Instance) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if n.Do(t, "GET", "/readyz", nil).Status == 200 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never became ready", n.URL)
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LATCHKEY_") {
			env = append(env, kv)
		}
	}
	return env
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// clientIP returns headers that make the request come from a fresh
// documentation address, so that rate-limit counters are this test's own
// even on a Redis that other tests share.
func clientIP() []string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return []string{"X-Forwarded-For", fmt.Sprintf("198.51.%d.%d", b[0], b[1]%250+1)}
}

func randomEmail() string {
	return "c-" + rand.Text()[:12] + "@example.com"
}

func (c *cluster) signup(t *testing.T, on int, ip []string) map[string]any {
	t.Helper()
	r := c.nodes[on].Do(t, "POST", "/v1/auth/signup", map[string]string{"email": randomEmail(), "password": goodPassword}, ip...)
	if r.Status != http.StatusCreated {
		t.Fatalf("signup on %d: %d %s", on, r.Status, r.Body)
	}
	return r.JSON(t)
}

func bearer(tok any, ip []string) []string {
	return append([]string{"Authorization", "Bearer " + fmt.Sprint(tok)}, ip...)
}

// refusedEverywhere polls every other instance until req is refused with
// 401 on all of them, and fails if that takes longer than propagation.
func (c *cluster) refusedEverywhere(t *testing.T, except int, what string, headers []string) {
	t.Helper()
	deadline := time.Now().Add(propagation)
	for i, n := range c.nodes {
		if i == except {
			continue
		}
		for {
			st := n.Do(t, "GET", "/v1/me", nil, headers...).Status
			if st == http.StatusUnauthorized {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s on instance %d still accepted after %s (status %d)", what, i, propagation, st)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func (c *cluster) acceptedEverywhere(t *testing.T, headers []string) {
	t.Helper()
	for i, n := range c.nodes {
		// Twice: the second answer may come from the instance's caches.
		for range 2 {
			if r := n.Do(t, "GET", "/v1/me", nil, headers...); r.Status != 200 {
				t.Fatalf("instance %d refused a good credential: %d %s", i, r.Status, r.Body)
			}
		}
	}
}

func (c *cluster) logoutIsSeenEverywhere(t *testing.T) {
	ip := clientIP()
	tok := c.signup(t, 0, ip)
	auth := bearer(tok["access_token"], ip)
	c.acceptedEverywhere(t, auth)
	if r := c.nodes[0].Do(t, "POST", "/v1/auth/logout", map[string]string{"scope": "local"}, auth...); r.Status != 204 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	c.refusedEverywhere(t, 0, "a logged-out access token", auth)
}

func (c *cluster) apiKeyRevocationIsSeenEverywhere(t *testing.T) {
	ip := clientIP()
	tok := c.signup(t, 1, ip)
	auth := bearer(tok["access_token"], ip)
	r := c.nodes[1].Do(t, "POST", "/v1/api-keys", map[string]any{"name": "cluster"}, auth...)
	if r.Status != 201 {
		t.Fatalf("create key: %d %s", r.Status, r.Body)
	}
	key := r.JSON(t)
	keyAuth := append([]string{"X-API-Key", fmt.Sprint(key["key"])}, ip...)
	c.acceptedEverywhere(t, keyAuth)
	if r := c.nodes[1].Do(t, "DELETE", "/v1/api-keys/"+fmt.Sprint(key["id"]), nil, auth...); r.Status != 204 {
		t.Fatalf("revoke key: %d %s", r.Status, r.Body)
	}
	c.refusedEverywhere(t, 1, "a revoked API key", keyAuth)
}

// Sign-ups from one address are limited per address (10 an hour by
// default); spread over three instances they still meet one limit.
func (c *cluster) rateLimitsAreShared(t *testing.T) {
	ip := clientIP()
	created, limited := 0, 0
	for i := range 15 {
		r := c.nodes[i%3].Do(t, "POST", "/v1/auth/signup", map[string]string{"email": randomEmail(), "password": goodPassword}, ip...)
		switch r.Status {
		case http.StatusCreated:
			created++
		case http.StatusTooManyRequests:
			limited++
		default:
			t.Fatalf("signup: %d %s", r.Status, r.Body)
		}
	}
	if created != 10 || limited != 5 {
		t.Fatalf("15 sign-ups from one address over three instances: %d created, %d limited; want 10 and 5", created, limited)
	}
}

func (c *cluster) keyRotationIsSeenEverywhere(t *testing.T) {
	cmd := exec.Command(c.bin, "keys", "rotate", "--data-dir", c.dataDir, "--database", c.dsn)
	cmd.Env = cleanEnv()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("keys rotate: %v\n%s", err, out)
	}
	// The key that now signs, and the new next key published beside it.
	var kid, next string
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "rotated: "); ok {
			kid, _, _ = strings.Cut(rest, " ")
		}
		if f := strings.Fields(line); len(f) >= 3 && f[2] == "next" {
			next = f[0]
		}
	}
	if kid == "" || next == "" {
		t.Fatalf("keys rotate said %q", out)
	}
	deadline := time.Now().Add(5 * time.Second)
	for i, n := range c.nodes {
		for !strings.Contains(string(n.Do(t, "GET", "/.well-known/jwks.json", nil).Body), `"`+next+`"`) {
			if time.Now().After(deadline) {
				t.Fatalf("instance %d never published the new next key %s", i, next)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// Tokens signed with the new key, by one instance, pass on the others.
	ip := clientIP()
	for !strings.Contains(headerOf(t, c.signup(t, 2, ip)["access_token"]), kid) {
		if time.Now().After(deadline) {
			t.Fatalf("instance 2 never signed with the rotated key %s", kid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.acceptedEverywhere(t, bearer(c.signup(t, 2, clientIP())["access_token"], ip))
}

// headerOf decodes a token's header segment as text.
func headerOf(t *testing.T, tok any) string {
	t.Helper()
	h, _, _ := strings.Cut(fmt.Sprint(tok), ".")
	b, err := base64URL(h)
	if err != nil {
		t.Fatalf("token header: %v", err)
	}
	return string(b)
}

func (c *cluster) concurrentRefreshHasOneWinner(t *testing.T) {
	ip := clientIP()
	tok := c.signup(t, 0, ip)
	const n = 24
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			statuses[i] = c.nodes[i%3].Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": tok["refresh_token"]}, ip...).Status
		})
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		if s == 200 {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent refreshes over three instances succeeded, want exactly 1 (%v)", ok, n, statuses)
	}
}

func base64URL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

// With the revocation channel down, instances cache no sessions or keys:
// a logout on one is refused on the other at once, and /readyz says why.
func TestRevocationChannelDownFailsClosed(t *testing.T) {
	dsn := testenv.PostgresSchema(t)
	dir := t.TempDir()
	dead := []string{"--database", dsn, "--redis", "redis://127.0.0.1:1/0", "--issuer", "http://127.0.0.1:9"}
	a := apptest.StartIn(t, dir, dead...)
	b := apptest.StartIn(t, dir, dead...)
	for _, n := range []*apptest.Instance{a, b} {
		if r := n.Do(t, "GET", "/readyz", nil); r.Status != http.StatusServiceUnavailable {
			t.Fatalf("/readyz with Redis unreachable: %d %s", r.Status, r.Body)
		}
	}
	c := &cluster{nodes: []*apptest.Instance{a, b}}
	tok := c.signup(t, 0, nil)
	auth := bearer(tok["access_token"], nil)
	c.acceptedEverywhere(t, auth)
	if r := a.Do(t, "POST", "/v1/auth/logout", map[string]string{"scope": "local"}, auth...); r.Status != 204 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	if st := b.Do(t, "GET", "/v1/me", nil, auth...).Status; st != http.StatusUnauthorized {
		t.Fatalf("a logged-out token on the other instance, channel down: %d, want 401 at once", st)
	}
}
