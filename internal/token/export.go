package token

import (
	"crypto"

	"github.com/latchkey/latchkey/internal/jwtcheck"
)

// Signer returns the current signing key: its kid, its algorithm and its
// private half, for a component that signs other JWTs with latchkey's
// keys (the OpenID provider's ID tokens). signer is nil when the keyring
// has no current key.
func (kr *Keyring) Signer() (kid, alg string, signer crypto.Signer) {
	return kr.kid, kr.alg, kr.signer
}

// PublicKeys returns every published key by kid: the same keys as the JWKS.
func (kr *Keyring) PublicKeys() map[string]jwtcheck.Key {
	out := make(map[string]jwtcheck.Key, len(kr.keys))
	for kid, k := range kr.keys {
		out[kid] = k
	}
	return out
}
