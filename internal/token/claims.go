package token

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/internal/jsonx"
)

// Claims are the claims of a latchkey access token (RFC 9068). They carry
// no personal data: sub is the opaque user id.
type Claims struct {
	jwt.RegisteredClaims
	SessionID string   `json:"sid,omitempty"`
	Roles     []string `json:"roles"`
	Scope     string   `json:"scope,omitempty"`
}

// maxNumericDate bounds exp, iat and nbf (the end of year 9999): a larger
// value is a forgery or a bug, and would overflow time arithmetic.
const maxNumericDate = 253402300799

// claimsJSON is the wire form. Its aud, exp, iat and nbf shadow the
// embedded RegisteredClaims members so that latchkey, not golang-jwt's
// lenient defaults, decides what they may look like.
type claimsJSON struct {
	*plainClaims
	Aud json.RawMessage `json:"aud,omitempty"`
	Exp json.RawMessage `json:"exp,omitempty"`
	Iat json.RawMessage `json:"iat,omitempty"`
	Nbf json.RawMessage `json:"nbf,omitempty"`
}

// plainClaims has Claims' fields without its methods (no recursion).
type plainClaims Claims

// MarshalJSON writes aud as a single string (RFC 9068 allows it, and
// golang-jwt would otherwise write an array) and roles as [] when empty.
func (c Claims) MarshalJSON() ([]byte, error) {
	p := plainClaims(c)
	if p.Roles == nil {
		p.Roles = []string{}
	}
	w := claimsJSON{plainClaims: &p}
	switch len(c.Audience) {
	case 0:
	case 1:
		w.Aud, _ = json.Marshal(c.Audience[0])
	default:
		w.Aud, _ = json.Marshal([]string(c.Audience))
	}
	w.Exp = numericDate(c.ExpiresAt)
	w.Iat = numericDate(c.IssuedAt)
	w.Nbf = numericDate(c.NotBefore)
	return json.Marshal(w)
}

func numericDate(d *jwt.NumericDate) json.RawMessage {
	if d == nil {
		return nil
	}
	return strconv.AppendInt(nil, d.Unix(), 10)
}

// UnmarshalJSON decodes claims strictly: no duplicate or case-variant
// members (jsonx.Check), aud a single string, and exp, iat and nbf
// non-negative integers of sensible size. encoding/json would accept a
// quoted "exp", a float or a case variant such as "EXP"; a token that two
// parsers could read differently is refused instead.
func (c *Claims) UnmarshalJSON(data []byte) error {
	if err := jsonx.Check(data); err != nil {
		return fmt.Errorf("claims: %w", err)
	}
	var p plainClaims
	w := claimsJSON{plainClaims: &p}
	if err := json.Unmarshal(data, &w); err != nil {
		return fmt.Errorf("claims: %w", err)
	}
	if w.Aud != nil {
		var aud string
		if err := json.Unmarshal(w.Aud, &aud); err != nil {
			return errors.New("claims: aud must be a single string")
		}
		p.Audience = jwt.ClaimStrings{aud}
	}
	var err error
	if p.ExpiresAt, err = parseNumericDate("exp", w.Exp); err != nil {
		return err
	}
	if p.IssuedAt, err = parseNumericDate("iat", w.Iat); err != nil {
		return err
	}
	if p.NotBefore, err = parseNumericDate("nbf", w.Nbf); err != nil {
		return err
	}
	if p.Roles == nil {
		p.Roles = []string{}
	}
	*c = Claims(p)
	return nil
}

// parseNumericDate accepts only a bare non-negative integer.
func parseNumericDate(name string, raw json.RawMessage) (*jwt.NumericDate, error) {
	if raw == nil {
		return nil, nil
	}
	if len(raw) == 0 || len(raw) > 12 {
		return nil, fmt.Errorf("claims: %s is not a valid time", name)
	}
	for _, b := range raw {
		if b < '0' || b > '9' {
			return nil, fmt.Errorf("claims: %s must be an integer number of seconds", name)
		}
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || n > maxNumericDate {
		return nil, fmt.Errorf("claims: %s is out of range", name)
	}
	return jwt.NewNumericDate(time.Unix(n, 0)), nil
}

// Validate is called by golang-jwt after the signature checks out: the
// claims every latchkey access token carries must be present.
func (c *Claims) Validate() error {
	switch {
	case c.Subject == "":
		return errors.New("sub is missing")
	case c.ID == "":
		return errors.New("jti is missing")
	case c.IssuedAt == nil:
		return errors.New("iat is missing")
	}
	return nil
}
