package crypt

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

func TestRandomToken(t *testing.T) {
	for _, n := range []int{16, 32, 33} {
		tok := RandomToken(n)
		if strings.ContainsAny(tok, "=+/") {
			t.Errorf("RandomToken(%d) = %q: not base64url without padding", n, tok)
		}
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(raw) != n {
			t.Errorf("RandomToken(%d) decodes to %d bytes, err %v", n, len(raw), err)
		}
	}
	seen := map[string]bool{}
	for range 1000 {
		tok := RandomToken(32)
		if seen[tok] {
			t.Fatalf("RandomToken repeated %q", tok)
		}
		seen[tok] = true
	}
}

func TestHash(t *testing.T) {
	// SHA-256("abc") from FIPS 180-2, appendix B.1.
	want, _ := hex.DecodeString("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
	if got := Hash("abc"); !bytes.Equal(got, want) {
		t.Errorf("Hash(abc) = %x, want %x", got, want)
	}
}
