package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
)

// jwk holds the public members of a JSON Web Key (RFC 7517, RFC 7518 §6,
// RFC 8037). There is deliberately no field for a private member.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
}

func publicJWK(kid, alg string, pub crypto.PublicKey) (jwk, error) {
	j := jwk{Kid: kid, Use: "sig", Alg: alg}
	b64 := base64.RawURLEncoding.EncodeToString
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		// The uncompressed point is 0x04 || X || Y with fixed-width
		// coordinates, which is exactly what RFC 7518 §6.2.1 wants.
		raw, err := k.Bytes()
		if err != nil {
			return jwk{}, fmt.Errorf("encode EC key: %w", err)
		}
		size := (len(raw) - 1) / 2
		j.Kty, j.Crv = "EC", k.Curve.Params().Name
		j.X, j.Y = b64(raw[1:1+size]), b64(raw[1+size:])
	case ed25519.PublicKey:
		j.Kty, j.Crv, j.X = "OKP", "Ed25519", b64(k)
	case *rsa.PublicKey:
		j.Kty = "RSA"
		j.N = b64(k.N.Bytes())
		j.E = b64(big.NewInt(int64(k.E)).Bytes())
	default:
		return jwk{}, fmt.Errorf("cannot publish a %T", pub)
	}
	return j, nil
}

func marshalJWKS(keys []jwk) ([]byte, error) {
	doc, err := json.Marshal(struct {
		Keys []jwk `json:"keys"`
	}{keys})
	if err != nil {
		return nil, fmt.Errorf("token: encode JWKS: %w", err)
	}
	return doc, nil
}
