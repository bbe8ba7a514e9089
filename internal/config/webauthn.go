package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// WebAuthnOff is the --webauthn-rp-id that turns passkeys off.
const WebAuthnOff = "off"

// WebAuthn returns the relying party of passkeys: its ID (the domain
// passkeys are bound to; "" when passkeys are off) and the exact origins
// a browser may sign for. Both come from configuration only, never from
// a request:
//
//   - the RP ID is --webauthn-rp-id, or else the host of --public-url
//     (which defaults to --issuer): the hosted pages' domain;
//   - the origins are those of --issuer and --public-url that are on the
//     RP ID (the domain itself or a subdomain of it), plus every
//     --webauthn-origins entry, which must be.
//
// Browsers allow passkeys only on a domain (not an IP address) and in a
// secure context (https, or http on localhost). When the defaults cannot
// give that (the out-of-the-box http://127.0.0.1:8080), passkeys are off
// without complaint; when the passkey settings themselves ask for
// something a browser would refuse, err says which.
func (c *Config) WebAuthn() (rpID string, origins []string, err error) {
	if c.WebAuthnRPID == WebAuthnOff {
		return "", nil, nil
	}
	explicit := c.WebAuthnRPID != "" || len(c.WebAuthnOrigins) > 0
	rpID = strings.ToLower(c.WebAuthnRPID)
	if rpID == "" {
		if u, perr := url.Parse(c.PublicURL); perr == nil {
			rpID = strings.ToLower(u.Hostname())
		}
	}
	if !isRPID(rpID) {
		if !explicit {
			return "", nil, nil
		}
		return "", nil, problem{"webauthn-rp-id", fmt.Sprintf("%q is not a domain name (browsers allow passkeys on a domain such as example.com or localhost, never on an IP address)", rpID)}
	}
	for _, base := range []string{c.Issuer, c.PublicURL} {
		if o, ok := originOf(base); ok && onRP(o, rpID) == "" && !slices.Contains(origins, o) {
			origins = append(origins, o)
		}
	}
	for _, o := range c.WebAuthnOrigins {
		if why := onRP(o, rpID); why != "" {
			return "", nil, problem{"webauthn-origins", fmt.Sprintf("%q %s", o, why)}
		}
		if !slices.Contains(origins, o) {
			origins = append(origins, o)
		}
	}
	if len(origins) == 0 {
		if !explicit {
			return "", nil, nil
		}
		return "", nil, problem{"webauthn-rp-id", fmt.Sprintf("no https origin of --issuer, --public-url or --webauthn-origins is on %q", rpID)}
	}
	return rpID, origins, nil
}

// isRPID accepts a domain name: letters, digits and hyphens in dot-separated
// labels; no IP address, port, scheme or trailing dot.
func isRPID(s string) bool {
	if s == "" || len(s) > 253 || net.ParseIP(s) != nil {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// originOf is the scheme://host[:port] of an http(s) URL.
func originOf(base string) (string, bool) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), true
}

// onRP says why origin cannot carry passkeys for rpID ("" when it can):
// it must be an exact origin, secure, on the RP ID's domain.
func onRP(origin, rpID string) string {
	o, ok := originOf(origin)
	if !ok || o != origin {
		return "is not an origin like https://app.example.com (scheme and host, an optional port, no path)"
	}
	u, _ := url.Parse(origin)
	host := u.Hostname()
	if host != rpID && !strings.HasSuffix(host, "."+rpID) {
		return "is not on the relying party's domain " + rpID
	}
	if u.Scheme != "https" && host != "localhost" && !strings.HasSuffix(host, ".localhost") {
		return "is not https (browsers allow passkeys over http on localhost only)"
	}
	return ""
}
