package token

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
	// AuthTime is when the user last authenticated in this session (OpenID
	// Connect Core §2 auth_time); nil when the token does not say.
	AuthTime *jwt.NumericDate `json:"auth_time,omitempty"`
}

// maxNumericDate bounds exp, iat, nbf and auth_time (the end of year 9999): a larger
// value is a forgery or a bug, and would overflow time arithmetic.
const maxNumericDate = 253402300799

// claimsJSON is the form latchkey writes. Its aud, exp, iat, nbf and
// auth_time shadow the embedded members: aud as one string, and the times
// as whole seconds.
type claimsJSON struct {
	*plainClaims
	Aud      json.RawMessage `json:"aud,omitempty"`
	Exp      json.RawMessage `json:"exp,omitempty"`
	Iat      json.RawMessage `json:"iat,omitempty"`
	Nbf      json.RawMessage `json:"nbf,omitempty"`
	AuthTime json.RawMessage `json:"auth_time,omitempty"`
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
	w.AuthTime = numericDate(c.AuthTime)
	return json.Marshal(w)
}

func numericDate(d *jwt.NumericDate) json.RawMessage {
	if d == nil {
		return nil
	}
	return strconv.AppendInt(nil, d.Unix(), 10)
}

// UnmarshalJSON decodes claims strictly: no duplicate or case-variant
// members (jsonx.Check), member names matched exactly (encoding/json would
// bind "SUB" to sub), each claim of its one JSON type, aud a single string,
// and exp, iat, nbf and auth_time non-negative integers of sensible size (not a
// quoted number, a float or 1e20). A token that two parsers could read
// differently is refused. Unknown claims are ignored (RFC 7519 §4).
func (c *Claims) UnmarshalJSON(data []byte) error {
	if err := jsonx.Check(data); err != nil {
		return fmt.Errorf("claims: %w", err)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return fmt.Errorf("claims: %w", err)
	}
	var p Claims
	var err error
	for name, raw := range members {
		switch name {
		case "iss":
			err = jsonString(raw, &p.Issuer)
		case "sub":
			err = jsonString(raw, &p.Subject)
		case "jti":
			err = jsonString(raw, &p.ID)
		case "sid":
			err = jsonString(raw, &p.SessionID)
		case "scope":
			err = jsonString(raw, &p.Scope)
		case "aud":
			var aud string
			err = jsonString(raw, &aud)
			p.Audience = jwt.ClaimStrings{aud}
		case "roles":
			if len(raw) == 0 || raw[0] != '[' {
				err = errors.New("must be an array of strings")
			} else {
				err = json.Unmarshal(raw, &p.Roles)
			}
		case "exp":
			p.ExpiresAt, err = parseNumericDate(raw)
		case "iat":
			p.IssuedAt, err = parseNumericDate(raw)
		case "nbf":
			p.NotBefore, err = parseNumericDate(raw)
		case "auth_time":
			p.AuthTime, err = parseNumericDate(raw)
		default:
			if known[strings.ToLower(name)] {
				err = errors.New("differs only in case from a registered claim")
			}
		}
		if err != nil {
			return fmt.Errorf("claims: %q: %w", name, err)
		}
	}
	if p.Roles == nil {
		p.Roles = []string{}
	}
	*c = p
	return nil
}

// known are the claims latchkey reads; a case variant of one is refused.
var known = map[string]bool{"iss": true, "sub": true, "aud": true, "exp": true, "iat": true, "nbf": true,
	"jti": true, "sid": true, "roles": true, "scope": true, "auth_time": true}

// jsonString decodes a JSON string, and nothing else (not null).
func jsonString(raw json.RawMessage, dst *string) error {
	if len(raw) < 2 || raw[0] != '"' {
		return errors.New("must be a string")
	}
	// raw is a member of a document the decoder has already validated, so
	// a string without escapes is its own content.
	if inner := raw[1 : len(raw)-1]; bytes.IndexByte(inner, '\\') < 0 {
		*dst = string(inner)
		return nil
	}
	return json.Unmarshal(raw, dst)
}

// parseNumericDate accepts only a bare non-negative integer.
func parseNumericDate(raw json.RawMessage) (*jwt.NumericDate, error) {
	if len(raw) == 0 || len(raw) > 12 || (raw[0] == '0' && len(raw) > 1) {
		return nil, errors.New("is not a valid time")
	}
	for _, b := range raw {
		if b < '0' || b > '9' {
			return nil, errors.New("must be an integer number of seconds")
		}
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || n > maxNumericDate {
		return nil, errors.New("is out of range")
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
