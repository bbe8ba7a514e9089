package provider

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/internal/crypt"
	"github.com/latchkey/latchkey/internal/jwtcheck"
	"github.com/latchkey/latchkey/internal/token"
)

// accessClaims are the claims of an access token the provider issues to a
// client: latchkey's RFC 9068 profile (typ at+jwt, signed with latchkey's
// current key) with the client it was issued to.
type accessClaims struct {
	jwt.RegisteredClaims
	ClientID  string           `json:"client_id"`
	Scope     string           `json:"scope,omitempty"`
	SessionID string           `json:"sid,omitempty"`
	GrantID   string           `json:"gid,omitempty"`
	AuthTime  *jwt.NumericDate `json:"auth_time,omitempty"`
	ACR       string           `json:"acr,omitempty"`
	AMR       []string         `json:"amr,omitempty"`
}

// signedClaims write aud as one string when there is one audience, as
// latchkey's own access tokens do (RFC 9068 allows either form).
type signedClaims struct {
	accessClaims
	Aud any `json:"aud,omitempty"`
}

func audienceJSON(aud []string) any {
	if len(aud) == 1 {
		return aud[0]
	}
	return aud
}

// accessGrant is what an access token states.
type accessGrant struct {
	Subject   string // a user id, or the client id for client credentials
	ClientID  string
	Audience  []string
	Scopes    []string
	SessionID string
	GrantID   string
	AuthTime  time.Time
	ACR       string
	AMR       []string
}

// tokenSigner signs and checks the provider's access tokens with
// latchkey's keys.
type tokenSigner struct {
	keys   func() *token.Keyring
	issuer string
	ttl    time.Duration
	now    func() time.Time
	cache  verifiedCache
}

// verifiedCache remembers tokens that verified (as token.Cache does for
// latchkey's own), so that a token presented again, to introspection or
// userinfo, skips the signature check. An entry is used only while its
// token's exp has not passed and the keyring is the one it was checked
// against; failures are never cached. Bounded: when full it starts afresh.
type verifiedCache struct {
	mu      sync.RWMutex
	entries map[string]verifiedEntry
}

type verifiedEntry struct {
	c  *accessClaims
	kr *token.Keyring
}

const verifiedCacheSize = token.DefaultCacheSize

func (v *verifiedCache) get(raw string, kr *token.Keyring, now time.Time) (*accessClaims, bool) {
	v.mu.RLock()
	e, ok := v.entries[raw]
	v.mu.RUnlock()
	if !ok || e.kr != kr || !now.Before(e.c.ExpiresAt.Time) {
		return nil, false
	}
	return e.c, true
}

func (v *verifiedCache) put(raw string, kr *token.Keyring, c *accessClaims) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.entries == nil || len(v.entries) >= verifiedCacheSize {
		v.entries = make(map[string]verifiedEntry, 64)
	}
	v.entries[raw] = verifiedEntry{c: c, kr: kr}
}

// sign returns an access token for g and its expiry.
func (s *tokenSigner) sign(g accessGrant) (string, time.Time, error) {
	kr := s.keys()
	if kr == nil {
		return "", time.Time{}, errors.New("provider: no keyring")
	}
	kid, alg, signer := kr.Signer()
	if signer == nil {
		return "", time.Time{}, errors.New("provider: no current signing key")
	}
	method := jwt.GetSigningMethod(alg)
	if method == nil {
		return "", time.Time{}, fmt.Errorf("provider: no signing method %s", alg)
	}
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", time.Time{}, err
	}
	now := s.now().Truncate(time.Second)
	exp := now.Add(s.ttl)
	c := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{Issuer: s.issuer, Subject: g.Subject, Audience: g.Audience,
			ExpiresAt: jwt.NewNumericDate(exp), IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
			ID: base64.RawURLEncoding.EncodeToString(jti[:])},
		ClientID: g.ClientID, Scope: strings.Join(g.Scopes, " "), SessionID: g.SessionID, GrantID: g.GrantID,
		ACR: g.ACR, AMR: g.AMR,
	}
	if !g.AuthTime.IsZero() {
		c.AuthTime = jwt.NewNumericDate(g.AuthTime.Truncate(time.Second))
	}
	t := &jwt.Token{Header: map[string]any{"alg": alg, "typ": token.TypeAccessToken, "kid": kid}, Claims: signedClaims{c, audienceJSON(g.Audience)}, Method: method}
	signed, err := t.SignedString(signer)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("provider: sign access token: %w", err)
	}
	return signed, exp, nil
}

