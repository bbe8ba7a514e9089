// Package apikey holds latchkey's API keys: their format (a prefix, 256 bits
// of randomness and a checksum), their hashing, and the cached verification
// that every API call made with a key goes through.
//
// A key looks like lk_<43 base62 random characters><6 base62 checksum
// characters>, the scheme GitHub uses for its tokens: the checksum lets a
// mistyped or made-up key be refused without a database lookup, and the
// fixed prefix and length let secret scanners find leaked keys.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"

	"github.com/latchkey/latchkey"
)

const (
	// KeyPrefix starts every key.
	KeyPrefix = "lk_"
	// Pattern is the regular expression that matches a key, for secret
	// scanners (gitleaks, TruffleHog, GitHub secret scanning).
	Pattern = `\blk_[0-9A-Za-z]{49}\b`
	// Len is the length of a key in bytes.
	Len = len(KeyPrefix) + randomLen + checksumLen
	// DisplayLen is the length of the prefix of a key that may be shown in
	// lists and logs: KeyPrefix and 8 random characters (about 48 bits, far
	// too few to help guess the remaining 208).
	DisplayLen = len(KeyPrefix) + 8

	// 43 base62 characters carry 43·log2(62) ≈ 256.03 bits.
	randomLen   = 43
	checksumLen = 6 // 62^6 > 2^32: room for any CRC32
	alphabet    = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// The operator-only reasons a key is refused. The client always sees the same
// message, whatever the reason.
var (
	errLength   = errors.New("apikey: wrong length")
	errPrefix   = errors.New("apikey: wrong prefix")
	errAlphabet = errors.New("apikey: character outside base62")
	errChecksum = errors.New("apikey: checksum mismatch")
)

// invalidMessage is the one client-safe message for every refused key, so
// that a client learns nothing about why.
const invalidMessage = "The API key is invalid."

func invalid(reason error) error {
	return latchkey.WrapError(latchkey.EInvalidAPIKey, invalidMessage, reason)
}

// Generate returns a new key, the part of it that may be displayed, and the
// SHA-256 that is stored in its place.
func Generate() (key latchkey.Secret, prefix string, hash [32]byte, err error) {
	var b strings.Builder
	b.Grow(Len)
	b.WriteString(KeyPrefix)
	var buf [64]byte
	for n := 0; n < randomLen; {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", "", hash, fmt.Errorf("apikey: read random bytes: %w", err)
		}
		for _, c := range buf {
			// Rejection sampling: 248 = 4·62, so c%62 is uniform over the
			// bytes kept.
			if c >= 248 {
				continue
			}
			b.WriteByte(alphabet[c%62])
			if n++; n == randomLen {
				break
			}
		}
	}
	s := b.String()
	s += encodeChecksum(checksum(s[len(KeyPrefix):]))
	return latchkey.Secret(s), s[:DisplayLen], Hash(s), nil
}

// Parse checks the form of key — length, prefix, alphabet and checksum —
// without any I/O. Every failure is EInvalidAPIKey.
func Parse(key string) error {
	if len(key) != Len {
		return invalid(errLength)
	}
	if !strings.HasPrefix(key, KeyPrefix) {
		return invalid(errPrefix)
	}
	body := key[len(KeyPrefix):]
	var sum uint64
	for i := 0; i < len(body); i++ {
		d := digit(body[i])
		if d < 0 {
			return invalid(errAlphabet)
		}
		if i >= randomLen {
			sum = sum*62 + uint64(d)
		}
	}
	if sum != uint64(checksum(body[:randomLen])) {
		return invalid(errChecksum)
	}
	return nil
}

// LooksLikeKey reports whether s is meant to be an API key (rather than, say,
// a JWT in an Authorization header). It does not check that s is well formed.
func LooksLikeKey(s string) bool { return strings.HasPrefix(s, KeyPrefix) }

// Hash returns the SHA-256 of key, the only form in which a key is stored.
// A key carries 256 random bits, so a plain hash is enough: there is nothing
// to brute-force.
func Hash(key string) [32]byte {
	// Keys are short: hash from a stack buffer so that the conversion from
	// string does not allocate on the hot path.
	var buf [Len]byte
	if len(key) <= len(buf) {
		n := copy(buf[:], key)
		return sha256.Sum256(buf[:n])
	}
	return sha256.Sum256([]byte(key))
}

// checksum is the CRC32 (IEEE) of s, computed over the string directly with
// the standard table so that no byte slice has to be made from it.
func checksum(s string) uint32 {
	crc := ^uint32(0)
	for i := 0; i < len(s); i++ {
		crc = crc32.IEEETable[byte(crc)^s[i]] ^ crc>>8
	}
	return ^crc
}

// encodeChecksum writes sum as checksumLen base62 digits, most significant
// first, padded with zeros.
func encodeChecksum(sum uint32) string {
	var out [checksumLen]byte
	v := uint64(sum)
	for i := checksumLen - 1; i >= 0; i-- {
		out[i] = alphabet[v%62]
		v /= 62
	}
	return string(out[:])
}

// digit returns the base62 value of c, or -1.
func digit(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'A' <= c && c <= 'Z':
		return int(c-'A') + 10
	case 'a' <= c && c <= 'z':
		return int(c-'a') + 36
	}
	return -1
}
