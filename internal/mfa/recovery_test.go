package mfa

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func TestRecoveryCodes(t *testing.T) {
	if bits := RecoveryCodeChars * math.Log2(float64(len(recoveryAlphabet))); bits < 50 {
		t.Fatalf("%.1f bits per code", bits)
	}
	seen := map[string]bool{}
	for range 100 {
		codes, err := NewRecoveryCodes()
		if err != nil {
			t.Fatal(err)
		}
		if len(codes) != RecoveryCodeCount {
			t.Fatalf("%d codes", len(codes))
		}
		for _, c := range codes {
			if len(c) != RecoveryCodeChars+1 || c[6] != '-' || seen[c] || strings.Trim(strings.ReplaceAll(c, "-", ""), recoveryAlphabet) != "" {
				t.Fatalf("code %q", c)
			}
			seen[c] = true
		}
	}
	key, other := bytes.Repeat([]byte{7}, 32), bytes.Repeat([]byte{8}, 32)
	h := HashRecoveryCode(key, "abcdef-ghjkmn")
	for _, typed := range []string{"ABCDEF-GHJKMN", "abcdefghjkmn", " abcdef ghjkmn "} {
		if !bytes.Equal(HashRecoveryCode(key, typed), h) {
			t.Errorf("%q does not match", typed)
		}
	}
	if bytes.Equal(HashRecoveryCode(other, "abcdef-ghjkmn"), h) || bytes.Equal(HashRecoveryCode(key, "abcdef-ghjkmp"), h) {
		t.Error("the hash ignores the key or the code")
	}
}
