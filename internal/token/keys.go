package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey"
)

// The signing algorithms latchkey supports.
const (
	ES256 = "ES256" // ECDSA P-256 with SHA-256: the default
	EdDSA = "EdDSA" // Ed25519
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256, 3072-bit keys
)

// rsaBits is the size of generated RSA keys (128-bit security, ASVS L2).
const rsaBits = 3072

// minRSABits is the smallest RSA key a keyring accepts (RFC 7518 §3.3).
const minRSABits = 2048

// Sealer encrypts private keys at rest (AES-GCM under the master key).
// Keys are sealed with their kid as additional data, so a sealed private
// key copied onto another row does not open.
type Sealer interface {
	Seal(plaintext, additionalData []byte) ([]byte, error)
	Open(sealed, additionalData []byte) ([]byte, error)
}

// Algorithms reports whether alg is one latchkey can sign with.
func Algorithms(alg string) bool {
	return alg == ES256 || alg == EdDSA || alg == RS256
}

// GenerateKey creates a signing key for alg in state "next": a random kid,
// the public key in PKIX DER, and the private key as PKCS#8 DER sealed by s.
func GenerateKey(alg string, s Sealer, now time.Time) (latchkey.SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case RS256:
		priv, err = rsa.GenerateKey(rand.Reader, rsaBits)
	default:
		return latchkey.SigningKey{}, fmt.Errorf("token: unsupported signing algorithm %q", alg)
	}
	if err != nil {
		return latchkey.SigningKey{}, fmt.Errorf("token: generate %s key: %w", alg, err)
	}
	pub, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return latchkey.SigningKey{}, fmt.Errorf("token: encode public key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return latchkey.SigningKey{}, fmt.Errorf("token: encode private key: %w", err)
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return latchkey.SigningKey{}, fmt.Errorf("token: kid: %w", err)
	}
	kid := base64.RawURLEncoding.EncodeToString(raw[:])
	sealed, err := s.Seal(der, []byte(kid))
	clear(der)
	if err != nil {
		return latchkey.SigningKey{}, fmt.Errorf("token: seal private key: %w", err)
	}
	return latchkey.SigningKey{
		ID:            kid,
		Algorithm:     alg,
		State:         latchkey.KeyNext,
		PublicKey:     pub,
		SealedPrivate: sealed,
		CreatedAt:     now.UTC(),
	}, nil
}

// signingMethod returns golang-jwt's method for alg.
func signingMethod(alg string) (jwt.SigningMethod, error) {
	switch alg {
	case ES256:
		return jwt.SigningMethodES256, nil
	case EdDSA:
		return jwt.SigningMethodEdDSA, nil
	case RS256:
		return jwt.SigningMethodRS256, nil
	}
	return nil, fmt.Errorf("token: unsupported signing algorithm %q", alg)
}

// parsePublic decodes a PKIX public key and checks that it fits alg.
func parsePublic(alg string, der []byte) (crypto.PublicKey, error) {
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	if err := fits(alg, pub); err != nil {
		return nil, err
	}
	return pub, nil
}

// fits checks that a public key is of the kind alg needs, so that one key
// can never be used with two algorithms.
func fits(alg string, pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if alg == ES256 && k.Curve == elliptic.P256() {
			return nil
		}
	case ed25519.PublicKey:
		if alg == EdDSA {
			return nil
		}
	case *rsa.PublicKey:
		if alg == RS256 {
			if k.N.BitLen() < minRSABits {
				return fmt.Errorf("RSA key of %d bits is too small", k.N.BitLen())
			}
			return nil
		}
	}
	return fmt.Errorf("a %T cannot be used with %s", pub, alg)
}

// openPrivate unseals a key's private half and checks it matches the
// published public key.
func openPrivate(k latchkey.SigningKey, s Sealer, pub crypto.PublicKey) (crypto.Signer, error) {
	der, err := s.Open(k.SealedPrivate, []byte(k.ID))
	if err != nil {
		return nil, fmt.Errorf("open private key: %w", err)
	}
	defer clear(der)
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	priv, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key %T cannot sign", parsed)
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if e, ok := priv.Public().(equaler); !ok || !e.Equal(pub) {
		return nil, fmt.Errorf("private key does not match the public key")
	}
	return priv, nil
}
