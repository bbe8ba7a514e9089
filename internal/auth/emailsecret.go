package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/latchkey/latchkey/internal/crypt"
)

// EmailCodeDigits is the length of a mailed code.
const EmailCodeDigits = 8

// emailSecret is what one mail carries: a link token for people who click
// and a short code for clients that cannot follow links.
type emailSecret struct {
	Token string // 256 bits, base64url: the ?token= of the link
	Code  string // EmailCodeDigits decimal digits
}

// newEmailSecret draws a fresh token and code from crypto/rand. The code is
// uniform over all 10^8 values (rejection sampling, no modulo bias).
func newEmailSecret() emailSecret {
	const space = 100_000_000
	const limit = (1 << 32) / space * space
	var b [4]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			panic("auth: crypto/rand failed: " + err.Error())
		}
		if n := binary.BigEndian.Uint32(b[:]); n < limit {
			return emailSecret{Token: crypt.RandomToken(32), Code: fmt.Sprintf("%0*d", EmailCodeDigits, n%space)}
		}
	}
}

// emailHasher keys the hashes of mailed tokens and codes. A bare hash
// would do for the 256-bit token, but an 8-digit code falls to an offline
// search of 10^8 candidates: with a key the database alone gives nothing.
type emailHasher struct{ key []byte }

// EmailKeyPurpose is the purpose under which the key is derived from the
// master key (crypt.DeriveKey).
const EmailKeyPurpose = "latchkey mailed tokens v1"

func (h emailHasher) sum(parts ...string) []byte {
	m := hmac.New(sha256.New, h.key)
	for _, p := range parts {
		// Length-prefixed, so that no two different part lists hash alike.
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(p)))
		m.Write(n[:])
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

// link is the keyed hash of a link token for purpose.
func (h emailHasher) link(purpose, token string) []byte { return h.sum("link", purpose, token) }

// code is the keyed hash of a code for purpose, bound to the address it was
// mailed to: the same code sent to two people hashes differently.
func (h emailHasher) code(purpose, email, code string) []byte {
	return h.sum("code", purpose, strings.ToLower(email), code)
}

// validCode reports whether s looks like a mailed code (so that garbage
// costs no database round trip).
func validCode(s string) bool {
	if len(s) != EmailCodeDigits {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
