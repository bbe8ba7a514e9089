package ratelimit

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// Run with: go test -run '^$' -bench Allow ./internal/ratelimit/
func BenchmarkMemoryAllow(b *testing.B) {
	benchAllow(b, NewMemory(time.Now))
}

func BenchmarkRedisAllow(b *testing.B) {
	client, prefix := newTestRedis(b)
	benchAllow(b, NewRedis(client, prefix))
}

func BenchmarkFallbackAllow(b *testing.B) {
	client, prefix := newTestRedis(b)
	benchAllow(b, NewFallback(NewRedis(client, prefix), NewMemory(time.Now), nil, nil))
}

// benchAllow spreads parallel requests over 10 000 keys, as many client IPs.
func benchAllow(b *testing.B, l Limiter) {
	rule := Rule{Name: "bench", Limit: 1000, Period: time.Second}
	keys := make([]string, 10_000)
	for i := range keys {
		keys[i] = "198.51." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := l.Allow(ctx, rule, keys[i%len(keys)]); err != nil {
				b.Fatal(err)
			}
			i += 7
		}
	})
}
