package token

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/jwtcheck"
)

// Keyring is an immutable snapshot of the signing keys: every published
// key by kid, the current key's private half, and the JWKS document. It is
// safe for concurrent use; KeyManager swaps in a new one on every change.
type Keyring struct {
	keys map[string]jwtcheck.Key

	// The current signing key; signer is nil when there is none (a keyring
	// built only to verify).
	kid    string
	alg    string
	method jwt.SigningMethod
	signer crypto.Signer

	jwks []byte

	// headers maps the exact header segment latchkey's Issuer writes for
	// each key to that key. A token whose header is byte-identical to one
	// of these needs no header parsing at all: the hot path.
	headers map[string]string
}

// NewKeyring parses every published key (next, current and retired) and
// opens the private key of the current one. When several keys are current
// (two instances that initialised at once) the most recently activated one
// signs; all of them keep verifying. A key that cannot be parsed, or whose
// algorithm does not fit its key type, is an error: a half-loaded keyring
// would refuse valid tokens in ways that are hard to trace.
func NewKeyring(keys []latchkey.SigningKey, s Sealer) (*Keyring, error) {
	kr := &Keyring{keys: make(map[string]jwtcheck.Key, len(keys)), headers: make(map[string]string, len(keys))}
	var current *latchkey.SigningKey
	jwks := make([]jwk, 0, len(keys))
	for i := range keys {
		k := &keys[i]
		switch k.State {
		case latchkey.KeyNext, latchkey.KeyCurrent, latchkey.KeyRetired:
		default:
			return nil, fmt.Errorf("token: key %s has unknown state %q", k.ID, k.State)
		}
		if k.ID == "" {
			return nil, fmt.Errorf("token: a signing key has no kid")
		}
		if _, dup := kr.keys[k.ID]; dup {
			return nil, fmt.Errorf("token: kid %s appears twice", k.ID)
		}
		if _, err := signingMethod(k.Algorithm); err != nil {
			return nil, fmt.Errorf("token: key %s: %w", k.ID, err)
		}
		pub, err := parsePublic(k.Algorithm, k.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("token: key %s: %w", k.ID, err)
		}
		kr.keys[k.ID] = jwtcheck.Key{Alg: k.Algorithm, Public: pub}
		kr.headers[canonicalHeader(k.Algorithm, k.ID)] = k.ID
		j, err := publicJWK(k.ID, k.Algorithm, pub)
		if err != nil {
			return nil, fmt.Errorf("token: key %s: %w", k.ID, err)
		}
		jwks = append(jwks, j)
		if k.State == latchkey.KeyCurrent && (current == nil || newer(k, current)) {
			current = k
		}
	}
	if current != nil {
		signer, err := openPrivate(*current, s, kr.keys[current.ID].Public)
		if err != nil {
			return nil, fmt.Errorf("token: current key %s: %w", current.ID, err)
		}
		kr.kid, kr.alg, kr.signer = current.ID, current.Algorithm, signer
		kr.method, _ = signingMethod(current.Algorithm)
	}
	doc, err := marshalJWKS(jwks)
	if err != nil {
		return nil, err
	}
	kr.jwks = doc
	return kr, nil
}

// newer orders current keys: the latest activation wins, then the latest
// creation, then the kid so that every instance picks the same key.
func newer(a, b *latchkey.SigningKey) bool {
	ta, tb := activated(a), activated(b)
	if !ta.Equal(tb) {
		return ta.After(tb)
	}
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.After(b.CreatedAt)
	}
	return a.ID > b.ID
}

func activated(k *latchkey.SigningKey) time.Time {
	if k.ActivatedAt != nil {
		return *k.ActivatedAt
	}
	return k.CreatedAt
}

// JWKS returns the JSON Web Key Set of every published key, with public
// members only. The slice is shared: do not modify it.
func (kr *Keyring) JWKS() []byte { return kr.jwks }

// CurrentKID returns the kid of the signing key ("" when there is none).
func (kr *Keyring) CurrentKID() string { return kr.kid }

// CurrentAlgorithm returns the algorithm of the signing key.
func (kr *Keyring) CurrentAlgorithm() string { return kr.alg }

// Has reports whether kid is one of the published keys.
func (kr *Keyring) Has(kid string) bool {
	_, ok := kr.keys[kid]
	return ok
}

// canonicalHeader is the header segment Issue writes for a key. It must
// stay byte-identical to what golang-jwt produces from Issue's header map
// (members sorted by name); a test checks that it does.
func canonicalHeader(alg, kid string) string {
	h, _ := json.Marshal(map[string]string{"alg": alg, "kid": kid, "typ": TypeAccessToken})
	return base64.RawURLEncoding.EncodeToString(h)
}
