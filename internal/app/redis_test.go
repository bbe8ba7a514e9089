package app

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/config"
)

// go-redis writes its own lines to one package-wide logger, by default as
// plain text on stderr, which would break the JSON log. They reach the
// server's log instead, at debug level. (Not parallel: the logger is
// package-wide.)
func TestRedisClientLinesGoToTheLog(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // a port where nothing answers

	var buf bytes.Buffer
	old := redisLogger.to.Swap(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer redisLogger.to.Store(old)
	client, err := newRedisClient(&config.Config{Redis: "redis://" + addr + "/0"}, redisTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if client.Ping(context.Background()).Err() == nil {
		t.Fatal("ping to a closed port succeeded")
	}
	out := buf.String()
	if !strings.Contains(out, `"level":"DEBUG","msg":"redis client"`) || !strings.Contains(out, "failed to dial") {
		t.Errorf("go-redis's line did not reach the log as JSON:\n%s", out)
	}
}
