package token

// Run: go test -run '^$' -bench . -benchmem ./internal/token
// Issue and Verify are compared with the bare crypto of the same algorithm
// over the same signing input, so the figures show what the JWT layer adds.

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"math/big"
	"strings"
	"testing"
)

func benchIssue(b *testing.B, alg string) {
	f := newFixture(b, alg)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := f.iss.Issue(Grant{UserID: "user-a", SessionID: "sess-a", Roles: []string{"user"}}); err != nil {
			b.Fatal(err)
		}
	}
}

func benchVerify(b *testing.B, alg string) {
	f := newFixture(b, alg)
	tok := f.issue()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.ver.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// signingInput returns a real token's first two segments and its
// signature, and the current private key.
func signingInput(b *testing.B, alg string) (*fixture, []byte, []byte) {
	f := newFixture(b, alg)
	tok := f.issue()
	i := strings.LastIndexByte(tok, '.')
	sig, err := b64.DecodeString(tok[i+1:])
	if err != nil {
		b.Fatal(err)
	}
	return f, []byte(tok[:i]), sig
}

func BenchmarkIssueES256(b *testing.B)  { benchIssue(b, ES256) }
func BenchmarkVerifyES256(b *testing.B) { benchVerify(b, ES256) }
func BenchmarkIssueEdDSA(b *testing.B)  { benchIssue(b, EdDSA) }
func BenchmarkVerifyEdDSA(b *testing.B) { benchVerify(b, EdDSA) }

func BenchmarkBareECDSASign(b *testing.B) {
	f, input, _ := signingInput(b, ES256)
	priv := f.privateOf(f.current).(*ecdsa.PrivateKey)
	b.ReportAllocs()
	for b.Loop() {
		sum := sha256.Sum256(input)
		if _, _, err := ecdsa.Sign(rand.Reader, priv, sum[:]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBareECDSAVerify(b *testing.B) {
	f, input, sig := signingInput(b, ES256)
	pub := &f.privateOf(f.current).(*ecdsa.PrivateKey).PublicKey
	b.ReportAllocs()
	for b.Loop() {
		sum := sha256.Sum256(input)
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(pub, sum[:], r, s) {
			b.Fatal("bad signature")
		}
	}
}

func BenchmarkBareEd25519Sign(b *testing.B) {
	f, input, _ := signingInput(b, EdDSA)
	priv := f.privateOf(f.current).(ed25519.PrivateKey)
	b.ReportAllocs()
	for b.Loop() {
		ed25519.Sign(priv, input)
	}
}

func BenchmarkBareEd25519Verify(b *testing.B) {
	f, input, sig := signingInput(b, EdDSA)
	pub := f.privateOf(f.current).Public().(ed25519.PublicKey)
	b.ReportAllocs()
	for b.Loop() {
		if !ed25519.Verify(pub, input, sig) {
			b.Fatal("bad signature")
		}
	}
}
