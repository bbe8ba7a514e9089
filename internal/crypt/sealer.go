package crypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// KeySize is the size of an AES-256 key.
const KeySize = 32

// sealVersion is the first byte of every sealed value. It names the format
// and the key generation, so that a later master-key rotation can tell old
// ciphertexts from new ones.
const sealVersion byte = 1

const nonceSize = 12

// ErrOpen is returned (wrapped) when a sealed value cannot be opened: it
// was tampered with, truncated, sealed under another key or with other
// additional data. The causes are deliberately not told apart.
var ErrOpen = errors.New("crypt: cannot open sealed value")

// Sealer encrypts and authenticates with AES-256-GCM. It is safe for
// concurrent use.
//
// A sealed value is: version (1 byte) | nonce (12 bytes) | ciphertext+tag.
// The version byte is authenticated along with the caller's additional
// data. Nonces are random; with 96-bit random nonces one key should seal
// fewer than 2^32 values, far beyond what latchkey stores.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer for a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("crypt: key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("crypt: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("crypt: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext and binds it to additionalData (for example the
// id of the row it is stored in, so a ciphertext cannot be moved to
// another row).
func (s *Sealer) Seal(plaintext, additionalData []byte) ([]byte, error) {
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plaintext)+s.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("crypt: reading a nonce: %w", err)
	}
	return s.aead.Seal(out, out[1:], plaintext, aad(sealVersion, additionalData)), nil
}

// Open decrypts a value made by Seal with the same key and additional
// data. Any change to the value gives an error wrapping ErrOpen.
func (s *Sealer) Open(sealed, additionalData []byte) ([]byte, error) {
	if len(sealed) < 1+nonceSize+s.aead.Overhead() {
		return nil, fmt.Errorf("%w: too short", ErrOpen)
	}
	if sealed[0] != sealVersion {
		return nil, fmt.Errorf("%w: unknown version %d", ErrOpen, sealed[0])
	}
	nonce, ciphertext := sealed[1:1+nonceSize], sealed[1+nonceSize:]
	plaintext, err := s.aead.Open(nil, nonce, ciphertext, aad(sealed[0], additionalData))
	if err != nil {
		return nil, ErrOpen
	}
	return plaintext, nil
}

// aad prefixes the caller's additional data with the version byte, so the
// version cannot be changed without detection.
func aad(version byte, additionalData []byte) []byte {
	out := make([]byte, 0, 1+len(additionalData))
	out = append(out, version)
	return append(out, additionalData...)
}
