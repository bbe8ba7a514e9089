package verify_test

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/jwttest"
	"github.com/latchkey/latchkey/internal/testenv"
	"github.com/latchkey/latchkey/verify"
)

// BenchmarkVerifyES256 is the whole path of an uncached ES256 access token:
// header extraction, format checks, strict JSON reading, key lookup,
// golang-jwt parsing and claim validation, and the signature check.
func BenchmarkVerifyES256(b *testing.B) {
	es := jwttest.NewKey(b, "ES256", "k-es")
	is := newIssuer(b, es)
	v := newVerifier(b, is, testenv.NewClock(t0), func(cfg *verify.Config) { cfg.TokenCacheSize = -1 })
	r := bearer(es.Mint(b, es.Header(), claims(is.URL, t0)))
	if _, err := v.Authenticate(r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Authenticate(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareECDSAVerify is the floor: SHA-256 of the same signing input
// and crypto/ecdsa.Verify, nothing else.
func BenchmarkBareECDSAVerify(b *testing.B) {
	es := jwttest.NewKey(b, "ES256", "k-es")
	tok := es.Mint(b, es.Header(), claims("http://127.0.0.1:8080", t0))
	i := strings.LastIndexByte(tok, '.')
	input := []byte(tok[:i])
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		b.Fatal(err)
	}
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	pub := es.Private.Public().(*ecdsa.PublicKey)
	b.ReportAllocs()
	for b.Loop() {
		h := sha256.Sum256(input)
		if !ecdsa.Verify(pub, h[:], r, s) {
			b.Fatal("signature did not verify")
		}
	}
}

// BenchmarkVerifyCached is a token seen before: a cache hit.
func BenchmarkVerifyCached(b *testing.B) {
	es := jwttest.NewKey(b, "ES256", "k-es")
	is := newIssuer(b, es)
	v := newVerifier(b, is, testenv.NewClock(t0), nil)
	r := bearer(es.Mint(b, es.Header(), claims(is.URL, t0)))
	if _, err := v.Authenticate(r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Authenticate(r); err != nil {
			b.Fatal(err)
		}
	}
}
