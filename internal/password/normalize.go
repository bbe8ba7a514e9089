package password

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/latchkey/latchkey"
)

// MaxBytes is the longest password accepted, counted in bytes before
// normalisation. It is checked before any hashing, on sign-up and login
// alike, so a huge password costs no more than a short one (AV-01) and is
// never silently truncated (PW-02, PW-03).
const MaxBytes = 1024

// Normalize returns password in Unicode NFKC form, so that the same
// characters typed on different keyboards or systems (é as one code point
// or as e plus a combining accent, fullwidth digits) are the same
// password. Case and spaces are kept: they are the user's choice.
func Normalize(password string) string {
	return norm.NFKC.String(password)
}

// CheckLength refuses, before any hashing, a password longer than
// MaxBytes, one that is not valid UTF-8, and one holding NUL or another
// control character (which some systems truncate at, and no one types).
func CheckLength(password string) error {
	if len(password) > MaxBytes {
		return latchkey.Errorf(latchkey.EInvalidRequest, "The password is longer than %d bytes.", MaxBytes)
	}
	if !utf8.ValidString(password) {
		return latchkey.Errorf(latchkey.EInvalidRequest, "The password is not valid UTF-8 text.")
	}
	for _, r := range password {
		if unicode.IsControl(r) {
			return latchkey.Errorf(latchkey.EInvalidRequest, "The password must not contain NUL or other control characters.")
		}
	}
	return nil
}