var errNotOurs = errors.New("provider: not an access token of this provider")

// verify checks an access token the provider issued: one of latchkey's
// published keys, only with its own algorithm, typ at+jwt, this issuer,
// not expired, and issued to a client.
func (s *tokenSigner) verify(raw string) (*accessClaims, error) {
	if raw == "" || len(raw) > token.MaxTokenLength {
		return nil, errNotOurs
	}
	kr := s.keys()
	if kr == nil {
		return nil, errNotOurs
	}
	if c, ok := s.cache.get(raw, kr, s.now()); ok {
		return c, nil
	}
	c := &accessClaims{}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{token.ES256, token.EdDSA, token.RS256}), jwt.WithIssuer(s.issuer),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(token.ClockSkew), jwt.WithTimeFunc(s.now))
	_, err := parser.ParseWithClaims(raw, c, func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); typ != token.TypeAccessToken {
			return nil, errNotOurs
		}
		kid, _ := t.Header["kid"].(string)
		key, err := kr.KeyForKID(kid)
		if err != nil {
			return nil, err
		}
		if key.Alg != t.Method.Alg() {
			return nil, errNotOurs
		}
		return key.Public, nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNotOurs, err)
	}
	// golang-jwt honours its leeway for exp too; latchkey's own endpoints
	// refuse a token from the second its exp names.
	if !s.now().Before(c.ExpiresAt.Time) {
		return nil, errNotOurs
	}
	if c.ClientID == "" || c.Subject == "" || c.ID == "" {
		return nil, errNotOurs
	}
	s.cache.put(raw, kr, c)
	return c, nil
}

// opCrypto is op's Crypto, which op calls to turn an authorization
// request id into a code and a token id into a bearer access token. It
// makes the code a random 256-bit value (only its hash is stored, by
// SaveAuthCode), and the access token the JWT that CreateAccessToken
// already signed and handed to op as the token id: so op's bearer tokens
// are latchkey's own RFC 9068 tokens. Decrypt goes back from such a token
// to "token id:subject" for op's userinfo, introspection and revocation.
type opCrypto struct{ tokens *tokenSigner }

func (c opCrypto) Encrypt(s string) (string, error) {
	tokenID, subject, isToken := strings.Cut(s, ":")
	if !isToken {
		return crypt.RandomToken(32), nil // a code for the request s
	}
	// The token id is the token CreateAccessToken just signed; a second
	// signature check would only cost time. Its subject must be op's.
	if claims, ok := unverifiedClaims(tokenID); !ok || claims.Subject != subject || claims.ClientID == "" {
		return "", errors.New("provider: the token id is not a token this provider signed")
	}
	return tokenID, nil
}

// unverifiedClaims reads a JWT's payload without checking anything: only
// for a token this process just made, or to route one to the right check.
func unverifiedClaims(raw string) (*accessClaims, bool) {
	if len(raw) > token.MaxTokenLength {
		return nil, false
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, false
	}
	var c accessClaims
	if json.Unmarshal(payload, &c) != nil {
		return nil, false
	}
	return &c, true
}

// IsClientToken reports whether raw looks like an access token of a client
// (it names one), so that a caller can check it here first. It checks
// nothing: Introspect does.
func IsClientToken(raw string) bool {
	c, ok := unverifiedClaims(raw)
	return ok && c.ClientID != ""
}

func (c opCrypto) Decrypt(s string) (string, error) {
	claims, err := c.tokens.verify(s)
	if err != nil {
		return "", err
	}
	return s + ":" + claims.Subject, nil
}

// Keys turns latchkey's keyring into op's: the signing key and the key set.
type opSigningKey struct {
	kid, alg string
	key      any
}

func (k opSigningKey) SignatureAlgorithm() jwtAlg { return jwtAlg(k.alg) }
func (k opSigningKey) Key() any                   { return k.key }
func (k opSigningKey) ID() string                 { return k.kid }

type opPublicKey struct {
	kid string
	key jwtcheck.Key
}

func (k opPublicKey) ID() string        { return k.kid }
func (k opPublicKey) Algorithm() jwtAlg { return jwtAlg(k.key.Alg) }
func (k opPublicKey) Use() string       { return "sig" }
func (k opPublicKey) Key() any          { return k.key.Public }
