package app

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/apikey"
	"github.com/latchkey/latchkey/internal/server"
)

// events fans what the use cases report out to metrics and to the caches
// that must forget revoked credentials at once.
type events struct {
	metrics *server.Metrics
	rev     *revocations
}

func (e events) Login(outcome string)     { e.metrics.Login(outcome) }
func (e events) TokensIssued(kind string) { e.metrics.TokensIssued(kind) }
func (e events) Refresh(outcome string)   { e.metrics.Refresh(outcome) }
func (e events) SessionsRevoked(ids []string) {
	e.rev.sessionsRevoked(ids)
	e.metrics.SessionsRevoked(ids)
}

// SessionsChanged forgets cached copies here and on every other instance,
// as a revocation does, without counting one.
func (e events) SessionsChanged(ids []string) { e.rev.sessionsRevoked(ids) }

func (e events) APIKeysRevoked(ids []string) { e.rev.apiKeysRevoked(ids) }

func (e events) UserChanged(userID string) { e.rev.userChanged(userID) }

// countingKeyStore counts the API-key lookups that reach the database, so
// operators (and tests) can see that malformed keys and cache hits never do.
type countingKeyStore struct {
	apikey.Store
	lookups prometheus.Counter
}

func newCountingKeyStore(s apikey.Store, reg *prometheus.Registry) *countingKeyStore {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "latchkey_apikey_store_lookups_total",
		Help: "API-key verifications that had to read the database (cache misses of well-formed keys)."})
	reg.MustRegister(c)
	return &countingKeyStore{Store: s, lookups: c}
}

func (c *countingKeyStore) APIKeyByHash(ctx context.Context, hash []byte) (*latchkey.APIKey, error) {
	c.lookups.Inc()
	return c.Store.APIKeyByHash(ctx, hash)
}

var _ apikey.Store = (*countingKeyStore)(nil)
