package apikey

import (
	"crypto/sha256"
	"errors"
	"hash/crc32"
	"regexp"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

func mustGenerate(t testing.TB) string {
	t.Helper()
	k, _, _, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	return k.Reveal()
}

func TestGenerateForm(t *testing.T) {
	whole := regexp.MustCompile(`^lk_[0-9A-Za-z]{49}$`)
	scanner := regexp.MustCompile(Pattern)
	for range 100 {
		k, prefix, hash, err := Generate()
		if err != nil {
			t.Fatal(err)
		}
		s := k.Reveal()
		if !whole.MatchString(s) {
			t.Fatalf("key %q does not match the documented form", s)
		}
		if got := scanner.FindString("token=" + s + ";"); got != s {
			t.Fatalf("Pattern finds %q in a config line, want the key", got)
		}
		if prefix != s[:11] || len(prefix) != DisplayLen {
			t.Fatalf("prefix %q, want %q", prefix, s[:11])
		}
		if hash != sha256.Sum256([]byte(s)) || hash != Hash(s) {
			t.Fatal("hash is not the SHA-256 of the key")
		}
		if err := Parse(s); err != nil {
			t.Fatalf("Parse(generated) = %v", err)
		}
		if !LooksLikeKey(s) {
			t.Fatal("LooksLikeKey(generated) = false")
		}
		if k.String() == s {
			t.Fatal("the key prints in plain text")
		}
	}
}

// The checksum is the CRC32 (IEEE) of the random part in six base62 digits,
// checked here against the standard library's own CRC.
func TestChecksum(t *testing.T) {
	s := mustGenerate(t)
	random, sum := s[3:46], s[46:]
	want := crc32.ChecksumIEEE([]byte(random))
	var got uint64
	for i := range len(sum) {
		got = got*62 + uint64(strings.IndexByte(alphabet, sum[i]))
	}
	if got != uint64(want) {
		t.Fatalf("checksum digits %q = %d, want CRC32 %d", sum, got, want)
	}
	for _, c := range []struct {
		sum  uint32
		want string
	}{{0, "000000"}, {61, "00000z"}, {62, "000010"}, {0xFFFFFFFF, "4gfFC3"}} {
		if got := encodeChecksum(c.sum); got != c.want {
			t.Errorf("encodeChecksum(%d) = %q, want %q", c.sum, got, c.want)
		}
	}
}

// RT-10 / P7: 1 000 keys, all unique, with no visible bias in the random part.
func TestGenerateUniqueAndSpread(t *testing.T) {
	seen := map[string]bool{}
	prefixes := map[string]bool{}
	var counts [62]int
	for range 1000 {
		k, prefix, _, err := Generate()
		if err != nil {
			t.Fatal(err)
		}
		s := k.Reveal()
		if seen[s] {
			t.Fatalf("duplicate key after %d", len(seen))
		}
		seen[s] = true
		prefixes[prefix] = true
		for i := 3; i < 46; i++ {
			counts[strings.IndexByte(alphabet, s[i])]++
		}
	}
	if len(prefixes) != 1000 {
		t.Errorf("%d distinct display prefixes among 1000 keys", len(prefixes))
	}
	// 43 000 characters: each digit is expected 693.5 times (σ ≈ 26). A
	// generator that skipped a digit or favoured some would land far outside
	// this generous band.
	for d, n := range counts {
		if n < 500 || n > 900 {
			t.Errorf("digit %q appears %d times in 43000, want about 694", alphabet[d], n)
		}
	}
}

func TestParse(t *testing.T) {
	good := mustGenerate(t)
	other := mustGenerate(t)
	cases := []struct {
		name   string
		key    string
		reason error
	}{
		{"empty", "", errLength},
		{"prefix only", "lk_", errLength},
		{"truncated by one", good[:len(good)-1], errLength},
		{"truncated to the display prefix", good[:DisplayLen], errLength},
		{"one character appended", good + "0", errLength},
		{"key twice", good + good, errLength},
		{"huge", good + strings.Repeat("a", 1<<20), errLength},
		{"wrong prefix", "lx_" + good[3:], errPrefix},
		{"upper-case prefix", "LK_" + good[3:], errPrefix},
		{"no underscore", "lkk" + good[3:], errPrefix},
		{"base64url character", good[:20] + "-" + good[21:], errAlphabet},
		{"space", good[:20] + " " + good[21:], errAlphabet},
		{"NUL", good[:20] + "\x00" + good[21:], errAlphabet},
		{"non-ASCII", good[:20] + "\xc3" + good[21:], errAlphabet},
		{"another key's checksum", good[:46] + other[46:], errChecksum},
		{"another key's display prefix", other[:DisplayLen] + good[DisplayLen:], errChecksum},
		{"all zeros", "lk_" + strings.Repeat("0", 49), errChecksum},
		{"checksum above 2^32", good[:46] + "zzzzzz", errChecksum},
		{"SQL", "lk_' OR '1'='1" + strings.Repeat("a", 52-14), errAlphabet},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Parse(c.key)
			assertInvalid(t, err)
			if !errors.Is(err, c.reason) {
				t.Errorf("Parse refused for %v, want %v", err, c.reason)
			}
		})
	}
}

// AK-05: changing any one character of a key, to any other character at all,
// is caught without a lookup.
func TestParseRefusesEveryOneCharacterChange(t *testing.T) {
	for range 5 {
		good := mustGenerate(t)
		b := []byte(good)
		for i := range b {
			orig := b[i]
			for c := range 256 {
				if byte(c) == orig {
					continue
				}
				b[i] = byte(c)
				if err := Parse(string(b)); err == nil {
					t.Fatalf("key with byte %d changed from %q to %q accepted", i, orig, byte(c))
				}
			}
			b[i] = orig
		}
	}
}

func assertInvalid(t *testing.T, err error) {
	t.Helper()
	if !latchkey.IsCode(err, latchkey.EInvalidAPIKey) {
		t.Fatalf("error %v, want code %s", err, latchkey.EInvalidAPIKey)
	}
	if msg := latchkey.ErrorMessage(err); msg != invalidMessage {
		t.Fatalf("client message %q, want %q", msg, invalidMessage)
	}
}

func TestLooksLikeKey(t *testing.T) {
	for s, want := range map[string]bool{
		"lk_anything":                          true,
		"lk_":                                  true,
		"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0": false,
		"":                                     false,
		"LK_abc":                               false,
		" lk_abc":                              false,
	} {
		if got := LooksLikeKey(s); got != want {
			t.Errorf("LooksLikeKey(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestHashOfLongInput(t *testing.T) {
	long := strings.Repeat("x", 1000)
	if Hash(long) != sha256.Sum256([]byte(long)) {
		t.Fatal("Hash of a long string is not its SHA-256")
	}
}

func FuzzParse(f *testing.F) {
	good := mustGenerate(f)
	for _, s := range []string{"", "lk_", good, good[:51], good + "a", "LK" + good[2:], good[:46] + "zzzzzz",
		"lk_" + strings.Repeat("0", 49), "lk_" + strings.Repeat("\xff", 49)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := Parse(s)
		if err != nil {
			assertInvalid(t, err)
			return
		}
		// Anything accepted has the documented form and a matching checksum.
		if !regexp.MustCompile(`^lk_[0-9A-Za-z]{49}$`).MatchString(s) {
			t.Fatalf("Parse accepted %q", s)
		}
		if s[46:] != encodeChecksum(crc32.ChecksumIEEE([]byte(s[3:46]))) {
			t.Fatalf("Parse accepted %q with a wrong checksum", s)
		}
	})
}
