package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/latchkey/latchkey/internal/ratelimit"
)

// redisTimeout is short on purpose: while Redis is down every limited
// request would otherwise wait this long before falling back to memory.
const redisTimeout = 250 * time.Millisecond

// limits builds the rate limiter: in memory for a single instance, or Redis
// (shared by every instance) with an in-memory fallback that keeps limits
// enforced while Redis is unreachable.
type limits struct {
	store    ratelimit.Store // nil when rate limiting is disabled
	fallback *ratelimit.Fallback
	client   *redis.Client
}

func (c *components) buildLimits() error {
	if c.cfg.DisableRateLimits {
		c.log.Warn("rate limiting is disabled (--disable-rate-limits): use this for load tests only")
		return nil
	}
	backoff := ratelimit.WithBackoff(ratelimit.DefaultBackoff().Scaled(c.cfg.RateLimitScale))
	memory := ratelimit.NewMemory(c.clock, backoff)
	if c.cfg.Redis == "" {
		c.limits.store = memory
		return nil
	}
	opts, err := redis.ParseURL(c.cfg.Redis)
	if err != nil {
		return fmt.Errorf("invalid --redis: %v", err)
	}
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = redisTimeout, redisTimeout, redisTimeout
	opts.MaxRetries = 0
	c.limits.client = redis.NewClient(opts)
	healthy := prometheus.NewGauge(prometheus.GaugeOpts{Name: "latchkey_redis_healthy",
		Help: "1 while Redis answers; 0 while rate limits fall back to this instance's memory."})
	healthy.Set(1)
	c.metrics.Registry().MustRegister(healthy)
	c.limits.fallback = ratelimit.NewFallback(ratelimit.NewRedis(c.limits.client, c.cfg.RedisPrefix+"rl:", backoff), memory, c.log,
		func(ok bool) {
			if ok {
				healthy.Set(1)
			} else {
				healthy.Set(0)
			}
		})
	c.limits.store = c.limits.fallback
	return nil
}

// run starts the background probe that notices Redis coming back.
func (l *limits) run(ctx context.Context) {
	if l.fallback != nil {
		l.fallback.Run(ctx)
	}
}

// ready reports Redis trouble to /readyz.
func (l *limits) ready(context.Context) error {
	if l.fallback != nil && !l.fallback.Healthy() {
		return errors.New("redis unavailable: rate limits are enforced per instance until it returns")
	}
	return nil
}

func (l *limits) close() {
	if l.client != nil {
		_ = l.client.Close()
	}
}
