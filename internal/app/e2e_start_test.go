package app_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/apptest"
)

// A --redis URL that cannot work stops the start with one line, before
// anything is created; a Redis that does not answer is an outage, which
// the server reports from its first second: in the log, on /readyz and in
// latchkey_redis_healthy — without waiting for a request.
func TestRedisAtStart(t *testing.T) {
	redis := redisURL(t)
	for name, url := range map[string]string{
		"malformed":          "redis://127.0.0.1:6379/notanumber",
		"database refused":   strings.TrimSuffix(strings.TrimRight(redis, "0123456789"), "/") + "/99",
		"no host":            "redis:///0",
		"not a redis:// URL": "http://127.0.0.1:6379",
	} {
		dir := t.TempDir() + "/latchkey-data"
		_, _, err := runCLI(t, "", "serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--redis", url)
		oneLine(t, name, err, "invalid --redis")
		mustNotExist(t, dir)
	}

	srv := apptest.Start(t, "--redis", fmt.Sprintf("redis://127.0.0.1:%d/0", freePort(t)))
	if m := srv.Do(t, "GET", "/metrics", nil); !strings.Contains(string(m.Body), "latchkey_redis_healthy 0") {
		t.Error("latchkey_redis_healthy is not 0 with Redis down since the start")
	}
	r := srv.Do(t, "GET", "/readyz", nil)
	checks, _ := r.JSON(t)["checks"].(map[string]any)
	if r.Status != 503 || !strings.HasPrefix(fmt.Sprint(checks["redis"]), "unavailable") || checks["database"] != "ok" {
		t.Errorf("readyz with Redis down: %d %s", r.Status, r.Body)
	}
	logs := srv.Logs()
	if !strings.Contains(logs, "redis does not answer at start") {
		t.Errorf("the start did not log Redis down:\n%s", logs)
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if !strings.HasPrefix(line, "{") {
			t.Errorf("a log line that is not JSON: %q", line)
		}
	}
}

// /readyz lists Redis and the database, healthy or not.
func TestReadyzListsEveryDependency(t *testing.T) {
	for name, c := range map[string]struct {
		args  []string
		redis string
	}{
		"without redis": {nil, "not configured"},
		"with redis":    {[]string{"--redis", redisURL(t), "--redis-prefix", redisPrefix()}, "ok"},
	} {
		srv := apptest.Start(t, c.args...)
		r := srv.Do(t, "GET", "/readyz", nil)
		checks, _ := r.JSON(t)["checks"].(map[string]any)
		if r.Status != 200 || checks["database"] != "ok" || checks["redis"] != c.redis {
			t.Errorf("%s: %d %s, want redis %q", name, r.Status, r.Body, c.redis)
		}
		if c.redis == "ok" {
			if m := srv.Do(t, "GET", "/metrics", nil); !strings.Contains(string(m.Body), "latchkey_redis_healthy 1") {
				t.Errorf("%s: latchkey_redis_healthy is not 1", name)
			}
		}
		// Every log line of the server is JSON: go-redis's own lines
		// included.
		for _, line := range strings.Split(strings.TrimSpace(srv.Logs()), "\n") {
			if !strings.HasPrefix(line, "{") {
				t.Errorf("%s: a log line that is not JSON: %q", name, line)
			}
		}
	}
}
