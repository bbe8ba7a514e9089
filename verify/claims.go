package verify

import (
	"errors"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// accessClaims are the claims of a latchkey access token. golang-jwt
// validates them through the embedded RegisteredClaims.
type accessClaims struct {
	jwt.RegisteredClaims
	SessionID string
	Roles     []string
	Scope     string
	AuthTime  *jwt.NumericDate // auth_time: when the user last signed in
}

var (
	errBadDate  = errors.New("exp, nbf, iat or auth_time is not a whole number of seconds in range")
	errBadClaim = errors.New("claim of the wrong type")
)

// UnmarshalJSON reads the claims strictly, in the same pass that checks
// them: no duplicate or case-variant members (see eachMember), numeric
// dates that are whole seconds in range, and every known claim of its
// registered type (a null counts as the wrong type). golang-jwt calls this
// after encoding/json has checked that data is valid JSON. Reading the
// claims once, here, rather than checking them and then decoding them
// again, also means no second reader can see them differently.
func (c *accessClaims) UnmarshalJSON(data []byte) error {
	*c = accessClaims{}
	return eachValidMember(data, func(name, value []byte) error {
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
		case "aud":
			var s string
			if s, ok = jsonString(value); ok {
				c.Audience = jwt.ClaimStrings{s}
			} else {
				c.Audience, ok = jsonStrings(value)
			}
		case "roles":
			c.Roles, ok = jsonStrings(value)
		case "exp":
			c.ExpiresAt, ok = numericDate(value)
		case "nbf":
			c.NotBefore, ok = numericDate(value)
		case "iat":
			c.IssuedAt, ok = numericDate(value)
		case "auth_time":
			c.AuthTime, ok = numericDate(value)
		default:
			return refuseCaseVariant(name, claimNames)
		}
		if !ok {
			if string(name) == "exp" || string(name) == "nbf" || string(name) == "iat" || string(name) == "auth_time" {
				return errBadDate
			}
			return errBadClaim
		}
		return nil
	})
}

// claimNames are the claims whose case variants we refuse.
var claimNames = []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "sid", "roles", "scope", "auth_time"}

// maxNumericDate is 9999-12-31T23:59:59Z: no real token needs more, and a
// larger value would overflow on conversion to time.Time in ways that
// differ between platforms.
const maxNumericDate = 253402300799

// numericDate reads a JSON integer of seconds between the epoch and
// maxNumericDate. latchkey issues whole seconds; fractions, exponents and
// signs are refused rather than rounded.
func numericDate(value []byte) (*jwt.NumericDate, bool) {
	if len(value) == 0 || len(value) > 12 {
		return nil, false
	}
	for _, c := range value {
		if c < '0' || c > '9' {
			return nil, false
		}
	}
	n, err := strconv.ParseInt(string(value), 10, 64)
	if err != nil || n > maxNumericDate {
		return nil, false
	}
	return &jwt.NumericDate{Time: time.Unix(n, 0)}, true
}

// jsonStrings reads a JSON array of strings (value must be valid JSON).
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
