package password

import (
	_ "embed"
	"strings"
)

// commonPasswords is one password per line, NFKC-normalised, lower-cased
// and deduplicated; see common-passwords.NOTICE for its source and licence.
//
//go:embed common-passwords.txt
var commonPasswords string

// Blocklist is a set of common passwords, matched case-insensitively after
// normalisation. A nil *Blocklist contains nothing.
type Blocklist struct {
	set map[string]struct{}
}

// LoadBlocklist returns the bundled list of the most common passwords
// from public breach corpora (about 96,000 entries). Each call builds a new
// set of a few megabytes: load it once and share it.
func LoadBlocklist() *Blocklist {
	return NewBlocklist(strings.Split(commonPasswords, "\n"))
}

// NewBlocklist returns a Blocklist of the given passwords, normalised and
// lower-cased; empty entries are ignored.
func NewBlocklist(passwords []string) *Blocklist {
	b := &Blocklist{set: make(map[string]struct{}, len(passwords))}
	for _, p := range passwords {
		if p = fold(p); p != "" {
			b.set[p] = struct{}{}
		}
	}
	return b
}

// Contains reports whether password, normalised and lower-cased, is on
// the list.
func (b *Blocklist) Contains(password string) bool {
	return b.contains(fold(password))
}

// Len returns the number of entries.
func (b *Blocklist) Len() int {
	if b == nil {
		return 0
	}
	return len(b.set)
}

// contains looks up an already folded password.
func (b *Blocklist) contains(folded string) bool {
	if b == nil {
		return false
	}
	_, ok := b.set[folded]
	return ok
}

// fold is the form in which passwords are compared with the list and with
// context words.
func fold(s string) string {
	return strings.ToLower(strings.TrimSpace(Normalize(s)))
}
