package app

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchkey/latchkey/internal/apikey"
	"github.com/latchkey/latchkey/internal/auth"
)

// The revocation channel (<--redis-prefix>revocations, by default
// "latchkey:revocations") carries revocations between instances. A message
// is "<kind>:<id>[,<id>…]" with kind s (sessions), k (API keys) or u (a
// user changed). Ids are opaque identifiers, never secrets.

// revocations keeps this instance's caches honest: it empties them at
// once on a local revocation, publishes the revocation for the other
// instances, and applies theirs. The database stays the truth; the caches
// only save reads. While the subscription is down (or was never up) the
// caches are switched off, so that a revocation this instance could miss
// is still refused at once: fail closed.
type revocations struct {
	publisher
	sessions *auth.SessionCache
	keys     *apikey.Verifier
	up       atomic.Bool
}

// publisher tells the other instances about revocations (the command line
// uses it too, so that running servers drop what they cached at once).
type publisher struct {
	client  *redis.Client // nil without --redis
	channel string
	log     *slog.Logger
}

func newRevocations(sessions *auth.SessionCache, keys *apikey.Verifier, client *redis.Client, channel string, log *slog.Logger) *revocations {
	r := &revocations{publisher: publisher{client: client, channel: channel, log: log}, sessions: sessions, keys: keys}
	if client != nil {
		r.setUp(false) // until the subscription is confirmed
	}
	return r
}

func (r *revocations) sessionsRevoked(ids []string) {
	r.sessions.InvalidateSessions(ids)
	r.publish("s", ids)
}

func (r *revocations) apiKeysRevoked(ids []string) {
	for _, id := range ids {
		r.keys.Invalidate(id)
	}
	r.publish("k", ids)
}

func (r *revocations) userChanged(id string) {
	r.keys.InvalidateUser(id)
	r.sessions.InvalidateUser(id)
	r.publish("u", []string{id})
}

func (p publisher) publish(kind string, ids []string) {
	if p.client == nil || len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), redisTimeout)
	defer cancel()
	if err := p.client.Publish(ctx, p.channel, kind+":"+strings.Join(ids, ",")).Err(); err != nil {
		// The revocation is committed; instances that missed it have
		// lost their subscription too and cache nothing meanwhile.
		p.log.Warn("publishing a revocation failed", "kind", kind, "err", err)
	}
}

// apply handles a message from another instance (or this one: harmless).
func (r *revocations) apply(payload string) {
	kind, list, ok := strings.Cut(payload, ":")
	if !ok || list == "" {
		return
	}
	ids := strings.Split(list, ",")
	switch kind {
	case "s":
		r.sessions.InvalidateSessions(ids)
	case "k":
		for _, id := range ids {
			r.keys.Invalidate(id)
		}
	case "u":
		for _, id := range ids {
			r.keys.InvalidateUser(id)
			r.sessions.InvalidateUser(id)
		}
	}
}

func (r *revocations) setUp(up bool) {
	was := r.up.Swap(up)
	r.sessions.Enable(up)
	r.keys.PauseCache(!up)
	if was != up && r.client != nil {
		if up {
			r.log.Info("revocation channel up: session and API-key caching on")
		} else {
			r.log.Warn("revocation channel down: session and API-key caching off until it returns")
		}
	}
}

// run subscribes and applies revocations until ctx ends. go-redis
// reconnects and resubscribes by itself after an error; every confirmed
// (re)subscription starts from empty caches, since messages published
// meanwhile are lost.
func (r *revocations) run(ctx context.Context) {
	if r.client == nil {
		return
	}
	ps := r.client.Subscribe(ctx, r.channel)
	defer ps.Close()
	for ctx.Err() == nil {
		msg, err := ps.ReceiveTimeout(ctx, time.Second)
		if err != nil {
			var netErr interface{ Timeout() bool }
			if errors.As(err, &netErr) && netErr.Timeout() {
				// Quiet channel: make sure the connection is still alive.
				pctx, cancel := context.WithTimeout(ctx, redisTimeout)
				err = ps.Ping(pctx)
				cancel()
				if err == nil {
					continue
				}
			}
			if ctx.Err() != nil {
				return
			}
			r.setUp(false)
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				r.setUp(true) // setUp emptied the caches when it went down
			}
		case *redis.Message:
			r.apply(m.Payload)
		}
	}
}

// awaitUp waits a little for the first subscription, so that an instance
// whose Redis is healthy is ready as soon as it says it is listening. If
// Redis does not answer in time, the server starts anyway with caching off
// and /readyz saying why.
func (r *revocations) awaitUp(ctx context.Context, limit time.Duration) {
	if r.client == nil {
		return
	}
	deadline := time.Now().Add(limit)
	for !r.up.Load() && ctx.Err() == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// ready reports a lost revocation channel to /readyz.
func (r *revocations) ready(context.Context) error {
	if r.client != nil && !r.up.Load() {
		return errors.New("unavailable: revocations are not shared, so sessions and API keys are read from the database on every request")
	}
	return nil
}

// buildRevocations connects the caches to the revocation channel. Without
// Redis, a SQLite server is one instance and caches freely; a PostgreSQL
// one may have siblings it cannot hear, so it caches no sessions.
func (c *components) buildRevocations(sessions *auth.SessionCache) error {
	var client *redis.Client
	if c.cfg.Redis != "" {
		var err error
		if client, err = newRedisClient(c.cfg, 0); err != nil {
			return err
		}
	}
	c.rev = newRevocations(sessions, c.apiKeys, client, c.cfg.RedisPrefix+"revocations", c.log)
	if client == nil && (strings.HasPrefix(c.cfg.Database, "postgres://") || strings.HasPrefix(c.cfg.Database, "postgresql://")) {
		sessions.Enable(false)
	}
	return nil
}
