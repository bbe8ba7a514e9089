package oauth

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/latchkey/latchkey"
)

// Kind says which protocol a provider speaks.
type Kind string

const (
	// KindOIDC is any OpenID Connect provider, found by discovery.
	KindOIDC Kind = "oidc"
	// KindGitHub is GitHub's plain OAuth 2.0 plus its user and email API.
	KindGitHub Kind = "github"
)

// ProviderConfig is one configured social login provider.
type ProviderConfig struct {
	Name         string // lower case; the provider's name in URLs
	Kind         Kind
	ClientID     string
	ClientSecret latchkey.Secret
	Issuer       string   // KindOIDC: the issuer, found by discovery
	AuthURL      string   // KindGitHub
	TokenURL     string   // KindGitHub
	APIURL       string   // KindGitHub: base of /user and /user/emails
	Scopes       []string // never empty after ParseConfig
}

const envPrefix = "LATCHKEY_OAUTH_"

// Settings a provider may have, matched as suffixes of the variable name.
const (
	keyClientID     = "CLIENT_ID"
	keyClientSecret = "CLIENT_SECRET"
	keyIssuer       = "ISSUER"
	keyScopes       = "SCOPES"
	keyAuthURL      = "AUTH_URL"
	keyTokenURL     = "TOKEN_URL"
	keyAPIURL       = "API_URL"
)

// Longest first, so that no suffix shadows another.
var settingKeys = []string{keyClientSecret, keyClientID, keyTokenURL, keyAuthURL, keyAPIURL, keyIssuer, keyScopes}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// Presets for the built-in providers.
const (
	GoogleIssuer    = "https://accounts.google.com"
	GitHubAuthURL   = "https://github.com/login/oauth/authorize"
	GitHubTokenURL  = "https://github.com/login/oauth/access_token"
	GitHubAPIURL    = "https://api.github.com"
	maxSettingBytes = 2048
)

var (
	defaultOIDCScopes   = []string{"openid", "email", "profile"}
	defaultGitHubScopes = []string{"read:user", "user:email"}
)

// ParseConfig reads every LATCHKEY_OAUTH_<NAME>_<SETTING> variable of
// environ and returns the providers sorted by name. Each problem is one line
// of the returned error naming the variable; values are never echoed, since
// one of them is a client secret.
func ParseConfig(environ []string) ([]ProviderConfig, error) {
	settings := map[string]map[string]string{} // name → key → value
	var errs []error
	seen := map[string]bool{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, envPrefix) || seen[k] {
			continue
		}
		seen[k] = true // the first occurrence wins, as with os.Getenv
		rest := strings.TrimPrefix(k, envPrefix)
		var key string
		for _, s := range settingKeys {
			if strings.HasSuffix(rest, "_"+s) {
				key = s
				break
			}
		}
		if key == "" {
			errs = append(errs, fmt.Errorf("%s: unknown OAuth setting (want %s<NAME>_CLIENT_ID, _CLIENT_SECRET, _ISSUER, _SCOPES, _AUTH_URL, _TOKEN_URL or _API_URL)", k, envPrefix))
			continue
		}
		raw := strings.TrimSuffix(rest, "_"+key)
		name := strings.ToLower(raw)
		if !nameRE.MatchString(name) {
			errs = append(errs, fmt.Errorf("%s: provider name %q must match %s once lower-cased", k, raw, nameRE))
			continue
		}
		v = strings.TrimSpace(v)
		if v == "" {
			continue // an empty variable counts as unset
		}
		if settings[name] == nil {
			settings[name] = map[string]string{}
		}
		settings[name][key] = v
	}
	names := make([]string, 0, len(settings))
	for n := range settings {
		names = append(names, n)
	}
	slices.Sort(names)
	var cfgs []ProviderConfig
	for _, n := range names {
		c, perrs := buildProvider(n, settings[n])
		if len(perrs) > 0 {
			errs = append(errs, perrs...)
			continue
		}
		cfgs = append(cfgs, c)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfgs, nil
}

