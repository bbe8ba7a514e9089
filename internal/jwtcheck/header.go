package jwtcheck

import (
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/latchkey/latchkey/internal/jsoncheck"
)

// MaxTokenLength caps an access token before anything is parsed or
// allocated (CVE-2025-30204: a header of many dots made golang-jwt allocate
// in proportion to the input). latchkey's tokens are well under 1 KiB.
const MaxTokenLength = 8 << 10

// TypeAccessToken is the typ header of every access token (RFC 9068 §2.1).
const TypeAccessToken = "at+jwt"

// splitCompact checks the compact serialisation: exactly three non-empty
// segments of base64url characters, nothing else (no padding, no
// whitespace, no JSON serialisation, no five-part JWE). It returns the
// position of the first dot.
func splitCompact(token string) (int, error) {
	dots := [2]int{}
	n := 0
	for i := 0; i < len(token); i++ {
		c := token[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		case c == '.':
			if n == 2 {
				return 0, errors.New("too many segments")
			}
			dots[n] = i
			n++
		default:
			return 0, fmt.Errorf("character %q is not allowed", c)
		}
	}
	if n != 2 {
		return 0, errors.New("too few segments")
	}
	if dots[0] == 0 || dots[1] == dots[0]+1 || dots[1] == len(token)-1 {
		return 0, errors.New("empty segment")
	}
	return dots[0], nil
}

// header is the protected header of an access token.
type header struct {
	alg, kid, typ string
}

// parseHeader decodes the header and refuses anything but a plain
// {"alg","kid","typ"}: any other member (jku, x5u, jwk, x5c, x5t, crit,
// zip, enc, b64, cty, …) could ask a verifier to fetch a key, trust a key
// from the token or process the token differently, and latchkey never
// issues one, so the allow-list is exact.
func parseHeader(seg string) (header, error) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	if err != nil {
		return header{}, fmt.Errorf("header: %w", err)
	}
	var h header
	err = jsoncheck.Members(raw, func(name, value []byte) error {
		var dst *string
		switch string(name) {
		case "alg":
			dst = &h.alg
		case "kid":
			dst = &h.kid
		case "typ":
			dst = &h.typ
		default:
			return fmt.Errorf("member %q is not allowed", name)
		}
		var ok bool
		if *dst, ok = jsonString(value); !ok {
			return fmt.Errorf("member %q must be a string", name)
		}
		return nil
	})
	switch {
	case err != nil:
		return header{}, fmt.Errorf("header: %w", err)
	case h.kid == "":
		return header{}, errors.New("header has no kid")
	case h.alg == "":
		return header{}, errors.New("header has no alg")
	case h.typ != TypeAccessToken && h.typ != "application/"+TypeAccessToken:
		return header{}, fmt.Errorf("typ %q is not an access token", h.typ)
	}
	return h, nil
}
