package mfa

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"strings"
)

// Recovery codes: RecoveryCodeCount codes of RecoveryCodeChars characters
// from a 30-character alphabet (about 4.9 bits each, so 58 bits per code,
// above the 50 bits a recovery code needs), shown once in two groups of six
// ("abcdef-ghjkmn"), stored only as keyed hashes.
const (
	RecoveryCodeCount = 10
	RecoveryCodeChars = 12
)

// The alphabet leaves out 0/o, 1/l/i and u: codes are read off paper.
const recoveryAlphabet = "abcdefghjkmnpqrstvwxyz23456789"

// NewRecoveryCodes draws a fresh set of codes from crypto/rand.
func NewRecoveryCodes() ([]string, error) {
	codes := make([]string, RecoveryCodeCount)
	for i := range codes {
		var b strings.Builder
		for j := 0; j < RecoveryCodeChars; j++ {
			if j > 0 && j%6 == 0 {
				b.WriteByte('-')
			}
			c, err := uniform(len(recoveryAlphabet))
			if err != nil {
				return nil, err
			}
			b.WriteByte(recoveryAlphabet[c])
		}
		codes[i] = b.String()
	}
	return codes, nil
}

// uniform returns a uniform number in [0, n) (rejection sampling: no
// modulo bias).
func uniform(n int) (int, error) {
	limit := 256 - 256%n
	var b [1]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return 0, err
		}
		if int(b[0]) < limit {
			return int(b[0]) % n, nil
		}
	}
}

// NormalizeRecoveryCode forgives what people do when they type a code:
// case, spaces and dashes.
func NormalizeRecoveryCode(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ' || r == '\t':
			return -1
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// HashRecoveryCode is the keyed hash a recovery code is stored as (HMAC-
// SHA256 under a key derived from the master key): a stolen database alone
// does not allow an offline search.
func HashRecoveryCode(key []byte, code string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("latchkey recovery code\x00"))
	m.Write([]byte(NormalizeRecoveryCode(code)))
	return m.Sum(nil)
}
