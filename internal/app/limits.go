package app

import (
	"context"
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/latchkey/latchkey/internal/ratelimit"
)

// limits builds the rate limiter: in memory for a single instance, or Redis
// (shared by every instance) with an in-memory fallback that keeps limits
// enforced while Redis is unreachable.
type limits struct {
	store    ratelimit.Store // nil when rate limiting is disabled
	fallback *ratelimit.Fallback
	client   *redis.Client
}

func (c *components) buildLimits() error {
	if c.hooks.DisableRateLimits {
		c.log.Warn("rate limiting is disabled: a test or load-test build asked for it")
		return nil
	}
	backoff := ratelimit.WithBackoff(ratelimit.DefaultBackoff().Scaled(c.hooks.scale()))
	memory := ratelimit.NewMemory(c.clock, backoff)
	if c.cfg.Redis == "" {
		c.limits.store = memory
		return nil
	}
	client, err := newRedisClient(c.cfg, redisTimeout)
	if err != nil {
		return err
	}
	c.limits.client = client
	c.limits.fallback = ratelimit.NewFallback(ratelimit.NewRedis(client, c.cfg.RedisPrefix+"rl:", backoff), memory, c.log, nil)
	c.limits.store = c.limits.fallback
	return nil
}

// registerRedisGauge publishes latchkey_redis_healthy, read when scraped:
// 1 while both the rate limiter and the revocation channel reach Redis.
// The channel pings Redis every second even when no request comes, so
// the gauge drops without waiting for traffic.
func (c *components) registerRedisGauge() {
	if c.cfg.Redis == "" {
		return
	}
	c.metrics.Registry().MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "latchkey_redis_healthy",
		Help: "1 while Redis answers; 0 while rate limits fall back to this instance's memory or revocations are not shared."},
		func() float64 {
			if c.limits.healthy() && c.rev.up.Load() {
				return 1
			}
			return 0
		}))
}

// run starts the background probe that notices Redis coming back.
func (l *limits) run(ctx context.Context) {
	if l.fallback != nil {
		l.fallback.Run(ctx)
	}
}

func (l *limits) healthy() bool { return l.fallback == nil || l.fallback.Healthy() }

// ready reports Redis trouble to /readyz.
func (l *limits) ready(context.Context) error {
	if !l.healthy() {
		return errors.New("unavailable: rate limits are enforced per instance until it returns")
	}
	return nil
}

func (l *limits) close() {
	if l.client != nil {
		_ = l.client.Close()
	}
}
