package crypt

import (
	"crypto/hkdf"
	"crypto/sha256"
)

// DeriveKey returns a KeySize-byte key for one purpose, derived from the
// master key with HKDF-SHA256 (RFC 5869; no salt, purpose as the info).
// Keys for different purposes are independent: knowing one tells nothing
// about the master key or any other. A purpose names the use and its format
// version, for example "latchkey device cookie v1"; changing it changes the
// key, which invalidates everything made with the old one.
//
// master must be at least KeySize bytes of random key material (the master
// key file) and purpose must not be empty; anything else is a programming
// error, and DeriveKey panics.
func DeriveKey(master []byte, purpose string) []byte {
	if len(master) < KeySize {
		panic("crypt: DeriveKey: master key shorter than KeySize")
	}
	if purpose == "" {
		panic("crypt: DeriveKey: empty purpose")
	}
	key, err := hkdf.Key(sha256.New, master, nil, purpose, KeySize)
	if err != nil {
		// Only a length beyond 255 hash blocks fails, and KeySize is one.
		panic("crypt: DeriveKey: " + err.Error())
	}
	return key
}
