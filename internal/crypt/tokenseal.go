package crypt

import (
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
)

// tokenSealInfo separates keys derived for this purpose from any other use
// of the same token.
const tokenSealInfo = "latchkey refresh successor v1"

// SealForToken encrypts plaintext under a key derived from token with
// HKDF-SHA256. The server uses it to keep a refresh token's successor for
// the grace period without storing a usable token: only a client that
// presents the previous token can open it.
//
// The token must carry enough entropy to be a key (latchkey's refresh
// tokens have 256 bits); HKDF does not strengthen a weak secret.
func SealForToken(token string, plaintext []byte) ([]byte, error) {
	s, err := tokenSealer(token)
	if err != nil {
		return nil, err
	}
	return s.Seal(plaintext, nil)
}

// OpenWithToken opens a value made by SealForToken with the same token.
// A different token, or any change to sealed, gives an error wrapping
// ErrOpen.
func OpenWithToken(token string, sealed []byte) ([]byte, error) {
	s, err := tokenSealer(token)
	if err != nil {
		return nil, err
	}
	return s.Open(sealed, nil)
}

func tokenSealer(token string) (*Sealer, error) {
	if token == "" {
		return nil, fmt.Errorf("crypt: empty token")
	}
	key, err := hkdf.Key(sha256.New, []byte(token), nil, tokenSealInfo, KeySize)
	if err != nil {
		return nil, fmt.Errorf("crypt: deriving a key: %w", err)
	}
	return NewSealer(key)
}
