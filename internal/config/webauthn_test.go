package config

import (
	"io"
	"slices"
	"strings"
	"testing"
)

func TestWebAuthnRelyingParty(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		rpID    string
		origins []string
	}{
		{"the defaults (an IP address): off", nil, "", nil},
		{"http on a domain that is not localhost: off", []string{"--issuer", "http://auth.example.com"}, "", nil},
		{"behind a proxy", []string{"--issuer", "https://auth.example.com"}, "auth.example.com", []string{"https://auth.example.com"}},
		{"localhost over http", []string{"--issuer", "http://localhost:8080"}, "localhost", []string{"http://localhost:8080"}},
		{"the public URL's host", []string{"--issuer", "https://api.example.com", "--public-url", "https://id.example.com/auth"},
			"id.example.com", []string{"https://id.example.com"}},
		{"a parent domain", []string{"--issuer", "https://api.example.com", "--public-url", "https://id.example.com", "--webauthn-rp-id", "Example.com",
			"--webauthn-origins", "https://app.example.com,https://example.com:8443"},
			"example.com", []string{"https://api.example.com", "https://id.example.com", "https://app.example.com", "https://example.com:8443"}},
		{"turned off", []string{"--issuer", "https://auth.example.com", "--webauthn-rp-id", "off"}, "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Load("serve", c.args, env(nil), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			rpID, origins, err := cfg.WebAuthn()
			if err != nil || rpID != c.rpID || !slices.Equal(origins, c.origins) {
				t.Errorf("WebAuthn() = %q %q %v, want %q %q", rpID, origins, err, c.rpID, c.origins)
			}
		})
	}
}

// Passkey settings a browser would refuse stop the server, naming the
// setting.
func TestWebAuthnBadSettings(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--webauthn-rp-id", "127.0.0.1"}, "invalid --webauthn-rp-id: \"127.0.0.1\" is not a domain name"},
		{[]string{"--webauthn-rp-id", "example.com:8443"}, "invalid --webauthn-rp-id"},
		{[]string{"--webauthn-rp-id", "https://example.com"}, "invalid --webauthn-rp-id"},
		{[]string{"--issuer", "https://auth.example.com", "--webauthn-rp-id", "other.example"}, "no https origin"},
		{[]string{"--issuer", "https://auth.example.com", "--webauthn-origins", "https://evil.test"}, "not on the relying party's domain auth.example.com"},
		{[]string{"--issuer", "https://auth.example.com", "--webauthn-origins", "https://auth.example.com/path"}, "is not an origin"},
		{[]string{"--issuer", "https://auth.example.com", "--webauthn-origins", "http://app.auth.example.com"}, "is not https"},
		{[]string{"--webauthn-origins", "https://app.example.com"}, "invalid --webauthn-rp-id: \"127.0.0.1\""},
	}
	for _, c := range cases {
		_, err := Load("serve", c.args, env(nil), io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
}
