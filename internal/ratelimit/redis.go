package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Store shared by every instance that uses the same Redis and
// prefix. Each operation is one Lua script, so it is atomic; times come from
// Redis's own clock (TIME), so instances with skewed clocks agree. Every key
// expires when its state would no longer matter.
type Redis struct {
	client  redis.UniversalClient
	prefix  string
	backoff BackoffConfig
}

var _ Store = (*Redis)(nil)

// NewRedis returns a Store using client. Keys start with prefix (for example
// "latchkey:"), so that several deployments or tests can share one Redis.
func NewRedis(client redis.UniversalClient, prefix string, opts ...Option) *Redis {
	o := buildOptions(opts)
	return &Redis{client: client, prefix: prefix, backoff: o.backoff}
}

// Times in the scripts are integer microseconds: Lua numbers are doubles, and
// Unix time in microseconds (about 2^51) is still exact in a double, where
// nanoseconds would not be.
const luaNow = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
`

// allowScript: KEYS[1] holds the theoretical arrival time (µs).
// ARGV: interval µs, period µs. Returns {allowed, now, tat before}.
var allowScript = redis.NewScript(luaNow + `
local interval = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or 0
if tat < now then tat = now end
local newTat = tat + interval
if now < newTat - period then
  return {0, now, tat}
end
redis.call('SET', KEYS[1], string.format('%d', newTat), 'PX', math.ceil((newTat - now) / 1000))
return {1, now, tat}
`)

// Allow implements Limiter.
func (r *Redis) Allow(ctx context.Context, rule Rule, key string) (Decision, error) {
	if err := rule.Validate(); err != nil {
		return Decision{}, err
	}
	interval, period := rule.interval().Microseconds(), rule.Period.Microseconds()
	res, err := allowScript.Run(ctx, r.client, []string{r.prefix + "rl:" + rule.Name + ":" + key}, interval, period).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: redis allow %q: %w", rule.Name, err)
	}
	if len(res) != 3 {
		return Decision{}, fmt.Errorf("ratelimit: redis allow %q: unexpected reply %v", rule.Name, res)
	}
	d, _ := decide(res[1], res[2], interval, period, rule.Limit, time.Microsecond)
	if d.Allowed != (res[0] == 1) {
		return Decision{}, errors.New("ratelimit: redis allow: script and decide disagree")
	}
	return d, nil
}

// failScript: KEYS[1] is a hash {c: count, u: locked until µs}.
// ARGV: free failures, base lock µs, max lock µs, forget µs. Returns the lock µs.
var failScript = redis.NewScript(luaNow + `
local free = tonumber(ARGV[1])
local base = tonumber(ARGV[2])
local maxLock = tonumber(ARGV[3])
local forget = tonumber(ARGV[4])
local c = (tonumber(redis.call('HGET', KEYS[1], 'c')) or 0) + 1
local u = tonumber(redis.call('HGET', KEYS[1], 'u')) or 0
local lock = 0
if c > free then
  lock = base
  for i = 2, c - free do
    if lock >= maxLock then break end
    lock = lock * 2
  end
  if lock > maxLock then lock = maxLock end
end
if now + lock > u then u = now + lock end
redis.call('HSET', KEYS[1], 'c', c, 'u', string.format('%d', u))
local expires = now + forget
if u > expires then expires = u end
redis.call('PEXPIRE', KEYS[1], math.ceil((expires - now) / 1000))
if u > now then return u - now end
return 0
`)

// waitScript: KEYS[1] as for failScript. Returns the remaining lock µs.
var waitScript = redis.NewScript(luaNow + `
local u = tonumber(redis.call('HGET', KEYS[1], 'u')) or 0
if u > now then return u - now end
return 0
`)

func (r *Redis) failKey(key string) string { return r.prefix + "bo:" + key }

// Fail implements Backoff.
func (r *Redis) Fail(ctx context.Context, key string) (time.Duration, error) {
	c := r.backoff
	us, err := failScript.Run(ctx, r.client, []string{r.failKey(key)},
		c.FreeFailures, c.BaseLock.Microseconds(), c.MaxLock.Microseconds(), c.ForgetAfter.Microseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("ratelimit: redis backoff fail: %w", err)
	}
	return time.Duration(us) * time.Microsecond, nil
}

// Wait implements Backoff.
func (r *Redis) Wait(ctx context.Context, key string) (time.Duration, error) {
	us, err := waitScript.Run(ctx, r.client, []string{r.failKey(key)}).Int64()
	if err != nil {
		return 0, fmt.Errorf("ratelimit: redis backoff wait: %w", err)
	}
	return time.Duration(us) * time.Microsecond, nil
}

// Reset implements Backoff.
func (r *Redis) Reset(ctx context.Context, key string) error {
	if err := r.client.Del(ctx, r.failKey(key)).Err(); err != nil {
		return fmt.Errorf("ratelimit: redis backoff reset: %w", err)
	}
	return nil
}

// Ping implements Store.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ratelimit: redis ping: %w", err)
	}
	return nil
}
