package config

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load("serve", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.Issuer != "http://127.0.0.1:8080" || c.Database != filepath.Join("latchkey-data", "latchkey.db") ||
		c.AccessTokenTTL != 15*time.Minute || c.RefreshTokenTTL != 168*time.Hour || c.SessionIdleTimeout != 72*time.Hour ||
		c.RefreshReuseGrace != 10*time.Second || c.ReauthWindow != 10*time.Minute || c.SigningAlg != "ES256" || c.HashMemoryKiB != 19456 || c.HashIterations != 2 ||
		c.MasterKeyFile != filepath.Join("latchkey-data", "master.key") || c.Secure() {
		t.Errorf("defaults: %+v", c)
	}
}

func TestPrecedenceFlagEnvFileDefault(t *testing.T) {
	file := filepath.Join(t.TempDir(), "latchkey.yaml")
	if err := os.WriteFile(file, []byte("access-token-ttl: 5m\nrefresh-token-ttl: 24h\nsession-idle-timeout: 2h\ncors-origins: [\"https://a.example\", \"https://b.example\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load("serve", []string{"--config", file, "--access-token-ttl", "1m", "--master-key-file", "/run/secrets/latchkey-master-key"},
		env(map[string]string{"LATCHKEY_ACCESS_TOKEN_TTL": "2m", "LATCHKEY_REFRESH_TOKEN_TTL": "12h"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessTokenTTL != time.Minute {
		t.Errorf("flag should win: %v", c.AccessTokenTTL)
	}
	if c.RefreshTokenTTL != 12*time.Hour {
		t.Errorf("env should beat the file: %v", c.RefreshTokenTTL)
	}
	if c.SessionIdleTimeout != 2*time.Hour {
		t.Errorf("file should beat the default: %v", c.SessionIdleTimeout)
	}
	if len(c.CORSOrigins) != 2 || c.MasterKeyFile != "/run/secrets/latchkey-master-key" {
		t.Errorf("lists and strings: %+v", c)
	}
}

func TestBadSettingsNameThemselves(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--access-token-ttl", "soon"}, nil, "--access-token-ttl"},
		{nil, map[string]string{"LATCHKEY_REFRESH_REUSE_GRACE": "-1s"}, "LATCHKEY_REFRESH_REUSE_GRACE"},
		{[]string{"--refresh-reuse-grace", "5m"}, nil, "--refresh-reuse-grace"},
		{[]string{"--signing-alg", "none"}, nil, "--signing-alg"},
		{[]string{"--reauth-window", "25h"}, nil, "--reauth-window"},
		{[]string{"--reauth-window", "-1s"}, nil, "--reauth-window"},
		{nil, map[string]string{"LATCHKEY_REAUTH_WINDOW": "a while"}, "LATCHKEY_REAUTH_WINDOW"},
		{[]string{"--issuer", "ftp://x"}, nil, "--issuer"},
		{[]string{"--trusted-proxies", "10.0.0.0/99"}, nil, "--trusted-proxies"},
		{[]string{"--metrics-allow", "not-a-cidr"}, nil, "--metrics-allow"},
		{[]string{"--cors-origins", "*"}, nil, "--cors-origins"},
		{[]string{"--cors-origins", "https://a.example/path"}, nil, "--cors-origins"},
		{[]string{"--redirect-allowlist", "javascript:alert(1)"}, nil, "--redirect-allowlist"},
		{[]string{"--tls-cert", "x.pem"}, nil, "--tls-cert"},
		{[]string{"--password-min-length", "4"}, nil, "--password-min-length"},
		{[]string{"--password-hash-memory", "lots"}, nil, "--password-hash-memory"},
		{[]string{"--log-level", "loud"}, nil, "--log-level"},
		{[]string{"--redis", "http://x"}, nil, "--redis"},
		{[]string{"--database", "mysql://u:p@db/x"}, nil, `invalid --database: unsupported scheme "mysql"`},
		{[]string{"--redis", "redis://:secret@cache:6379/abc"}, nil, "--redis"},
		{[]string{"--redis", "redis:///0"}, nil, "--redis"},
		{[]string{"--disable-rate-limits"}, nil, "unknown flag --disable-rate-limits"},
		{[]string{"--rate-limit-scale", "0.1"}, nil, "unknown flag --rate-limit-scale"},
		{[]string{"--data-dir"}, nil, "--data-dir needs a value"},
		{[]string{"extra"}, nil, "unexpected argument"},
		{[]string{"--config", "/nonexistent/latchkey.yaml"}, nil, "--config"},
	}
	for _, c := range cases {
		_, err := Load("serve", c.args, env(c.env), io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v %v: error %v, want one line naming %s", c.args, c.env, err, c.want)
		}
	}
}

func TestUnknownFileSettingIsRefused(t *testing.T) {
	file := filepath.Join(t.TempDir(), "latchkey.yaml")
	_ = os.WriteFile(file, []byte("acces-token-ttl: 5m\n"), 0o600)
	if _, err := Load("serve", []string{"--config", file}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "acces-token-ttl") ||
		!strings.Contains(err.Error(), "flag names without the leading dashes") {
		t.Errorf("typo in the file: %v", err)
	}
	// Keys are dash-style, like the flags; the snake_case spelling is
	// refused with the right one.
	_ = os.WriteFile(file, []byte("access_token_ttl: 5m\n"), 0o600)
	if _, err := Load("serve", []string{"--config", file}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "did you mean access-token-ttl?") {
		t.Errorf("snake_case key: %v", err)
	}
}

// A mistyped flag is one line that says where the list is, not the list;
// -h prints the list.
func TestUnknownFlagIsOneLine(t *testing.T) {
	var out strings.Builder
	_, err := Load("serve", []string{"--adress", "x"}, env(nil), &out)
	if err == nil || err.Error() != `unknown flag --adress ("latchkey serve -h" lists the settings)` || out.Len() != 0 {
		t.Errorf("error %v, printed %q", err, out.String())
	}
	_, err = Load("user list", []string{"-h"}, env(nil), &out)
	if !IsHelp(err) || !strings.Contains(out.String(), "-master-key-file") || !strings.Contains(out.String(), "LATCHKEY_MASTER_KEY_FILE") {
		t.Errorf("-h: %v\n%s", err, out.String())
	}
}

func TestIsSetting(t *testing.T) {
	for name, want := range map[string]bool{"data-dir": true, "database": true, "master-key-file": true, "config": true,
		"query": false, "disable-rate-limits": false, "rate-limit-scale": false} {
		if IsSetting(name) != want {
			t.Errorf("IsSetting(%q) = %t", name, !want)
		}
	}
}

func TestIssuerFollowsTLS(t *testing.T) {
	c, err := Load("serve", []string{"--tls-cert", "c.pem", "--tls-key", "k.pem", "--addr", "127.0.0.1:8443"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "https://127.0.0.1:8443" || !c.Secure() {
		t.Errorf("issuer %q secure %v", c.Issuer, c.Secure())
	}
}

func TestOAuthProvidersFromTheFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "latchkey.yaml")
	_ = os.WriteFile(file, []byte(`oauth:
  google: {client_id: gid, client_secret: gsecret}
  corp:
    client_id: cid
    client_secret: csecret
    issuer: https://login.corp.example
    scopes: [openid, email]
`), 0o600)
	c, err := Load("serve", []string{"--config", file}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"LATCHKEY_OAUTH_CORP_CLIENT_ID=cid", "LATCHKEY_OAUTH_CORP_CLIENT_SECRET=csecret",
		"LATCHKEY_OAUTH_CORP_ISSUER=https://login.corp.example", "LATCHKEY_OAUTH_CORP_SCOPES=openid,email",
		"LATCHKEY_OAUTH_GOOGLE_CLIENT_ID=gid", "LATCHKEY_OAUTH_GOOGLE_CLIENT_SECRET=gsecret",
	}
	if strings.Join(c.OAuthFromFile, "\n") != strings.Join(want, "\n") {
		t.Errorf("OAuthFromFile = %q", c.OAuthFromFile)
	}
	for _, bad := range []string{"oauth: [google]\n", "oauth:\n  google: yes\n", "oauth:\n  google: {client_ide: x}\n"} {
		_ = os.WriteFile(file, []byte(bad), 0o600)
		if _, err := Load("serve", []string{"--config", file}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "oauth") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// Every bad setting is reported, one line each, in one go: an operator
// fixes them all at once instead of one per start.
func TestEveryBadSettingIsReported(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want []string // the start of each line, in order
	}{
		{"validation errors", []string{"--addr", "nope", "--log-level", "loud", "--password-min-length", "4"}, nil,
			[]string{"invalid --addr: ", "invalid --log-level: ", "invalid --password-min-length: "}},
		{"metrics-allow names itself", []string{"--metrics-allow", "not-a-cidr"}, nil,
			[]string{`invalid --metrics-allow: "not-a-cidr" is not a CIDR`}},
		{"both CIDR lists", []string{"--trusted-proxies", "10.0.0.0/99", "--metrics-allow", "127.0.0.1/8,nope"}, nil,
			[]string{`invalid --trusted-proxies: "10.0.0.0/99"`, `invalid --metrics-allow: "nope"`}},
		{"parse and validation errors", []string{"--access-token-ttl", "soon", "--signing-alg", "none"},
			map[string]string{"LATCHKEY_REFRESH_REUSE_GRACE": "-1s"},
			[]string{"invalid --access-token-ttl: ", "invalid LATCHKEY_REFRESH_REUSE_GRACE: ", "invalid --signing-alg: "}},
		{"parse errors", []string{"--password-hash-memory", "lots", "--password-min-length", "eight"}, nil,
			[]string{"invalid --password-min-length: ", "invalid --password-hash-memory: "}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load("serve", c.args, env(c.env), io.Discard)
			if err == nil {
				t.Fatal("accepted")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(c.want) {
				t.Fatalf("%d lines, want %d:\n%v", len(lines), len(c.want), err)
			}
			for i, want := range c.want {
				if !strings.HasPrefix(lines[i], want) {
					t.Errorf("line %d = %q, want it to start with %q", i+1, lines[i], want)
				}
			}
		})
	}
}

func TestValidateReportsEverySetting(t *testing.T) {
	err := (&Config{}).Validate()
	if err == nil {
		t.Fatal("the zero Config is valid")
	}
	lines := strings.Split(err.Error(), "\n")
	for _, name := range []string{"addr", "data-dir", "issuer", "audience", "access-token-ttl", "signing-alg", "log-level", "http-idle-timeout"} {
		found := false
		for _, l := range lines {
			found = found || strings.HasPrefix(l, "invalid --"+name+": ")
		}
		if !found {
			t.Errorf("no line for --%s in:\n%v", name, err)
		}
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "invalid --") {
			t.Errorf("line %q does not name its setting", l)
		}
	}
}

func TestReauthWindow(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want time.Duration
	}{
		{nil, nil, 10 * time.Minute},
		{[]string{"--reauth-window", "0s"}, nil, 0},
		{[]string{"--reauth-window", "24h"}, nil, 24 * time.Hour},
		{nil, map[string]string{"LATCHKEY_REAUTH_WINDOW": "5m"}, 5 * time.Minute},
	}
	for _, c := range cases {
		cfg, err := Load("serve", c.args, env(c.env), io.Discard)
		if err != nil {
			t.Fatalf("%v %v: %v", c.args, c.env, err)
		}
		if cfg.ReauthWindow != c.want {
			t.Errorf("%v %v: ReauthWindow = %v, want %v", c.args, c.env, cfg.ReauthWindow, c.want)
		}
	}
	if err := (&Config{ReauthWindow: -time.Second}).Validate(); err == nil || !strings.Contains(err.Error(), "invalid --reauth-window: -1s is outside 0s..24h") {
		t.Errorf("a negative window set in code: %v", err)
	}
}

// A bad --redis URL is named but never repeated: it may hold a password.
func TestRedisURLIsCheckedWithoutEchoingIt(t *testing.T) {
	_, err := Load("serve", []string{"--redis", "redis://:hunter2@cache:6379/abc"}, env(nil), io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "invalid --redis: ") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v", err)
	}
	if _, err := Load("serve", []string{"--redis", "redis://:hunter2@cache:6379/0"}, env(nil), io.Discard); err != nil {
		t.Errorf("a good URL: %v", err)
	}
}

func TestEmailSettings(t *testing.T) {
	c, err := Load("serve", []string{"--issuer", "https://auth.example.com/"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicURL != "https://auth.example.com" || c.EmailVerification != EmailVerificationOptional || c.EmailSignIn {
		t.Errorf("defaults: public-url %q, email-verification %q, email-sign-in %v", c.PublicURL, c.EmailVerification, c.EmailSignIn)
	}
	c, err = Load("serve", []string{"--public-url", "https://id.example.com/", "--email-verification", "required", "--email-sign-in"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicURL != "https://id.example.com" || c.EmailVerification != EmailVerificationRequired || !c.EmailSignIn {
		t.Errorf("set: public-url %q, email-verification %q, email-sign-in %v", c.PublicURL, c.EmailVerification, c.EmailSignIn)
	}
	c, err = Load("serve", nil, env(map[string]string{"LATCHKEY_EMAIL_SIGN_IN": "true"}), io.Discard)
	if err != nil || !c.EmailSignIn {
		t.Errorf("LATCHKEY_EMAIL_SIGN_IN=true: %v, %v", c, err)
	}
	for _, bad := range [][]string{
		{"--public-url", "ftp://x"}, {"--public-url", "https://x/?next=evil"}, {"--public-url", "https://user@x"},
		{"--email-verification", "always"}, {"--email-sign-in=maybe"},
	} {
		if _, err := Load("serve", bad, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), strings.SplitN(strings.TrimPrefix(bad[0], "--"), "=", 2)[0]) {
			t.Errorf("%v: %v, want an error naming the setting", bad, err)
		}
	}
}

// The mail settings: a bad --smtp-url is named but never repeated (it may
// hold a password); --mail-from defaults to an address at the issuer's host.
func TestMailSettings(t *testing.T) {
	c, err := Load("serve", []string{"--issuer", "https://auth.example.com:8443"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.MailFrom != "latchkey <no-reply@auth.example.com>" || c.SMTPURL != "" || c.MailTemplates != "" {
		t.Errorf("defaults: from %q smtp %q templates %q", c.MailFrom, c.SMTPURL, c.MailTemplates)
	}
	if got := DefaultMailFrom("http://[::1]:8080"); got != "latchkey <no-reply@[::1]>" {
		t.Errorf("IPv6 issuer: %q", got)
	}
	c, err = Load("serve", []string{"--mail-from", "Example <no-reply@example.com>", "--mail-templates", "/etc/latchkey/mail"},
		env(map[string]string{"LATCHKEY_SMTP_URL": "smtps://apikey:s3cret@smtp.example.com:465"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPURL != "smtps://apikey:s3cret@smtp.example.com:465" || c.MailFrom != "Example <no-reply@example.com>" || c.MailTemplates != "/etc/latchkey/mail" {
		t.Errorf("set: %+v", c)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--smtp-url", "http://user:hunter2@smtp.example.com:587"}, "invalid --smtp-url: must be smtp://"},
		{[]string{"--smtp-url", "smtp://user:hunter2@smtp.example.com"}, "invalid --smtp-url: must be smtp://"},
		{[]string{"--mail-from", "not an address"}, "invalid --mail-from: \"not an address\" is not a mail address"},
		{[]string{"--mail-from", "a@example.com\r\nBcc: b@example.com"}, "invalid --mail-from: "},
	} {
		_, err := Load("serve", tc.args, env(nil), io.Discard)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v", tc.args, err)
		}
	}
}

// Second factors: required roles are role names; the issuer authenticator
// apps show defaults to the public URL's host, without a port.
func TestMFASettings(t *testing.T) {
	c, err := Load("serve", []string{"--issuer", "https://auth.example.com:8443"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.MFAIssuer != "auth.example.com" || len(c.MFARequiredRoles) != 0 {
		t.Errorf("defaults: issuer %q roles %v", c.MFAIssuer, c.MFARequiredRoles)
	}
	c, err = Load("serve", []string{"--mfa-issuer", "Example Corp"}, env(map[string]string{"LATCHKEY_MFA_REQUIRED_ROLES": "admin, ops"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.MFAIssuer != "Example Corp" || strings.Join(c.MFARequiredRoles, ",") != "admin,ops" {
		t.Errorf("set: issuer %q roles %v", c.MFAIssuer, c.MFARequiredRoles)
	}
	for _, bad := range [][]string{{"--mfa-required-roles", "Admin"}, {"--mfa-required-roles", "admin,bad role"}, {"--mfa-issuer", "a:b"}} {
		if _, err := Load("serve", bad, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(bad[0], "--")) {
			t.Errorf("%v: %v, want an error naming the setting", bad, err)
		}
	}
}
