package jwtcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/internal/jsoncheck"
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
	// EmailVerified says whether the user's address was proven when the
	// token was issued (a boolean is not personal data).
	EmailVerified bool `json:"email_verified"`
	// AMR lists how the user authenticated in the session (RFC 8176
	// values such as "pwd", "otp", "mfa"); ACR is the assurance level that
	// follows ("aal1" or "aal2"). Both are left out when unknown.
	AMR []string `json:"amr,omitempty"`
	ACR string   `json:"acr,omitempty"`
}

// MaxNumericDate bounds exp, iat, nbf and auth_time (9999-12-31T23:59:59Z):
// a larger value is a forgery or a bug, and would overflow time arithmetic
// in ways that differ between platforms.
const MaxNumericDate = 253402300799

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
	w.Exp = numericDateJSON(c.ExpiresAt)
	w.Iat = numericDateJSON(c.IssuedAt)
	w.Nbf = numericDateJSON(c.NotBefore)
	w.AuthTime = numericDateJSON(c.AuthTime)
	return json.Marshal(w)
}

func numericDateJSON(d *jwt.NumericDate) json.RawMessage {
	if d == nil {
		return nil
	}
	return strconv.AppendInt(nil, d.Unix(), 10)
}

// UnmarshalJSON decodes claims strictly: no duplicate or case-variant
// members at any level (jsoncheck), registered claims matched by their
// exact name (encoding/json would bind "SUB" to sub, so a lone case variant
// is refused), each of its one JSON type (a null counts as the wrong type),
// roles an array of strings, and exp, iat, nbf and auth_time non-negative
// integers up to MaxNumericDate (not a quoted number, a float or 1e20). A
// token that two parsers could read differently is refused. Unknown claims
// are ignored (RFC 7519 §4). aud may be a string or an array of strings;
// whether an array is acceptable is the Checker's decision.
func (c *Claims) UnmarshalJSON(data []byte) error {
	p, _, err := decodeClaims(data)
	if err != nil {
		return err
	}
	*c = p
	return nil
}

// claimNames are the claims latchkey reads; a case variant of one is refused.
var claimNames = []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "sid", "roles", "scope", "auth_time", "email_verified", "amr", "acr"}

var errNotString = errors.New("must be a string")

// decodeClaims reads the claims in one pass over the JSON, and reports
// whether aud was an array.
func decodeClaims(data []byte) (c Claims, audArray bool, err error) {
	err = jsoncheck.Members(data, func(name, value []byte) error {
		var ok bool
		switch string(name) {
		case "iss":
			c.Issuer, ok = jsonString(value)
		case "sub":
			c.Subject, ok = jsonString(value)
		case "jti":
			c.ID, ok = jsonString(value)
		case "sid":
			c.SessionID, ok = jsonString(value)
		case "scope":
			c.Scope, ok = jsonString(value)
		case "acr":
			c.ACR, ok = jsonString(value)
		case "amr":
			if c.AMR, ok = jsonStrings(value); !ok {
				return errors.New(`claim "amr" must be an array of strings`)
			}
		case "aud":
			var s string
			if s, ok = jsonString(value); ok {
				c.Audience = jwt.ClaimStrings{s}
			} else if c.Audience, ok = jsonStrings(value); ok {
				audArray = true
			} else {
				return errors.New(`claim "aud" must be a string or an array of strings`)
			}
		case "email_verified":
			switch string(value) {
			case "true":
				c.EmailVerified = true
			case "false":
				c.EmailVerified = false
			default:
				return errors.New(`claim "email_verified" must be true or false`)
			}
			return nil
		case "roles":
			if c.Roles, ok = jsonStrings(value); !ok {
				return errors.New(`claim "roles" must be an array of strings`)
			}
		case "exp", "nbf", "iat", "auth_time":
			d, ok := numericDate(value)
			if !ok {
				return fmt.Errorf("claim %q must be a whole number of seconds from 0 to %d", name, MaxNumericDate)
			}
			switch string(name) {
			case "exp":
				c.ExpiresAt = d
			case "nbf":
				c.NotBefore = d
			case "iat":
				c.IssuedAt = d
			default:
				c.AuthTime = d
			}
			return nil
		default:
			if caseVariant(name, claimNames) {
				return fmt.Errorf("claim %q differs only in case from a registered claim", name)
			}
			return nil
		}
		if !ok {
			return fmt.Errorf("claim %q %w", name, errNotString)
		}
		return nil
	})
	if err != nil {
		return Claims{}, false, fmt.Errorf("claims: %w", err)
	}
	if c.Roles == nil {
		c.Roles = []string{}
	}
	return c, audArray, nil
}

// caseVariant reports whether name equals one of known up to Unicode case
// folding (as encoding/json matches names) without being it.
func caseVariant(name []byte, known []string) bool {
	for _, k := range known {
		if bytes.EqualFold(name, []byte(k)) && string(name) != k {
			return true
		}
	}
	return false
}

// numericDate reads a bare JSON integer of seconds from 0 to
// MaxNumericDate. latchkey issues whole seconds; fractions, exponents and
// signs are refused rather than rounded.
func numericDate(value []byte) (*jwt.NumericDate, bool) {
	if len(value) == 0 || len(value) > 12 || (value[0] == '0' && len(value) > 1) {
		return nil, false
	}
	for _, b := range value {
		if b < '0' || b > '9' {
			return nil, false
		}
	}
	n, err := strconv.ParseInt(string(value), 10, 64)
	if err != nil || n > MaxNumericDate {
		return nil, false
	}
	return jwt.NewNumericDate(time.Unix(n, 0)), true
}

// The readers below take a value jsoncheck has already read: valid JSON
// and valid UTF-8.

// jsonString returns the value of a JSON string, and ok=false for anything
// else (null included).
func jsonString(value []byte) (string, bool) {
	if len(value) < 2 || value[0] != '"' {
		return "", false
	}
	if inner := value[1 : len(value)-1]; bytes.IndexByte(inner, '\\') < 0 {
		return string(inner), true
	}
	var s string
	if err := json.Unmarshal(value, &s); err != nil {
		return "", false
	}
	return s, true
}

// jsonStrings reads a JSON array of strings.
func jsonStrings(value []byte) ([]string, bool) {
	if len(value) == 0 || value[0] != '[' {
		return nil, false
	}
	out := []string{}
	i := skipSpace(value, 1)
	for value[i] != ']' {
		if value[i] == ',' {
			i = skipSpace(value, i+1)
		}
		if value[i] != '"' {
			return nil, false
		}
		end := skipString(value, i)
		s, ok := jsonString(value[i:end])
		if !ok {
			return nil, false
		}
		out = append(out, s)
		i = skipSpace(value, end)
	}
	return out, true
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at data[i].
func skipString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}
