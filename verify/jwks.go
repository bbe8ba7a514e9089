package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"time"

	"github.com/latchkey/latchkey/internal/jwtcheck"
)

// maxJWKSBytes bounds the JWKS document we are willing to read.
const maxJWKSBytes = 1 << 20

// keySet is an immutable snapshot of the issuer's JWKS.
type keySet struct {
	keys      map[string]jwtcheck.Key
	fetchedAt time.Time
}

type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	X   string `json:"x"`
	Y   string `json:"y"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// parseJWKS turns a JWKS document into usable keys. Keys without an alg,
// with an alg we do not accept, not meant for signatures, or whose material
// does not fit their alg are skipped; a kid that appears twice is dropped
// altogether, since we could not tell which key it means.
func parseJWKS(data []byte) (map[string]jwtcheck.Key, error) {
	var doc struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decode JWKS: %w", err)
	}
	keys := make(map[string]jwtcheck.Key, len(doc.Keys))
	dup := map[string]bool{}
	for _, k := range doc.Keys {
		if k.Kid == "" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		pk, err := k.publicKey()
		if err != nil {
			continue
		}
		if _, ok := keys[k.Kid]; ok || dup[k.Kid] {
			delete(keys, k.Kid)
			dup[k.Kid] = true
			continue
		}
		keys[k.Kid] = jwtcheck.Key{Alg: k.Alg, Public: pk}
	}
	if len(keys) == 0 {
		return nil, errors.New("JWKS holds no usable signing key")
	}
	return keys, nil
}

func (k *jwk) publicKey() (any, error) {
	b64 := base64.RawURLEncoding.Strict()
	switch {
	case k.Alg == "ES256" && k.Kty == "EC" && k.Crv == "P-256":
		x, errX := b64.DecodeString(k.X)
		y, errY := b64.DecodeString(k.Y)
		if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
			return nil, errors.New("bad EC coordinates")
		}
		// ParseUncompressedPublicKey checks that the point is on the curve.
		return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	case k.Alg == "EdDSA" && k.Kty == "OKP" && k.Crv == "Ed25519":
		x, err := b64.DecodeString(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, errors.New("bad Ed25519 key")
		}
		return ed25519.PublicKey(x), nil
	case k.Alg == "RS256" && k.Kty == "RSA":
		n, errN := b64.DecodeString(k.N)
		e, errE := b64.DecodeString(k.E)
		if errN != nil || errE != nil || len(e) == 0 || len(e) > 4 {
			return nil, errors.New("bad RSA key")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < 2048 || pub.E < 3 || pub.E%2 == 0 {
			return nil, errors.New("weak RSA key")
		}
		return pub, nil
	}
	return nil, errors.New("unsupported key or algorithm")
}

// fetchJWKS downloads and parses the issuer's JWKS. The URL always comes
// from the configuration, never from a token.
func (v *Verifier) fetchJWKS(ctx context.Context) (map[string]jwtcheck.Key, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.cfg.JWKSURL, nil)
	if err != nil {
		return nil, fmt.Errorf("JWKS request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch JWKS: status %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read JWKS: %w", err)
	}
	if len(data) > maxJWKSBytes {
		return nil, errors.New("JWKS larger than 1 MiB")
	}
	return parseJWKS(data)
}

// fetchTimeout bounds one JWKS download; the download is detached from the
// request that triggered it, so a client hanging up cannot cancel it for
// every other caller.
const fetchTimeout = 10 * time.Second

// key returns the verification key for kid. It fetches the JWKS when none
// is loaded, when the loaded one is older than JWKSRefreshInterval, or when
// kid is unknown; every fetch attempt, successful or not, is at least
// UnknownKIDMinInterval after the previous one, so neither a storm of
// unknown kids nor an unreachable issuer turns into a fetch per request.
func (v *Verifier) key(ctx context.Context, kid string) (jwtcheck.Key, error) {
	now := v.cfg.Clock()
	ks := v.keys.Load()
	if ks != nil && now.Sub(ks.fetchedAt) < v.cfg.JWKSRefreshInterval {
		if k, ok := ks.keys[kid]; ok {
			return k, nil
		}
	}
	ks = v.refresh(ctx, now)
	if ks == nil {
		return jwtcheck.Key{}, refuse(ErrUnavailable, "no JWKS loaded", nil)
	}
	k, ok := ks.keys[kid]
	if !ok {
		return jwtcheck.Key{}, refuse(ErrInvalidToken, "unknown kid", nil)
	}
	return k, nil
}

// refresh fetches the JWKS unless an attempt was made within
// UnknownKIDMinInterval, and returns the newest key set (possibly the old
// one: stale public keys remain good for verification while the issuer is
// unreachable).
func (v *Verifier) refresh(ctx context.Context, now time.Time) *keySet {
	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	if !v.lastAttempt.IsZero() && now.Sub(v.lastAttempt) < v.cfg.UnknownKIDMinInterval {
		return v.keys.Load()
	}
	v.lastAttempt = now
	v.fetches.Add(1)
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	defer cancel()
	keys, err := v.fetchJWKS(fctx)
	if err != nil {
		v.cfg.Logger.WarnContext(ctx, "latchkey verify: JWKS refresh failed", "url", v.cfg.JWKSURL, "err", err)
		return v.keys.Load()
	}
	ks := &keySet{keys: keys, fetchedAt: now}
	v.keys.Store(ks)
	return ks
}
