package token

import (
	"errors"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/jwtcheck"
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

// MaxTokenLength caps an access token before anything is parsed.
const MaxTokenLength = jwtcheck.MaxTokenLength

// Verifier checks access tokens against the published keys.
type Verifier struct {
	keys  func() *Keyring
	check *jwtcheck.Checker
}

// NewVerifier returns a Verifier that accepts tokens from issuer for
// audience, signed by a key of the keyring keys returns. leeway is how long
// after its exp a token is still accepted: latchkey's own endpoints pass 0,
// so that a token is refused from the second its exp names. nbf and iat may
// lie up to the larger of leeway and ClockSkew in the future.
func NewVerifier(keys func() *Keyring, issuer, audience string, leeway time.Duration, clock func() time.Time) *Verifier {
	return &Verifier{keys: keys, check: jwtcheck.New(jwtcheck.Config{
		Issuer:               issuer,
		Audience:             audience,
		Leeway:               leeway,
		Skew:                 ClockSkew,
		Clock:                clock,
		RequireIDAndIssuedAt: true,
	})}
}

var (
	errExpired = latchkey.Errorf(latchkey.ETokenExpired, "The access token has expired.")
)

// invalid is the one answer a client gets for every bad token; the reason
// (an issuer that is not the configured one names both, for instance) is
// kept for operators only.
func invalid(reason error) error {
	return latchkey.WrapError(latchkey.EInvalidToken, "The access token is invalid.", reason)
}

// Verify checks token and returns its claims. A token whose signature
// and claims are good but whose exp has passed (by the Verifier's leeway or
// more) gives ETokenExpired; anything else wrong gives EInvalidToken with
// the same message. A bad signature is never reported as merely expired.
func (v *Verifier) Verify(token string) (*Claims, error) {
	kr := v.keys()
	if kr == nil {
		return nil, invalid(errors.New("no keyring"))
	}
	claims, err := v.check.Check(token, kr)
	switch {
	case err == nil:
		return claims, nil
	case errors.Is(err, jwtcheck.ErrExpired):
		return nil, latchkey.WrapError(errExpired.Code, errExpired.Message, err)
	}
	return nil, invalid(err)
}

// KeyForHeader finds the key of a header segment latchkey's Issuer wrote,
// byte for byte: such a token needs no header parsing at all.
func (kr *Keyring) KeyForHeader(seg string) (jwtcheck.Key, bool) {
	kid, ok := kr.headers[seg]
	if !ok {
		return jwtcheck.Key{}, false
	}
	return kr.keys[kid], true
}

// KeyForKID finds a published key by kid: keys come only from the
// keyring, never from the token.
func (kr *Keyring) KeyForKID(kid string) (jwtcheck.Key, error) {
	key, ok := kr.keys[kid]
	if !ok {
		return jwtcheck.Key{}, errors.New("unknown kid")
	}
	return key, nil
}
