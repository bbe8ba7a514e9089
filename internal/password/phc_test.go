package password

import (
	"errors"
	"strings"
	"testing"
)

func TestPHCRoundTrip(t *testing.T) {
	want := phc{params: DefaultParams, salt: []byte("0123456789abcdef"), key: []byte("0123456789abcdef0123456789abcdef")}
	s := want.encode()
	if s != "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY" {
		t.Fatalf("encode = %q", s)
	}
	got, err := decodePHC(s)
	if err != nil {
		t.Fatal(err)
	}
	if got.params != want.params || string(got.salt) != string(want.salt) || string(got.key) != string(want.key) {
		t.Fatalf("decode = %+v", got)
	}
}

func TestPHCRefusesNonCanonical(t *testing.T) {
	good := "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"
	for _, s := range []string{
		strings.Replace(good, "m=19456", "m=019456", 1),
		strings.Replace(good, "m=19456", "m=+19456", 1),
		strings.Replace(good, "m=19456", "m=", 1),
		strings.Replace(good, "m=19456", "M=19456", 1),
		strings.Replace(good, ",t=2", ",t=2,k=1", 1),
		strings.Replace(good, "v=19$", "", 1),
		strings.Replace(good, "Zg$", "Zg==$", 1),                                                // padding
		strings.Replace(good, "Zg$", "Zh$", 1),                                                  // non-zero trailing bits
		strings.Replace(good, "MDEy", "MD-y", 1),                                                // URL alphabet
		"$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Ng$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY", // 7-byte salt
		"$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$MDEyMzQ1Njc4OWFiY2Rl",            // 15-byte hash
		" " + good,
		good + "\n",
		strings.Replace(good, "MDEy", "MD\nEy", 1),
	} {
		if _, err := decodePHC(s); !errors.Is(err, errMalformed) {
			t.Errorf("decodePHC(%q): err = %v, want errMalformed", s, err)
		}
	}
}

// FuzzPHCParse: the decoder never panics, accepts only parameters within
// the limits (so Verify cannot panic inside argon2 or allocate more than
// 1 GiB), and accepts only the canonical form it produces.
func FuzzPHCParse(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	f.Add("$argon2id$v=19$m=1048576,t=100,p=255$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	f.Add("$argon2id$v=19$m=0,t=0,p=0$$")
	f.Add("$argon2id$v=19$m=4294967295,t=4294967295,p=4294967295$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	f.Add("$argon2i$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaA")
	f.Add("$2b$12$abcdefghijklmnopqrstuuS9oFJ5zDvuYsJK0G7eZ4xyPX5E4y5Iu")
	f.Add("$$$$$")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := decodePHC(s)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error %v does not wrap errMalformed", err)
			}
			return
		}
		if err := h.params.validate(); err != nil {
			t.Fatalf("accepted params %+v: %v", h.params, err)
		}
		if len(h.salt) < minSaltLen || len(h.salt) > maxSaltLen || len(h.key) < minKeyLen || len(h.key) > maxKeyLen {
			t.Fatalf("accepted salt %d bytes, key %d bytes", len(h.salt), len(h.key))
		}
		if got := h.encode(); got != s {
			t.Fatalf("accepted non-canonical %q (canonical %q)", s, got)
		}
	})
}
