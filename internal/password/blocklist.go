package password

import (
	_ "embed"
	"slices"
	"sort"
	"strings"
)

// commonPasswords is one password per line, NFKC-normalised, lower-cased
// and deduplicated; see common-passwords.NOTICE for its source and licence.
//
//go:embed common-passwords.txt
var commonPasswords string

// Blocklist is a set of common passwords, matched case-insensitively after
// normalisation. A nil *Blocklist contains nothing.
//
// The entries live in one sorted string with an offset table, searched by
// bisection: about 1 MB for the bundled list instead of the 6 MB a map of
// strings takes, and nothing for the garbage collector to scan (no
// pointers but the two backing arrays), which matters on a server whose
// argon2id hashing triggers many collections.
type Blocklist struct {
	blob string   // the entries, sorted, each followed by '\n'
	ends []uint32 // ends[i] is the offset just past entry i (before its '\n')
}

// LoadBlocklist returns the bundled list of the most common passwords
// from public breach corpora (about 96,000 entries). Load it once and
// share it.
func LoadBlocklist() *Blocklist {
	return NewBlocklist(strings.Split(commonPasswords, "\n"))
}

// NewBlocklist returns a Blocklist of the given passwords, normalised and
// lower-cased; empty entries are ignored.
func NewBlocklist(passwords []string) *Blocklist {
	folded := make([]string, 0, len(passwords))
	size := 0
	for _, p := range passwords {
		if p = fold(p); p != "" {
			folded = append(folded, p)
			size += len(p) + 1
		}
	}
	slices.Sort(folded)
	folded = slices.Compact(folded)
	var sb strings.Builder
	sb.Grow(size)
	b := &Blocklist{ends: make([]uint32, len(folded))}
	for i, p := range folded {
		sb.WriteString(p)
		b.ends[i] = uint32(sb.Len())
		sb.WriteByte('\n')
	}
	b.blob = sb.String()
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
	return len(b.ends)
}

// entry returns the i-th entry (sorted order) without allocating.
func (b *Blocklist) entry(i int) string {
	start := uint32(0)
	if i > 0 {
		start = b.ends[i-1] + 1
	}
	return b.blob[start:b.ends[i]]
}

// contains looks up an already folded password.
func (b *Blocklist) contains(folded string) bool {
	if b == nil {
		return false
	}
	i, found := sort.Find(len(b.ends), func(i int) int { return strings.Compare(folded, b.entry(i)) })
	return found && i < len(b.ends)
}

// fold is the form in which passwords are compared with the list and with
// context words.
func fold(s string) string {
	return strings.ToLower(strings.TrimSpace(Normalize(s)))
}
