package server

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/internal/auth"
)

// Identity-header JWT parameters: a reverse proxy passes the token to the
// upstream, which verifies it with the published public key instead of
// trusting the network between them.
const (
	IdentityTokenType     = "identity+jwt"
	IdentityAudience      = "upstream"
	IdentityTokenLifetime = 60 * time.Second
)

// IdentitySigner signs X-Auth-Identity tokens with an Ed25519 key. Only
// Ed25519 is accepted: one algorithm, small fast signatures, and no
// parameter choices for an operator to get wrong.
type IdentitySigner struct {
	key  ed25519.PrivateKey
	kid  string
	jwks []byte
}

// LoadIdentityKey reads a PEM "PRIVATE KEY" (PKCS #8) Ed25519 key, as
// `openssl genpkey -algorithm ed25519` writes it.
func LoadIdentityKey(path string) (*IdentitySigner, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("identity header key: %w", err)
	}
	return ParseIdentityKey(data)
}

// ParseIdentityKey parses what LoadIdentityKey reads.
func ParseIdentityKey(pemData []byte) (*IdentitySigner, error) {
	block, _ := pem.Decode(pemData)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("identity header key: want a PEM PRIVATE KEY (PKCS #8) block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("identity header key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("identity header key: want an Ed25519 key, got %T", k)
	}
	pub := priv.Public().(ed25519.PublicKey)
	sum := sha256.Sum256(pub)
	kid := base64.RawURLEncoding.EncodeToString(sum[:12])
	jwks, err := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(pub),
		"kid": kid, "use": "sig", "alg": "EdDSA",
	}}})
	if err != nil {
		return nil, fmt.Errorf("identity header key: %w", err)
	}
	return &IdentitySigner{key: priv, kid: kid, jwks: jwks}, nil
}

// JWKS is the public key set to publish at /.well-known/identity-jwks.json.
func (s *IdentitySigner) JWKS() []byte { return s.jwks }

// identityClaims is the X-Auth-Identity payload.
type identityClaims struct {
	jwt.RegisteredClaims
	SessionID string   `json:"sid,omitempty"`
	APIKeyID  string   `json:"api_key_id,omitempty"`
	Roles     []string `json:"roles"`
	Scope     string   `json:"scope,omitempty"`
	AMR       []string `json:"amr,omitempty"`
	ACR       string   `json:"acr,omitempty"`
}

// Sign returns a token for p, valid for IdentityTokenLifetime from now.
func (s *IdentitySigner) Sign(issuer string, p *auth.Principal, now time.Time) (string, error) {
	c := identityClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: issuer, Subject: p.User.ID, Audience: jwt.ClaimStrings{IdentityAudience},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(IdentityTokenLifetime)),
		},
		SessionID: p.SessionID,
		Roles:     p.User.Roles,
		Scope:     strings.Join(p.Scopes, " "),
		AMR:       p.AMR,
		ACR:       p.ACR(),
	}
	if c.Roles == nil {
		c.Roles = []string{}
	}
	if p.APIKey != nil {
		c.APIKeyID = p.APIKey.ID
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	t.Header["typ"] = IdentityTokenType
	t.Header["kid"] = s.kid
	signed, err := t.SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("sign identity header: %w", err)
	}
	return signed, nil
}