// envName is the variable that holds setting key of provider name.
func envName(name, key string) string {
	return envPrefix + strings.ToUpper(name) + "_" + key
}

func buildProvider(name string, s map[string]string) (ProviderConfig, []error) {
	var errs []error
	fail := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", envName(name, key), fmt.Sprintf(format, args...)))
	}
	c := ProviderConfig{Name: name, ClientID: s[keyClientID], ClientSecret: latchkey.Secret(s[keyClientSecret])}
	for key, v := range s {
		if len(v) > maxSettingBytes {
			fail(key, "longer than %d bytes", maxSettingBytes)
		} else if strings.ContainsFunc(v, isControl) {
			fail(key, "contains control characters")
		}
	}
	if c.ClientID == "" {
		fail(keyClientID, "required for OAuth provider %q", name)
	}
	if c.ClientSecret == "" {
		fail(keyClientSecret, "required for OAuth provider %q", name)
	}

	switch name {
	case "github":
		c.Kind = KindGitHub
		if _, ok := s[keyIssuer]; ok {
			fail(keyIssuer, "github speaks OAuth 2.0, not OpenID Connect; remove this setting")
		}
		c.AuthURL = orDefault(s[keyAuthURL], GitHubAuthURL)
		c.TokenURL = orDefault(s[keyTokenURL], GitHubTokenURL)
		c.APIURL = strings.TrimSuffix(orDefault(s[keyAPIURL], GitHubAPIURL), "/")
		for key, u := range map[string]string{keyAuthURL: c.AuthURL, keyTokenURL: c.TokenURL, keyAPIURL: c.APIURL} {
			if err := checkEndpoint(u); err != nil {
				fail(key, "%v", err)
			}
		}
		c.Scopes = defaultGitHubScopes
	default:
		c.Kind = KindOIDC
		for _, key := range []string{keyAuthURL, keyTokenURL, keyAPIURL} {
			if _, ok := s[key]; ok {
				fail(key, "only the github provider takes endpoint overrides; OpenID Connect endpoints come from %s discovery", envName(name, keyIssuer))
			}
		}
		c.Issuer = s[keyIssuer]
		if c.Issuer == "" && name == "google" {
			c.Issuer = GoogleIssuer
		}
		if c.Issuer == "" {
			fail(keyIssuer, "required for OpenID Connect provider %q (only google and github have presets)", name)
		} else if err := checkEndpoint(c.Issuer); err != nil {
			fail(keyIssuer, "%v", err)
		}
		c.Scopes = defaultOIDCScopes
	}

	if v, ok := s[keyScopes]; ok {
		scopes, err := parseScopes(v)
		if err != nil {
			fail(keyScopes, "%v", err)
		} else {
			if c.Kind == KindOIDC && !slices.Contains(scopes, "openid") {
				scopes = append([]string{"openid"}, scopes...) // no openid, no id_token
			}
			c.Scopes = scopes
		}
	}
	c.Scopes = slices.Clone(c.Scopes)
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return c, errs
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// checkEndpoint accepts an absolute https URL, or plain http only on a
// loopback host (local development and tests): a client secret and an
// authorization code must never cross a network unencrypted.
func checkEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return errors.New("not an absolute URL")
	}
	if u.User != nil {
		return errors.New("URL must not carry user information")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errors.New("URL must not have a query or fragment")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return errors.New("URL must use https (plain http only on a loopback host)")
	default:
		return errors.New("URL must use https")
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// parseScopes splits a comma-separated list; each scope must be an RFC 6749
// scope-token.
func parseScopes(v string) ([]string, error) {
	var out []string
	for s := range strings.SplitSeq(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, errors.New("empty scope in comma-separated list")
		}
		for _, r := range s {
			if r < 0x21 || r > 0x7e || r == '"' || r == '\\' {
				return nil, fmt.Errorf("scope %q has a character RFC 6749 does not allow", s)
			}
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}
