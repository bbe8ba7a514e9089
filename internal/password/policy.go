package password

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
)

// DefaultMinLength is the shortest password accepted by default, in code
// points after normalisation (NIST 800-63B with MFA available; a
// deployment can raise it to 15).
const DefaultMinLength = 8

// maxRepeatedUnit is the longest sequence whose repetition ("abcabcabc",
// "latchlatchlatch1") is refused: repeating it adds length but little
// strength.
const maxRepeatedUnit = 8

// serviceName is always a context word.
const serviceName = "latchkey"

// Policy decides whether a new password is acceptable. It has no
// composition rules (NIST 800-63B: SHALL NOT): length, the blocklist and
// context words only.
type Policy struct {
	MinLength int        // code points; DefaultMinLength if ≤ 0
	Blocklist *Blocklist // nil checks no list
}

// DefaultPolicy returns a policy with DefaultMinLength and the bundled
// blocklist.
func DefaultPolicy() Policy {
	return Policy{MinLength: DefaultMinLength, Blocklist: LoadBlocklist()}
}

// Check returns nil if password may be set, and otherwise an
// EInvalidRequest error (from CheckLength) or an EWeakPassword error whose
// message tells the user why. context holds words the password must not
// be built from: pass the user's email (its local part is derived);
// "latchkey" is always included. Comparison ignores case and surrounding
// spaces; the error never contains the password.
func (p Policy) Check(password string, context ...string) error {
	if err := CheckLength(password); err != nil {
		return err
	}
	minLen := p.MinLength
	if minLen <= 0 {
		minLen = DefaultMinLength
	}
	if utf8.RuneCountInString(Normalize(password)) < minLen {
		return weak("The password must be at least %d characters long.", minLen)
	}
	f := fold(password)
	base, suffix := splitSuffix(f)
	if p.Blocklist.contains(f) {
		return weak("The password is on a list of commonly used passwords.")
	}
	if base != "" && suffix != "" && p.Blocklist.contains(base) && p.trivialSuffix(suffix) {
		return weak("The password is a commonly used password with a few digits or symbols added.")
	}
	for _, w := range contextWords(context) {
		if repeats(f, w) || (base != "" && repeats(base, w)) {
			return weak("The password must not be your email address, a part of it, or the name of this service.")
		}
	}
	if repeatedShortUnit(f) || (base != "" && repeatedShortUnit(base)) {
		return weak("The password repeats a short sequence of characters.")
	}
	return nil
}

func weak(format string, args ...any) error {
	return latchkey.Errorf(latchkey.EWeakPassword, format, args...)
}

// splitSuffix splits off a trailing run of digits, punctuation and
// symbols — the usual way a common password is "strengthened".
func splitSuffix(s string) (base, suffix string) {
	i := len(s)
	for i > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		if !unicode.IsDigit(r) && !unicode.IsPunct(r) && !unicode.IsSymbol(r) {
			break
		}
		i -= size
	}
	return s[:i], s[i:]
}

// trivialSuffix reports whether suffix adds little: symbols around at
// most four digits (a year, "123!"), a common password ("12345678"), or
// one digit repeated.
func (p Policy) trivialSuffix(suffix string) bool {
	digits := strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) {
			return r
		}
		return -1
	}, suffix)
	return utf8.RuneCountInString(digits) <= 4 || p.Blocklist.contains(digits) || repeatedUnitLen(digits) == 1
}

// contextWords returns the folded context words, each email's local part
// (and its pieces between . _ + -), and the service name.
func contextWords(context []string) []string {
	words := []string{serviceName}
	for _, c := range context {
		c = fold(c)
		if c == "" {
			continue
		}
		words = append(words, c)
		local, _, isEmail := strings.Cut(c, "@")
		if !isEmail || local == "" {
			continue
		}
		words = append(words, local)
		pieces := strings.FieldsFunc(local, func(r rune) bool { return strings.ContainsRune("._+-", r) })
		if len(pieces) > 1 {
			words = append(words, strings.Join(pieces, ""))
			for _, piece := range pieces {
				if utf8.RuneCountInString(piece) >= 3 {
					words = append(words, piece)
				}
			}
		}
	}
	return words
}

// repeats reports whether s is word written one or more times.
func repeats(s, word string) bool {
	if word == "" || len(s)%len(word) != 0 {
		return false
	}
	return strings.Repeat(word, len(s)/len(word)) == s
}

// repeatedShortUnit reports whether s is a sequence of at most
// maxRepeatedUnit code points written two or more times.
func repeatedShortUnit(s string) bool {
	n := repeatedUnitLen(s)
	return n > 0 && n <= maxRepeatedUnit && n < utf8.RuneCountInString(s)
}

// repeatedUnitLen returns the length in code points of the shortest unit
// that s repeats (the whole length if none; 0 for "").
func repeatedUnitLen(s string) int {
	r := []rune(s)
	for u := 1; u <= len(r)/2; u++ {
		if len(r)%u == 0 && string(r[u:]) == string(r[:len(r)-u]) {
			return u
		}
	}
	return len(r)
}
