package verify

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// maxTokenBytes caps an access token before anything parses it.
const maxTokenBytes = 8 << 10

// tokenEntry is a verified token in the cache.
type tokenEntry struct {
	id  *Identity
	kid string
}

// headerNames are the JOSE header members whose case variants we refuse,
// so that no reader can take "ALG" or "Kid" for the real thing.
var headerNames = []string{"alg", "typ", "kid", "cty", "jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256", "crit", "enc", "zip", "b64"}

// verifyToken checks an access token; see the package documentation for
// the list of checks.
func (v *Verifier) verifyToken(ctx context.Context, raw string) (*Identity, error) {
	if len(raw) > maxTokenBytes {
		return nil, refuse(ErrInvalidToken, "token longer than 8 KiB", nil)
	}
	now := v.cfg.Clock()
	if v.tokens != nil {
		if e, ok := v.tokens.get(raw, now); ok {
			// A token whose key has since left the JWKS is no longer trusted.
			if ks := v.keys.Load(); ks != nil {
				if _, ok := ks.keys[e.kid]; ok {
					id := *e.id
					return &id, nil
				}
			}
		}
	}
	hdrSeg, ok := compactParts(raw)
	if !ok {
		return nil, refuse(ErrInvalidToken, "not a compact JWS", nil)
	}
	alg, kid, err := checkHeader(hdrSeg)
	if err != nil {
		return nil, refuse(ErrInvalidToken, "header", err)
	}
	key, err := v.key(ctx, kid)
	if err != nil {
		return nil, err
	}
	if key.alg != alg {
		return nil, refuse(ErrInvalidToken, "alg "+alg+" is not the algorithm of key "+kid, nil)
	}
	var claims accessClaims
	_, err = v.parsers[key.alg].ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		if t.Method.Alg() != key.alg {
			return nil, errors.New("algorithm mismatch")
		}
		return key.key, nil
	})
	if err != nil {
		if onlyExpired(err) {
			return nil, refuse(ErrTokenExpired, "expired", err)
		}
		return nil, refuse(ErrInvalidToken, "parse", err)
	}
	if claims.Subject == "" || claims.ExpiresAt == nil {
		return nil, refuse(ErrInvalidToken, "sub missing", nil)
	}
	id := &Identity{
		Kind:      KindAccessToken,
		UserID:    claims.Subject,
		SessionID: claims.SessionID,
		Roles:     claims.Roles,
		Scopes:    strings.Fields(claims.Scope),
		ExpiresAt: claims.ExpiresAt.Time,
	}
	if claims.AuthTime != nil {
		id.AuthTime = claims.AuthTime.Time
	}
	if v.tokens != nil {
		v.tokens.put(raw, tokenEntry{id: id, kid: kid}, claims.ExpiresAt.Time)
		cp := *id
		id = &cp
	}
	return id, nil
}

// onlyExpired reports whether a genuine token failed for no reason other
// than expiry. Signature problems stop golang-jwt before claims are
// checked, so an expired-and-forged token never gets here as "expired".
func onlyExpired(err error) bool {
	if !errors.Is(err, jwt.ErrTokenExpired) {
		return false
	}
	for _, other := range []error{
		jwt.ErrTokenMalformed, jwt.ErrTokenUnverifiable, jwt.ErrTokenSignatureInvalid,
		jwt.ErrTokenInvalidAudience, jwt.ErrTokenInvalidIssuer, jwt.ErrTokenNotValidYet,
		jwt.ErrTokenUsedBeforeIssued, jwt.ErrTokenRequiredClaimMissing, jwt.ErrTokenInvalidSubject,
		jwt.ErrTokenInvalidId,
	} {
		if errors.Is(err, other) {
			return false
		}
	}
	return true
}

// compactParts returns the header segment of a compact JWS,
// refusing anything but three non-empty segments of base64url characters
// (no padding, whitespace, JSON serialisation or five-part JWE).
func compactParts(raw string) (header string, ok bool) {
	dots := 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		case c == '.':
			dots++
			if dots > 2 {
				return "", false
			}
		default:
			return "", false
		}
	}
	header, rest, _ := strings.Cut(raw, ".")
	claims, sig, _ := strings.Cut(rest, ".")
	if dots != 2 || header == "" || claims == "" || sig == "" {
		return "", false
	}
	return header, true
}

var b64 = base64.RawURLEncoding.Strict()

var (
	errForbiddenHeader = errors.New("header names a key, a key URL or critical extensions")
	errBadTyp          = errors.New("typ is not at+jwt")
	errBadKid          = errors.New("kid missing or not a string")
	errBadAlg          = errors.New("alg missing or not a string")
)

// checkHeader reads the JOSE header strictly and returns its alg and kid.
// A token may never bring its own key or point at one: jwk, jku, x5u, x5c
// are refused outright (nothing in a token is ever fetched), and so is
// crit, since we implement no extension.
func checkHeader(seg string) (alg, kid string, err error) {
	data, err := b64.DecodeString(seg)
	if err != nil {
		return "", "", err
	}
	var typ string
	var haveAlg, haveKid, haveTyp bool
	err = eachMember(data, func(name, value []byte) error {
		switch string(name) {
		case "alg":
			alg, haveAlg = jsonString(value)
		case "kid":
			kid, haveKid = jsonString(value)
		case "typ":
			typ, haveTyp = jsonString(value)
		case "jku", "x5u", "jwk", "x5c", "crit", "enc", "zip":
			return errForbiddenHeader
		default:
			return refuseCaseVariant(name, headerNames)
		}
		return nil
	})
	switch {
	case err != nil:
		return "", "", err
	case !haveAlg || alg == "":
		return "", "", errBadAlg
	case !haveKid || kid == "":
		return "", "", errBadKid
	case !haveTyp || !(typ == "at+jwt" || typ == "application/at+jwt"):
		return "", "", errBadTyp
	}
	return alg, kid, nil
}

func refuseCaseVariant(name []byte, known []string) error {
	for _, k := range known {
		if bytes.EqualFold(name, []byte(k)) && string(name) != k {
			return errCaseVariant
		}
	}
	return nil
}
