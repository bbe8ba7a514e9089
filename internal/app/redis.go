package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchkey/latchkey/internal/config"
)

// redisTimeout is short on purpose: while Redis is down every limited
// request would otherwise wait this long before falling back to memory.
const redisTimeout = 250 * time.Millisecond

// redisStartTimeout bounds the check of Redis at start.
const redisStartTimeout = 2 * time.Second

// newRedisClient returns a client for --redis (checked by config). It
// does not dial: go-redis connects on the first command.
func newRedisClient(cfg *config.Config, readTimeout time.Duration) (*redis.Client, error) {
	opts, err := redis.ParseURL(cfg.Redis)
	if err != nil {
		return nil, fmt.Errorf("invalid --redis: %v", err)
	}
	opts.DialTimeout, opts.WriteTimeout = redisTimeout, redisTimeout
	if readTimeout != 0 {
		opts.ReadTimeout = readTimeout
	}
	// No retries, of commands or of dials (go-redis dials five times by
	// default): a request must not wait for a Redis that is down.
	opts.MaxRetries, opts.DialerRetries = 0, 1
	return redis.NewClient(opts), nil
}

// checkRedis pings Redis once at start. A URL that cannot work — a host
// that does not resolve, a password or database Redis refuses, TLS that
// does not fit — stops the start with one line. A Redis that does not
// answer is an outage, not a mistake: the server starts, says so in its
// log, and /readyz and latchkey_redis_healthy report it until Redis is back.
func checkRedis(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	if cfg.Redis == "" {
		return nil
	}
	client, err := newRedisClient(cfg, redisTimeout)
	if err != nil {
		return err
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(ctx, redisStartTimeout)
	defer cancel()
	err = client.Ping(ctx).Err()
	if err == nil {
		return nil
	}
	var dnsErr *net.DNSError
	var replyErr redis.Error
	var recordErr tls.RecordHeaderError
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &dnsErr) || errors.As(err, &replyErr) || errors.As(err, &recordErr) || errors.As(err, &certErr) {
		return fmt.Errorf("invalid --redis: %s: %v", redisAddr(cfg), err)
	}
	log.Error("redis does not answer at start: rate limits are enforced per instance and session and API-key caching is off until it does",
		"redis", redisAddr(cfg), "err", err)
	return nil
}

// redisAddr is where --redis points, without the password.
func redisAddr(cfg *config.Config) string {
	if opts, err := redis.ParseURL(cfg.Redis); err == nil {
		return opts.Addr
	}
	return "?"
}

// redisLog receives go-redis's own log lines, which it writes to one
// package-wide logger (by default, plain text on stderr, which would break
// the JSON log). They go to the log of the server started last, at debug
// level: latchkey reports Redis outages itself, once each, as warnings.
type redisLog struct{ to atomic.Pointer[slog.Logger] }

var redisLogger redisLog

func init() { redis.SetLogger(&redisLogger) }

func (l *redisLog) Printf(ctx context.Context, format string, v ...any) {
	if log := l.to.Load(); log != nil {
		log.DebugContext(ctx, "redis client", "detail", fmt.Sprintf(format, v...))
	}
}
