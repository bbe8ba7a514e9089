package auth

import (
	"strings"

	"github.com/latchkey/latchkey"
)

// MaxEmailLength is RFC 5321's limit on a forward path.
const MaxEmailLength = 254

// CanonicalEmail returns the one form an email address is stored and looked
// up in: surrounding white space trimmed, lower case, no trailing dot on the
// domain. Only printable ASCII is accepted (internationalised domains in
// their punycode form): Unicode case folding and compatibility mappings make
// look-alikes such as the Kelvin sign (U+212A) or fullwidth letters collide
// with real addresses, which has let attackers take over accounts elsewhere.
func CanonicalEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", invalidEmail("An email address is required.")
	}
	if len(s) > MaxEmailLength {
		return "", invalidEmail("The email address is too long.")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return "", invalidEmail("The email address may only contain printable ASCII characters (use punycode for international domains).")
		}
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", invalidEmail("The email address must look like name@example.com.")
	}
	local, domain := s[:at], strings.TrimSuffix(strings.ToLower(s[at+1:]), ".")
	if !validLocal(local) || !validDomain(domain) {
		return "", invalidEmail("The email address must look like name@example.com.")
	}
	return strings.ToLower(local) + "@" + domain, nil
}

func validLocal(local string) bool {
	if len(local) > 64 || strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if isAlnum(c) || strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

func validDomain(domain string) bool {
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if !isAlnum(l[i]) && l[i] != '-' {
				return false
			}
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func invalidEmail(msg string) error { return latchkey.Errorf(latchkey.EInvalidRequest, "%s", msg) }
