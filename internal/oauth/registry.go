package oauth

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
)

// Defaults for discovery; see WithRetryInterval.
const (
	discoveryTimeout       = 10 * time.Second
	defaultRetryInterval   = 30 * time.Second
	defaultUpstreamTimeout = 10 * time.Second
)

// Registry holds the configured providers. A provider whose OpenID Connect
// discovery failed stays in the registry and is discovered again on demand,
// at most once per retry interval, while the others keep working.
type Registry struct {
	ctx           context.Context // for lazy discovery; Provider has no ctx of its own
	client        *http.Client
	logger        *slog.Logger
	now           func() time.Time
	retryInterval time.Duration
	callbackBase  string
	entries       map[string]*entry
	names         []string
}

type entry struct {
	cfg ProviderConfig

	mu          sync.Mutex
	p           *Provider // nil until discovered
	discovering bool
	lastTry     time.Time
}

// Option adjusts a Registry.
type Option func(*Registry)

// WithClock sets the clock used for id_token expiry and discovery retries.
func WithClock(now func() time.Time) Option { return func(r *Registry) { r.now = now } }

// WithRetryInterval sets how long a failed discovery is left alone before
// the next request for that provider tries again.
func WithRetryInterval(d time.Duration) Option { return func(r *Registry) { r.retryInterval = d } }

// NewRegistry builds every provider of cfgs, discovering the OpenID Connect
// ones now (in parallel). The callback URL of provider n is
// callbackBase + "/v1/oauth/<n>/callback". client makes every upstream call;
// nil means a client with a 10 s timeout. ctx bounds lazy rediscovery too,
// so it should live as long as the server.
func NewRegistry(ctx context.Context, cfgs []ProviderConfig, callbackBase string, client *http.Client, logger *slog.Logger, opts ...Option) *Registry {
	if client == nil {
		client = &http.Client{Timeout: defaultUpstreamTimeout}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Registry{
		ctx:           ctx,
		client:        client,
		logger:        logger,
		now:           time.Now,
		retryInterval: defaultRetryInterval,
		callbackBase:  strings.TrimSuffix(callbackBase, "/"),
		entries:       make(map[string]*entry, len(cfgs)),
	}
	for _, o := range opts {
		o(r)
	}
	for _, c := range cfgs {
		r.entries[c.Name] = &entry{cfg: c}
		r.names = append(r.names, c.Name)
	}
	slices.Sort(r.names)

	var wg sync.WaitGroup
	for _, e := range r.entries {
		wg.Go(func() {
			e.mu.Lock()
			e.discovering = true
			e.mu.Unlock()
			r.discover(e)
		})
	}
	wg.Wait()
	return r
}

// CallbackURL is the redirect_uri registered with provider name.
func (r *Registry) CallbackURL(name string) string {
	return r.callbackBase + "/v1/oauth/" + name + "/callback"
}

// Names lists the configured providers, sorted, discovered or not: the
// login page shows one button each.
func (r *Registry) Names() []string { return slices.Clone(r.names) }

// Provider returns the named provider. Unknown names are ENotFound; a
// provider whose discovery has not yet succeeded is EUnavailable (and, once
// the retry interval has passed, this call tries discovery again).
func (r *Registry) Provider(name string) (*Provider, error) {
	e, ok := r.entries[name]
	if !ok {
		return nil, latchkey.Errorf(latchkey.ENotFound, "Unknown sign-in provider.")
	}
	e.mu.Lock()
	if e.p != nil {
		p := e.p
		e.mu.Unlock()
		return p, nil
	}
	retry := !e.discovering && !r.now().Before(e.lastTry.Add(r.retryInterval))
	if retry {
		e.discovering = true // one attempt at a time; the others are told to come back
	}
	e.mu.Unlock()
	if retry {
		if p := r.discover(e); p != nil {
			return p, nil
		}
	}
	return nil, latchkey.WrapError(latchkey.EUnavailable, "This sign-in provider is unavailable right now; please try again later.",
		fmt.Errorf("oauth: provider %q not discovered", name))
}

// AuthOrigin is the origin (scheme://host[:port]) of the named provider's
// authorization endpoint, or "" while it is unknown: an unknown name, or an
// OpenID Connect provider not yet discovered. It never starts a discovery,
// so a page can ask for it without waiting on a provider.
func (r *Registry) AuthOrigin(name string) string {
	e, ok := r.entries[name]
	if !ok {
		return ""
	}
	e.mu.Lock()
	p := e.p
	e.mu.Unlock()
	if p == nil {
		return ""
	}
	return p.AuthOrigin()
}

// discover builds e's provider; the caller has set e.discovering.
func (r *Registry) discover(e *entry) *Provider {
	ctx, cancel := context.WithTimeout(r.ctx, discoveryTimeout)
	defer cancel()
	p, err := newProvider(ctx, e.cfg, r.CallbackURL(e.cfg.Name), r.client, r.now)

	e.mu.Lock()
	defer e.mu.Unlock()
	e.discovering = false
	e.lastTry = r.now()
	if err != nil {
		r.logger.Warn("oauth provider discovery failed; it will be retried on demand",
			"provider", e.cfg.Name, "issuer", e.cfg.Issuer, "err", err)
		return nil
	}
	e.p = p
	return p
}
