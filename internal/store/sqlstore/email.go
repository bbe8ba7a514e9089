package sqlstore

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
)

// MaxReason is the most bytes of a failed mail's error that are kept.
const MaxReason = 1000

// Reason is a failed mail's error as it is stored: valid UTF-8 (which
// PostgreSQL's text requires) of at most MaxReason bytes, cut at a
// character boundary.
func Reason(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= MaxReason {
		return s
	}
	cut := MaxReason
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// Consumed picks, from the tokens that one check of a code updated, the
// one that the code consumed: every other was charged a wrong attempt.
// Should two match (two accounts moving to one address drew the same
// code), the newest is returned. None is NotFound("Token").
func Consumed(ts []latchkey.EmailToken) (*latchkey.EmailToken, error) {
	var won *latchkey.EmailToken
	for i := range ts {
		if ts[i].ConsumedAt != nil && (won == nil || ts[i].ID > won.ID) {
			won = &ts[i]
		}
	}
	if won == nil {
		return nil, NotFound("Token")
	}
	return won, nil
}

// OldestFirst sorts claimed mails oldest first (RETURNING keeps no order).
func OldestFirst(ms []latchkey.OutboxMail) []latchkey.OutboxMail {
	slices.SortFunc(ms, func(a, b latchkey.OutboxMail) int { return cmp.Compare(a.ID, b.ID) })
	return ms
}
