package mfa

import (
	"testing"
	"time"
)

// BenchmarkMatch is one TOTP verification: the three codes around now
// (HMAC-SHA1 each), compared in constant time.
func BenchmarkMatch(b *testing.B) {
	s, err := NewSecret()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	code, err := codeAt(s, Step(now))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := Match(s, code, now); !ok {
			b.Fatal("no match")
		}
	}
}

// BenchmarkHashRecoveryCode is one recovery-code check's hashing.
func BenchmarkHashRecoveryCode(b *testing.B) {
	key := make([]byte, 32)
	b.ReportAllocs()
	for b.Loop() {
		HashRecoveryCode(key, "abcdef-ghjkmn")
	}
}
