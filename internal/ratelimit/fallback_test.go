package ratelimit

import (
	"context"
	"log/slog"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchkey/latchkey/internal/testenv"
)

// redisProcess is a redis-server of this test's own, so that it can be
// stopped and started again.
type redisProcess struct {
	t    *testing.T
	port int
	cmd  *exec.Cmd
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startRedis(t *testing.T, port int) *redisProcess {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	p := &redisProcess{t: t, port: port}
	p.cmd = exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.stop)
	c := redis.NewClient(&redis.Options{Addr: p.addr(), MaxRetries: -1})
	defer c.Close()
	for i := 0; c.Ping(context.Background()).Err() != nil; i++ {
		if i > 500 {
			t.Fatal("redis-server did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return p
}

func (p *redisProcess) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)) }

func (p *redisProcess) stop() {
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Kill()
	p.cmd.Wait()
}

func TestFallbackSurvivesRedisOutage(t *testing.T) {
	ctx := context.Background()
	srv := startRedis(t, freePort(t))
	client := redis.NewClient(&redis.Options{
		Addr: srv.addr(), MaxRetries: -1,
		DialTimeout: 200 * time.Millisecond, ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond,
	})
	t.Cleanup(func() { client.Close() })

	var logs testenv.LogBuffer
	var mu sync.Mutex
	var changes []bool
	fb := NewFallback(NewRedis(client, "fb:"), NewMemory(time.Now), slog.New(slog.NewTextHandler(&logs, nil)),
		func(h bool) { mu.Lock(); changes = append(changes, h); mu.Unlock() },
		WithProbeInterval(50*time.Millisecond))
	rule := Rule{Name: "login", Limit: 3, Period: time.Hour}

	if d, err := fb.Allow(ctx, rule, "before"); err != nil || !d.Allowed || !fb.Healthy() {
		t.Fatalf("with Redis up: %+v, %v, healthy %v", d, err, fb.Healthy())
	}
	if n, _ := client.Exists(ctx, "fb:rl:login:before").Result(); n != 1 {
		t.Fatal("the decision was not made in Redis")
	}

	srv.stop()

	// Limits are still enforced, now from memory.
	for i := range 3 {
		if d, err := fb.Allow(ctx, rule, "during"); err != nil || !d.Allowed {
			t.Fatalf("request %d during the outage: %+v, %v; want allowed", i+1, d, err)
		}
	}
	if d, err := fb.Allow(ctx, rule, "during"); err != nil || d.Allowed {
		t.Fatalf("4th request during the outage: %+v, %v; want refused", d, err)
	}
	if fb.Healthy() {
		t.Fatal("Healthy() = true with Redis down")
	}
	// The back-off too.
	fb.Fail(ctx, "acct")
	for range DefaultBackoff().FreeFailures {
		fb.Fail(ctx, "acct")
	}
	if w, err := fb.Wait(ctx, "acct"); err != nil || w <= 0 {
		t.Fatalf("Wait during the outage = %s, %v; want a lock", w, err)
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Fatalf("%d error lines logged for one outage, want 1:\n%s", n, logs.String())
	}

	// Redis comes back on the same port; Run notices without any traffic.
	startRedis(t, srv.port)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { fb.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	for i := 0; !fb.Healthy(); i++ {
		if i > 1000 {
			t.Fatal("never healthy again after Redis came back")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if d, err := fb.Allow(ctx, rule, "after"); err != nil || !d.Allowed {
		t.Fatalf("after recovery: %+v, %v", d, err)
	}
	if n, _ := client.Exists(ctx, "fb:rl:login:after").Result(); n != 1 {
		t.Fatal("after recovery the decision was not made in Redis")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(changes) != 2 || changes[0] || !changes[1] {
		t.Fatalf("onChange calls = %v, want [false true]", changes)
	}
}

// TestFallbackProbesOnTraffic checks recovery without Run: a call after the
// probe interval tries Redis again.
func TestFallbackProbesOnTraffic(t *testing.T) {
	ctx := context.Background()
	port := freePort(t)
	client := redis.NewClient(&redis.Options{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), MaxRetries: -1,
		DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { client.Close() })
	clock := testenv.NewClock(t0)
	fb := NewFallback(NewRedis(client, "fb:"), NewMemory(clock.Now), slog.New(slog.DiscardHandler), nil,
		WithProbeInterval(time.Second), WithClock(clock.Now))
	rule := Rule{Name: "login", Limit: 1, Period: time.Hour}

	if d, err := fb.Allow(ctx, rule, "k"); err != nil || !d.Allowed || fb.Healthy() {
		t.Fatalf("with no Redis: %+v, %v, healthy %v; want allowed from memory, unhealthy", d, err, fb.Healthy())
	}
	startRedis(t, port)
	// Within the probe interval memory keeps answering (and refuses).
	if d, _ := fb.Allow(ctx, rule, "k"); d.Allowed || fb.Healthy() {
		t.Fatalf("before the probe interval: %+v, healthy %v", d, fb.Healthy())
	}
	clock.Advance(time.Second)
	if d, err := fb.Allow(ctx, rule, "k"); err != nil || !d.Allowed || !fb.Healthy() {
		t.Fatalf("after the probe interval: %+v, %v, healthy %v; want Redis again", d, err, fb.Healthy())
	}
}

func TestFallbackCancelledCallerIsNotAnOutage(t *testing.T) {
	client, prefix := newTestRedis(t)
	fb := NewFallback(NewRedis(client, prefix), NewMemory(time.Now), slog.New(slog.DiscardHandler), nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := fb.Allow(ctx, Rule{"x", 1, time.Second}, "k"); err == nil {
		t.Fatal("Allow with a cancelled context succeeded")
	}
	if !fb.Healthy() {
		t.Fatal("a cancelled caller marked Redis unhealthy")
	}
	if _, err := fb.Allow(context.Background(), Rule{"", 1, time.Second}, "k"); err == nil || !fb.Healthy() {
		t.Fatalf("a bad rule: err %v, healthy %v", err, fb.Healthy())
	}
}
