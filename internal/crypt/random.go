// Package crypt holds latchkey's small cryptographic primitives: random
// tokens, token digests, authenticated encryption of secrets at rest, the
// master key file, and keys derived from it for one purpose each.
package crypt

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// RandomToken returns nBytes from crypto/rand, base64url-encoded without
// padding. It panics only if the system's random source fails, which
// crypto/rand itself treats as unrecoverable.
func RandomToken(nBytes int) string {
	b := make([]byte, nBytes)
	if _, err := rand.Read(b); err != nil {
		panic("crypt: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hash returns the SHA-256 digest of s. Tokens and keys of at least 128
// bits of entropy cannot be guessed, so a fast hash is enough to store
// them (ASVS 6.5.2); passwords use internal/password instead.
func Hash(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}
