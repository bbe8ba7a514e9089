// Package jwttest signs and forges access tokens for tests: the keys,
// signatures and JWKs that the forgery suites of internal/jwtcheck,
// internal/token, verify and the end-to-end tests share. Only tests import
// it.
package jwttest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"sync"
	"testing"
)

// B64 is the base64url encoding of JWS segments.
var B64 = base64.RawURLEncoding

// Seg returns s as a JWS segment.
func Seg(s string) string { return B64.EncodeToString([]byte(s)) }

// JSON marshals v, which must not fail.
func JSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// Segments splits a compact token into its three segments.
func Segments(t testing.TB, tok string) (header, claims, sig string) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments", len(parts))
	}
	return parts[0], parts[1], parts[2]
}

// Key is a signing key as an issuer would hold it.
type Key struct {
	KID, Alg string
	Private  crypto.Signer
}

// rsaKey is one 2048-bit key for the whole test binary: generating RSA
// keys is slow.
var rsaKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

// NewKey returns a fresh key for alg (ES256, EdDSA or RS256; every RS256
// key of a test binary is the same key).
func NewKey(t testing.TB, alg, kid string) *Key {
	t.Helper()
	k := &Key{KID: kid, Alg: alg}
	var err error
	switch alg {
	case "ES256":
		k.Private, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, k.Private, err = ed25519.GenerateKey(rand.Reader)
	case "RS256":
		k.Private, err = rsaKey()
	default:
		t.Fatalf("jwttest: unknown alg %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Header is the header an issuer writes for k.
func (k *Key) Header() map[string]any {
	return map[string]any{"alg": k.Alg, "typ": "at+jwt", "kid": k.KID}
}

// Mint signs header and claims, marshalled as JSON, with k.
func (k *Key) Mint(t testing.TB, header, claims any) string {
	t.Helper()
	return Sign(t, k.Private, JSON(header), JSON(claims))
}

// JWK is k's public JWK, as latchkey publishes it.
func (k *Key) JWK() map[string]any { return JWK(k.KID, k.Alg, k.Private.Public()) }

// JWK is the public JWK of pub (EC P-256, Ed25519 or RSA); kid and alg are
// left out when empty.
func JWK(kid, alg string, pub crypto.PublicKey) map[string]any {
	m := map[string]any{"use": "sig"}
	if kid != "" {
		m["kid"] = kid
	}
	if alg != "" {
		m["alg"] = alg
	}
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		b, err := p.Bytes()
		if err != nil {
			panic(err)
		}
		m["kty"], m["crv"], m["x"], m["y"] = "EC", "P-256", B64.EncodeToString(b[1:33]), B64.EncodeToString(b[33:])
	case ed25519.PublicKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", B64.EncodeToString(p)
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", B64.EncodeToString(p.N.Bytes()), B64.EncodeToString(big.NewInt(int64(p.E)).Bytes())
	default:
		panic("jwttest: cannot publish a key of this type")
	}
	return m
}

// Sign signs exactly the header and claims JSON given, so that tests can
// build tokens no well-behaved library would, with the signature encoding
// of JWS: r ‖ s for ECDSA P-256, Ed25519, RSASSA-PKCS1-v1_5 with SHA-256.
func Sign(t testing.TB, priv crypto.Signer, headerJSON, claimsJSON string) string {
	t.Helper()
	input := Seg(headerJSON) + "." + Seg(claimsJSON)
	var sig []byte
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		sum := sha256.Sum256([]byte(input))
		r, s, err := ecdsa.Sign(rand.Reader, k, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, []byte(input))
	case *rsa.PrivateKey:
		sum := sha256.Sum256([]byte(input))
		var err error
		if sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:]); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("jwttest: cannot sign with %T", priv)
	}
	return input + "." + B64.EncodeToString(sig)
}

// HMAC forges an HMAC-SHA256 token keyed with secret (key confusion: a
// public key, its JWK or a guessed secret used as the HMAC key).
func HMAC(headerJSON, claimsJSON string, secret []byte) string {
	input := Seg(headerJSON) + "." + Seg(claimsJSON)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return input + "." + B64.EncodeToString(m.Sum(nil))
}
