package token

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/internal/jwtcheck"
)

// TypeAccessToken is the typ header of every access token (RFC 9068 §2.1).
const TypeAccessToken = jwtcheck.TypeAccessToken

// Issuer signs access tokens with the keyring's current key.
type Issuer struct {
	keys     func() *Keyring
	issuer   string
	audience string
	ttl      time.Duration
	clock    func() time.Time
}

// NewIssuer returns an Issuer. keys is called on every Issue so that a
// rotation takes effect at once (KeyManager.Keyring fits).
func NewIssuer(keys func() *Keyring, issuer, audience string, ttl time.Duration, clock func() time.Time) *Issuer {
	return &Issuer{keys: keys, issuer: issuer, audience: audience, ttl: ttl, clock: clock}
}

// Grant is what an access token states: whose it is, for which session,
// with which roles and scope, and when the user last authenticated.
type Grant struct {
	UserID    string
	SessionID string
	Roles     []string // may be empty: the token then carries "roles": []
	Scope     string   // space-separated, or ""
	// AuthTime is when the user last authenticated (the auth_time claim),
	// kept to whole seconds; zero leaves the claim out.
	AuthTime time.Time
	// EmailVerified: the user's address was proven (email_verified).
	EmailVerified bool
	// AMR is how the user authenticated in the session (RFC 8176), and ACR
	// the assurance level that follows (auth.ACRFor); empty leaves the
	// claim out.
	AMR []string
	ACR string
}

// Issue signs an access token for g. It returns the token and its expiry.
func (i *Issuer) Issue(g Grant) (string, time.Time, error) {
	kr := i.keys()
	if kr == nil || kr.signer == nil {
		return "", time.Time{}, errors.New("token: no current signing key")
	}
	if g.UserID == "" {
		return "", time.Time{}, errors.New("token: no subject")
	}
	var authTime *jwt.NumericDate
	if !g.AuthTime.IsZero() {
		// Only what a verifier would accept back.
		if sec := g.AuthTime.Unix(); sec < 0 || sec > jwtcheck.MaxNumericDate {
			return "", time.Time{}, fmt.Errorf("token: auth_time %v is out of range", g.AuthTime)
		}
		authTime = jwt.NewNumericDate(time.Unix(g.AuthTime.Unix(), 0))
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", time.Time{}, fmt.Errorf("token: jti: %w", err)
	}
	// Whole seconds: that is all a NumericDate carries, and expiresAt must
	// say exactly what the token says.
	now := i.clock().Truncate(time.Second)
	exp := now.Add(i.ttl)
	roles := g.Roles
	if roles == nil {
		roles = []string{}
	}
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    i.issuer,
			Subject:   g.UserID,
			Audience:  jwt.ClaimStrings{i.audience},
			ExpiresAt: jwt.NewNumericDate(exp),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        base64.RawURLEncoding.EncodeToString(raw[:]),
		},
		SessionID: g.SessionID,
		Roles:     roles,
		Scope:     g.Scope,
		AuthTime:  authTime,

		EmailVerified: g.EmailVerified,
		AMR:           g.AMR,
		ACR:           g.ACR,
	}
	t := &jwt.Token{
		Header: map[string]any{"alg": kr.alg, "typ": TypeAccessToken, "kid": kr.kid},
		Claims: claims,
		Method: kr.method,
	}
	signed, err := t.SignedString(kr.signer)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("token: sign: %w", err)
	}
	return signed, exp, nil
}
