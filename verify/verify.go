package verify

import (
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/latchkey/latchkey/internal/jwtcheck"
)

// Config configures a Verifier. Only Issuer is required.
type Config struct {
	// Issuer is latchkey's base URL, exactly as it appears in the iss claim
	// (for example "http://127.0.0.1:8080").
	Issuer string
	// Audience must appear in every access token's aud claim (default "latchkey").
	Audience string
	// JWKSURL defaults to Issuer + "/.well-known/jwks.json".
	JWKSURL string
	// IntrospectionURL defaults to Issuer + "/v1/introspect".
	IntrospectionURL string
	// IntrospectionKey is this service's own latchkey API key, holding the
	// scope "introspect". Without it, API keys are refused.
	IntrospectionKey string
	// HTTPClient is used for the JWKS and introspection (default: a client
	// with a 10 s timeout).
	HTTPClient *http.Client
	// JWKSRefreshInterval is how old the cached JWKS may grow before it is
	// fetched again (default 10 min).
	JWKSRefreshInterval time.Duration
	// UnknownKIDMinInterval is the least time between two JWKS fetches
	// (default 30 s): an unknown kid triggers at most one fetch per interval.
	UnknownKIDMinInterval time.Duration
	// Leeway tolerates clock skew on exp, nbf and iat (default 30 s).
	Leeway time.Duration
	// APIKeyCacheTTL is how long an introspection answer is reused
	// (default 10 s); a revoked key may keep working this long.
	APIKeyCacheTTL time.Duration
	// TokenCacheSize bounds the caches of verified tokens and of API-key
	// answers (default 4096 entries each; negative disables caching).
	TokenCacheSize int
	// Clock returns the current time (default time.Now).
	Clock func() time.Time
	// Logger receives operator detail about refusals and issuer failures
	// (default: discarded). Credentials are never logged.
	Logger *slog.Logger
}

// Verifier authenticates requests carrying latchkey credentials. It is safe
// for concurrent use.
type Verifier struct {
	cfg   Config
	check *jwtcheck.Checker // shared with latchkey's own verifier

	keys        atomic.Pointer[keySet]
	fetchMu     sync.Mutex
	lastAttempt time.Time // guarded by fetchMu
	fetches     atomic.Int64

	tokens  *cache[string, tokenEntry]
	apiKeys *cache[[sha256.Size]byte, apiKeyEntry]
}

// New returns a Verifier for cfg. It does no I/O: the JWKS is fetched on
// first use.
func New(cfg Config) (*Verifier, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("verify: Config.Issuer is required")
	}
	if cfg.Audience == "" {
		cfg.Audience = "latchkey"
	}
	base := strings.TrimSuffix(cfg.Issuer, "/")
	if cfg.JWKSURL == "" {
		cfg.JWKSURL = base + "/.well-known/jwks.json"
	}
	if cfg.IntrospectionURL == "" {
		cfg.IntrospectionURL = base + "/v1/introspect"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.JWKSRefreshInterval <= 0 {
		cfg.JWKSRefreshInterval = 10 * time.Minute
	}
	if cfg.UnknownKIDMinInterval <= 0 {
		cfg.UnknownKIDMinInterval = 30 * time.Second
	}
	if cfg.Leeway <= 0 {
		cfg.Leeway = 30 * time.Second
	}
	if cfg.APIKeyCacheTTL <= 0 {
		cfg.APIKeyCacheTTL = 10 * time.Second
	}
	if cfg.TokenCacheSize == 0 {
		cfg.TokenCacheSize = 4096
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	v := &Verifier{cfg: cfg, check: jwtcheck.New(jwtcheck.Config{
		Issuer:        cfg.Issuer,
		Audience:      cfg.Audience,
		Leeway:        cfg.Leeway,
		Skew:          cfg.Leeway,
		Clock:         cfg.Clock,
		AudienceArray: true,
	})}
	if cfg.TokenCacheSize > 0 {
		v.tokens = newCache[string, tokenEntry](cfg.TokenCacheSize)
		v.apiKeys = newCache[[sha256.Size]byte, apiKeyEntry](cfg.TokenCacheSize)
	}
	return v, nil
}

// Authenticate checks the credentials of r: an access token or API key in
// "Authorization: Bearer", or an API key in "X-API-Key". Credentials in the
// URL or the body are never looked at. The error wraps one of the Err*
// values; its Status and Code say how to answer.
func (v *Verifier) Authenticate(r *http.Request) (*Identity, error) {
	cred, err := credentials(r.Header)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(cred, apiKeyPrefix) {
		return v.verifyAPIKey(r.Context(), cred)
	}
	return v.verifyToken(r.Context(), cred)
}

// credentials extracts the one credential a request carries.
func credentials(h http.Header) (string, error) {
	authz := h.Values("Authorization")
	apiKey := h.Values("X-API-Key")
	switch {
	case len(authz) == 0 && len(apiKey) == 0:
		return "", ErrNoCredentials
	case len(authz)+len(apiKey) > 1:
		return "", refuse(ErrInvalidRequest, "more than one credential", nil)
	case len(apiKey) == 1:
		if !strings.HasPrefix(apiKey[0], apiKeyPrefix) {
			return "", refuse(ErrInvalidAPIKey, "X-API-Key is not a latchkey API key", nil)
		}
		return apiKey[0], nil
	}
	scheme, cred, ok := strings.Cut(authz[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		// An unsupported scheme counts as no credentials (RFC 6750 §3.1).
		return "", ErrNoCredentials
	}
	cred = strings.TrimLeft(cred, " ")
	if cred == "" {
		return "", ErrNoCredentials
	}
	return cred, nil
}
