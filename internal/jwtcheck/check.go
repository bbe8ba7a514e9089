package jwtcheck

import (
	"crypto"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// algorithms are the signature algorithms a key may be published for.
var algorithms = []string{"ES256", "EdDSA", "RS256"}

// Key is a verification key: the one algorithm it verifies, and its public
// half (*ecdsa.PublicKey, ed25519.PublicKey or *rsa.PublicKey).
type Key struct {
	Alg    string
	Public crypto.PublicKey
}

// Keys is where a Checker finds keys. Nothing in a token ever supplies a
// key or says where to fetch one.
type Keys interface {
	// KeyForHeader returns the key for a header segment that is byte for
	// byte one the issuer writes, and so needs no parsing (the hot path);
	// false for any other segment.
	KeyForHeader(seg string) (Key, bool)
	// KeyForKID returns the key a parsed header's kid names. Check returns
	// its error unchanged.
	KeyForKID(kid string) (Key, error)
}

// Config is what a Checker accepts.
type Config struct {
	// Issuer must equal the iss claim exactly; Audience must be its aud.
	Issuer, Audience string
	// Leeway is how long after its exp a token is still accepted: from
	// exp + Leeway on it is expired.
	Leeway time.Duration
	// Skew is how far in the future nbf and iat may lie (the larger of
	// Skew and Leeway applies).
	Skew time.Duration
	// Clock returns the current time.
	Clock func() time.Time
	// AudienceArray accepts aud as an array of strings that holds
	// Audience (RFC 7519 §4.1.3); otherwise aud must be the one string
	// Audience, which is how latchkey issues it.
	AudienceArray bool
	// RequireIDAndIssuedAt refuses a token without jti or iat (latchkey's
	// own tokens always carry both).
	RequireIDAndIssuedAt bool
}

// Checker checks access tokens. It is safe for concurrent use.
type Checker struct {
	cfg     Config
	parsers map[string]*jwt.Parser // by algorithm; read-only after New
}

// New returns a Checker for cfg.
func New(cfg Config) *Checker {
	cfg.Leeway = max(cfg.Leeway, 0)
	c := &Checker{cfg: cfg, parsers: make(map[string]*jwt.Parser, len(algorithms))}
	// One parser per algorithm, built once: each allows only its own
	// algorithm, and a key is only ever handed to the parser of its own.
	// iss is compared in parsed.Validate, which says what differs.
	for _, alg := range algorithms {
		c.parsers[alg] = jwt.NewParser(
			jwt.WithValidMethods([]string{alg}),
			jwt.WithAudience(cfg.Audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			// golang-jwt has one leeway for all three times: give it the
			// skew that nbf and iat need; Check holds exp to Leeway.
			jwt.WithLeeway(max(cfg.Leeway, cfg.Skew)),
			jwt.WithTimeFunc(cfg.Clock),
			jwt.WithStrictDecoding(),
		)
	}
	return c
}

// ErrExpired is wrapped by the error of a token whose signature and claims
// are good but whose exp has passed (by the Leeway or more).
var ErrExpired = errors.New("token expired")

// Check checks token and returns its claims. Its error wraps ErrExpired
// when the token is genuine and merely expired; an error of keys.KeyForKID
// comes back unchanged; any other error means the token is invalid, and
// says why for operators. A bad signature is never reported as merely
// expired.
func (c *Checker) Check(token string, keys Keys) (*Claims, error) {
	if len(token) > MaxTokenLength {
		return nil, errors.New("token too long")
	}
	dot, err := splitCompact(token)
	if err != nil {
		return nil, err
	}
	key, ok := keys.KeyForHeader(token[:dot])
	if !ok {
		h, err := parseHeader(token[:dot])
		if err != nil {
			return nil, err
		}
		if key, err = keys.KeyForKID(h.kid); err != nil {
			return nil, err
		}
		if h.alg != key.Alg {
			return nil, fmt.Errorf("alg %q does not match the key's %s", h.alg, key.Alg)
		}
	}
	parser, ok := c.parsers[key.Alg]
	if !ok {
		return nil, fmt.Errorf("the key's algorithm %q is not supported", key.Alg)
	}
	p := &parsed{cfg: &c.cfg}
	_, err = parser.ParseWithClaims(token, p, func(*jwt.Token) (any, error) { return key.Public, nil })
	if err != nil {
		if onlyExpired(err) {
			return nil, fmt.Errorf("%w: %w", ErrExpired, err)
		}
		return nil, err
	}
	// The parser gave exp the slack that nbf and iat need; hold it to the
	// Leeway. Everything else about the token is good, so past that it is
	// merely expired.
	if !c.cfg.Clock().Before(p.ExpiresAt.Add(c.cfg.Leeway)) {
		return nil, fmt.Errorf("%w: %w", ErrExpired, jwt.ErrTokenExpired)
	}
	return &p.Claims, nil
}

// parsed is what the parser decodes into: the claims, what decoding saw,
// and the checks golang-jwt leaves to the claims (Validate).
type parsed struct {
	Claims
	audArray bool
	cfg      *Config
}

func (p *parsed) UnmarshalJSON(data []byte) (err error) {
	p.Claims, p.audArray, err = decodeClaims(data)
	return err
}

// Validate is called by golang-jwt after the signature checks out, with
// the standard claim checks: its errors are joined with theirs.
func (p *parsed) Validate() error {
	var errs []error
	if p.Issuer == "" || p.Issuer != p.cfg.Issuer {
		errs = append(errs, &IssuerError{Received: p.Issuer, Expected: p.cfg.Issuer})
	}
	if p.Subject == "" {
		errs = append(errs, errors.New("sub is missing"))
	}
	if p.audArray && !p.cfg.AudienceArray {
		errs = append(errs, errors.New("aud must be a single string"))
	}
	if p.cfg.RequireIDAndIssuedAt {
		if p.ID == "" {
			errs = append(errs, errors.New("jti is missing"))
		}
		if p.IssuedAt == nil {
			errs = append(errs, errors.New("iat is missing"))
		}
	}
	return errors.Join(errs...)
}

// IssuerError refuses a genuine token whose iss is not the configured
// issuer. The signature checked out, so this is almost always a verifier
// configured with another spelling of the issuer's URL (localhost against
// 127.0.0.1, a trailing slash): operators need both values to see it.
type IssuerError struct {
	Received, Expected string
}

func (e *IssuerError) Error() string {
	return fmt.Sprintf("iss %q is not the expected issuer %q", e.Received, e.Expected)
}

func (e *IssuerError) Unwrap() error { return jwt.ErrTokenInvalidIssuer }

// onlyExpired reports whether err says nothing but "expired". golang-jwt
// validates claims only after the signature checked out, and joins every
// claim failure; anything besides the expiry (or an error shape this code
// does not know) makes the token invalid, never merely expired.
func onlyExpired(err error) bool {
	expired := false
	var walk func(error) bool
	walk = func(e error) bool {
		switch e {
		case jwt.ErrTokenExpired:
			expired = true
			return true
		case jwt.ErrTokenInvalidClaims:
			return true
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				if !walk(inner) {
					return false
				}
			}
			return true
		case interface{ Unwrap() error }:
			return walk(u.Unwrap())
		}
		return false
	}
	return walk(err) && expired
}
