package ratelimit

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/latchkey/latchkey/internal/testenv"
)

// newTestRedis connects to the shared test Redis and returns a random key
// prefix; everything under it is deleted when the test ends.
func newTestRedis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	opt, err := redis.ParseURL(testenv.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opt)
	prefix := "latchkey-test:" + rand.Text() + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
		client.Close()
	})
	return client, prefix
}

func TestRedis(t *testing.T) {
	t.Parallel()
	runSuite(t, harness{
		newStore: func(t *testing.T, opts ...Option) Store {
			client, prefix := newTestRedis(t)
			return NewRedis(client, prefix, opts...)
		},
	})
}

func TestRedisKeysExpire(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client, prefix := newTestRedis(t)
	s := NewRedis(client, prefix)
	if _, err := s.Allow(ctx, Defaults().LoginIP, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fail(ctx, "acct"); err != nil {
		t.Fatal(err)
	}
	keys, err := client.Keys(ctx, prefix+"*").Result()
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys = %v, %v; want 2", keys, err)
	}
	for _, k := range keys {
		if ttl, err := client.PTTL(ctx, k).Result(); err != nil || ttl <= 0 {
			t.Errorf("key %s has TTL %s, %v; want one", k, ttl, err)
		}
	}
}
