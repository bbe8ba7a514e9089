package token

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/jsonx"
)

// ClockSkew is how far apart two hosts' clocks are allowed to be (RFC 7519
// §4.1.4 allows "a few minutes"; latchkey keeps it well under one).
// Services that verify latchkey's tokens themselves accept a token this
// long after its exp (the verify package's default leeway), so whatever
// reasons about how long a token may still be accepted somewhere must add
// it. latchkey's own Verifier accepts nbf and iat this far in the future,
// since the instance that issued a token may run ahead of the one checking
// it, but honours exp exactly unless given a leeway.
const ClockSkew = 30 * time.Second

// MaxTokenLength caps an access token before anything is parsed or
// allocated (CVE-2025-30204: a header of many dots made golang-jwt allocate
// in proportion to the input). latchkey's tokens are well under 1 KiB.
const MaxTokenLength = 8 << 10

// Verifier checks access tokens against the published keys.
type Verifier struct {
	keys    func() *Keyring
	leeway  time.Duration
	clock   func() time.Time
	parsers map[string]*jwt.Parser // by algorithm; read-only after NewVerifier
}

// NewVerifier returns a Verifier that accepts tokens from issuer for
// audience, signed by a key of the keyring keys returns. leeway is how long
// after its exp a token is still accepted: latchkey's own endpoints pass 0,
// so that a token is refused from the second its exp names. nbf and iat may
// lie up to the larger of leeway and ClockSkew in the future.
func NewVerifier(keys func() *Keyring, issuer, audience string, leeway time.Duration, clock func() time.Time) *Verifier {
	leeway = max(leeway, 0)
	v := &Verifier{keys: keys, leeway: leeway, clock: clock, parsers: make(map[string]*jwt.Parser, 3)}
	// One parser per algorithm, built once: each allows only its own
	// algorithm, and a key is only ever handed to the parser of its own.
	for _, alg := range []string{ES256, EdDSA, RS256} {
		v.parsers[alg] = jwt.NewParser(
			jwt.WithValidMethods([]string{alg}),
			jwt.WithIssuer(issuer),
			jwt.WithAudience(audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			// golang-jwt has one leeway for all three times: give it the
			// skew that nbf and iat need; Verify holds exp to leeway.
			jwt.WithLeeway(max(leeway, ClockSkew)),
			jwt.WithTimeFunc(clock),
			jwt.WithStrictDecoding(),
		)
	}
	return v
}

var (
	errExpired = latchkey.Errorf(latchkey.ETokenExpired, "The access token has expired.")
)

// invalid is the one answer a client gets for every bad token; the reason
// is kept for operators only.
func invalid(reason error) error {
	return latchkey.WrapError(latchkey.EInvalidToken, "The access token is invalid.", reason)
}

// Verify checks token and returns its claims. A token whose signature
// and claims are good but whose exp has passed (by the Verifier's leeway or
// more) gives ETokenExpired; anything else wrong gives EInvalidToken with
// the same message. A bad signature is never reported as merely expired.
func (v *Verifier) Verify(token string) (*Claims, error) {
	if len(token) > MaxTokenLength {
		return nil, invalid(errors.New("token too long"))
	}
	dot, err := splitCompact(token)
	if err != nil {
		return nil, invalid(err)
	}
	kr := v.keys()
	key, err := kr.keyFor(token[:dot])
	if err != nil {
		return nil, invalid(err)
	}
	claims := &Claims{}
	_, err = v.parsers[key.alg].ParseWithClaims(token, claims, func(*jwt.Token) (any, error) {
		return key.pub, nil
	})
	if err != nil {
		if onlyExpired(err) {
			return nil, latchkey.WrapError(errExpired.Code, errExpired.Message, err)
		}
		return nil, invalid(err)
	}
	// The parser gave exp the slack that nbf and iat need; hold it to the
	// Verifier's own leeway. Everything else about the token is good, so
	// past that it is merely expired.
	if !v.clock().Before(claims.ExpiresAt.Add(v.leeway)) {
		return nil, latchkey.WrapError(errExpired.Code, errExpired.Message, jwt.ErrTokenExpired)
	}
	return claims, nil
}

// splitCompact checks the compact serialisation: exactly three non-empty
// segments of base64url characters, nothing else (no padding, no
// whitespace, no JSON serialisation, no five-part JWE). It returns the
// position of the first dot.
func splitCompact(token string) (int, error) {
	dots := [2]int{}
	n := 0
	for i := 0; i < len(token); i++ {
		c := token[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		case c == '.':
			if n == 2 {
				return 0, errors.New("too many segments")
			}
			dots[n] = i
			n++
		default:
			return 0, fmt.Errorf("character %q is not allowed", c)
		}
	}
	if n != 2 {
		return 0, errors.New("too few segments")
	}
	if dots[0] == 0 || dots[1] == dots[0]+1 || dots[1] == len(token)-1 {
		return 0, errors.New("empty segment")
	}
	return dots[0], nil
}

// keyFor finds the key a token's header segment names, and checks that
// the header asks for exactly that key's algorithm. Keys come only from the
// keyring, never from the token.
func (kr *Keyring) keyFor(seg string) (verifyKey, error) {
	if kr == nil {
		return verifyKey{}, errors.New("no keyring")
	}
	if kid, ok := kr.headers[seg]; ok {
		return kr.keys[kid], nil
	}
	h, err := parseHeader(seg)
	if err != nil {
		return verifyKey{}, err
	}
	key, ok := kr.keys[h.kid]
	if !ok {
		return verifyKey{}, errors.New("unknown kid")
	}
	if h.alg != key.alg {
		return verifyKey{}, fmt.Errorf("alg %q does not match the key's %s", h.alg, key.alg)
	}
	return key, nil
}

// header is the protected header of a latchkey access token.
type header struct {
	alg, kid, typ string
}

// parseHeader decodes the header and refuses anything but a plain
// {"alg","kid","typ"}: any other member (jku, x5u, jwk, x5c, x5t, crit,
// zip, enc, b64, …) could ask a verifier to fetch a key, trust a key from
// the token or process the token differently, and latchkey never issues
// one, so the allow-list is exact.
func parseHeader(seg string) (header, error) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	if err != nil {
		return header{}, fmt.Errorf("header: %w", err)
	}
	if err := jsonx.Check(raw); err != nil {
		return header{}, fmt.Errorf("header: %w", err)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return header{}, fmt.Errorf("header: %w", err)
	}
	var h header
	for name, value := range members {
		var dst *string
		switch name {
		case "alg":
			dst = &h.alg
		case "kid":
			dst = &h.kid
		case "typ":
			dst = &h.typ
		default:
			return header{}, fmt.Errorf("header member %q is not allowed", name)
		}
		if len(value) == 0 || value[0] != '"' {
			return header{}, fmt.Errorf("header member %q must be a string", name)
		}
		if err := json.Unmarshal(value, dst); err != nil {
			return header{}, fmt.Errorf("header member %q: %w", name, err)
		}
	}
	switch {
	case h.kid == "":
		return header{}, errors.New("header has no kid")
	case h.alg == "":
		return header{}, errors.New("header has no alg")
	case h.typ != TypeAccessToken && h.typ != "application/"+TypeAccessToken:
		return header{}, fmt.Errorf("typ %q is not an access token", h.typ)
	}
	return h, nil
}

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
