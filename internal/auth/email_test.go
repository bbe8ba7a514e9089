package auth

import (
	"strings"
	"testing"
)

func TestCanonicalEmail(t *testing.T) {
	same := []string{"alice@example.com", "ALICE@EXAMPLE.COM", " alice@example.com ", "alice@example.com.", "alice@EXAMPLE.com", "\talice@example.com\n"}
	for _, in := range same {
		got, err := CanonicalEmail(in)
		if err != nil || got != "alice@example.com" {
			t.Errorf("CanonicalEmail(%q) = %q, %v; want alice@example.com", in, got, err)
		}
	}
	// Look-alikes must never map onto an ASCII address (IN-07).
	bad := []string{
		"\u212Aate@example.com", "\u017Fam@example.com", "m\u0131ke@example.com", "\uFF41lice@example.com",
		"\u0430lice@example.com", "", "   ", "alice", "@example.com", "alice@", "alice@localhost",
		"a@b@example.com", "alice@exa mple.com", "al ice@example.com", ".alice@example.com", "alice.@example.com",
		"al..ice@example.com", "alice@-example.com", "alice@example..com", "a@x.com\r\nBcc:evil@x.com",
		"alice\x00@example.com", "alice\u202e@example.com", "' OR '1'='1@example.com", "\"alice\"@example.com",
		strings.Repeat("a", 65) + "@example.com", strings.Repeat("a", 50000) + "@", strings.Repeat("a", 10000),
	}
	for _, in := range bad {
		if got, err := CanonicalEmail(in); err == nil {
			t.Errorf("CanonicalEmail(%.60q) = %q, want an error", in, got)
		}
	}
}

func FuzzCanonicalEmail(f *testing.F) {
	for _, s := range []string{"alice@example.com", "\u212Aate@example.com", "a@b.c", " A@B.C. "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := CanonicalEmail(s)
		if err != nil {
			return
		}
		again, err := CanonicalEmail(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q (%v)", s, got, again, err)
		}
		for i := 0; i < len(got); i++ {
			if got[i] >= 0x7f || got[i] <= ' ' || (got[i] >= 'A' && got[i] <= 'Z') {
				t.Fatalf("non-canonical byte in %q", got)
			}
		}
	})
}
