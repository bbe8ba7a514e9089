// Package config turns flags, LATCHKEY_* environment variables and an
// optional YAML file into a validated Config. Precedence, highest first:
// flag, environment, file, default. Every bad value is reported, each as
// one line that names the setting, and the server does not start.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	netmail "net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.yaml.in/yaml/v3"

	"github.com/latchkey/latchkey/internal/mail"
)

// Config is everything `latchkey serve` can be told.
type Config struct {
	Addr               string
	Database           string
	DataDir            string
	Issuer             string
	Audience           string
	Redis              string
	AccessTokenTTL     time.Duration
	RefreshTokenTTL    time.Duration
	SessionIdleTimeout time.Duration
	RefreshReuseGrace  time.Duration
	ReauthWindow       time.Duration // how recent a sign-in sensitive operations need; 0: always ask
	SigningAlg         string
	KeyRotation        time.Duration
	AuditRetention     time.Duration
	TLSCert            string
	TLSKey             string
	TrustedProxies     []string
	CORSOrigins        []string
	RedirectAllowlist  []string
	MetricsAllow       []string
	LogFormat          string
	LogLevel           string
	PasswordMinLength  int
	HashMemoryKiB      int
	HashIterations     int
	IdentityHeaderKey  string
	MasterKeyFile      string
	ConfigFile         string
	// OAuthFromFile holds the config file's oauth section as the
	// LATCHKEY_OAUTH_* variables it stands for (the environment wins).
	OAuthFromFile []string

	// Abuse resistance: Redis key prefix and HTTP server timeouts.
	RedisPrefix           string
	HTTPReadHeaderTimeout time.Duration
	HTTPReadTimeout       time.Duration
	HTTPWriteTimeout      time.Duration
	HTTPIdleTimeout       time.Duration
	SessionCacheTTL       time.Duration
	KeyReloadInterval     time.Duration
	PprofAddr             string

	// The mailed flows.
	PublicURL         string // base of the links in mails (default: Issuer)
	EmailVerification string // off, optional or required
	EmailSignIn       bool
	// Mail delivery: the SMTP server (empty: .eml files under
	// <data-dir>/mail), the From address and an optional directory of
	// template overrides.
	SMTPURL       string
	MailFrom      string
	MailTemplates string

	// Second factors: the roles that act only from a session that proved
	// one, and the name authenticator apps show (default: the public URL's
	// host).
	MFARequiredRoles []string
	MFAIssuer        string
	// Passkeys: the WebAuthn relying party (see WebAuthn).
	WebAuthnRPID    string
	WebAuthnOrigins []string
}

// The values of --email-verification.
const (
	EmailVerificationOff      = "off"
	EmailVerificationOptional = "optional"
	EmailVerificationRequired = "required"
)

// setting describes one configuration name: flag, env var and file key.
type setting struct {
	name  string // flag name; the env var is LATCHKEY_ + upper snake; the file key is the name
	usage string
	def   string
	apply func(c *Config, v string) error
}

// flagValue holds a setting's raw text. A boolean setting may be given
// as a bare flag (--email-sign-in).
type flagValue struct {
	v       string
	boolean bool
}

func (f *flagValue) IsBoolFlag() bool { return f.boolean }

func (f *flagValue) String() string     { return f.v }
func (f *flagValue) Set(v string) error { f.v = v; return nil }

func str(dst func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *dst(c) = v; return nil }
}

func list(dst func(*Config) *[]string) func(*Config, string) error {
	return func(c *Config, v string) error { *dst(c) = splitList(v); return nil }
}

func dur(dst func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration (use Go's syntax: 90s, 15m, 168h)", v)
		}
		if d < 0 {
			return fmt.Errorf("%q is negative", v)
		}
		*dst(c) = d
		return nil
	}
}

func integer(dst func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		var n int
		if _, err := fmt.Sscanf(v, "%d", &n); err != nil || fmt.Sprint(n) != v {
			return fmt.Errorf("%q is not a whole number", v)
		}
		*dst(c) = n
		return nil
	}
}

func boolean(dst func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		switch strings.ToLower(v) {
		case "true", "1", "yes", "on":
			*dst(c) = true
		case "false", "0", "no", "off", "":
			*dst(c) = false
		default:
			return fmt.Errorf("%q is not true or false", v)
		}
		return nil
	}
}

var settings = []setting{
	{"addr", "listen address", "127.0.0.1:8080", str(func(c *Config) *string { return &c.Addr })},
	{"data-dir", "directory for the SQLite database, master key and other state", "./latchkey-data", str(func(c *Config) *string { return &c.DataDir })},
	{"database", "SQLite file path or sqlite:///path, or postgres://… (default <data-dir>/latchkey.db)", "", str(func(c *Config) *string { return &c.Database })},
	{"master-key-file", "the master key that seals the signing keys; every instance needs the same one (default <data-dir>/master.key)", "", str(func(c *Config) *string { return &c.MasterKeyFile })},
	{"issuer", "the iss of every token and the public base URL (default http://<addr>)", "", str(func(c *Config) *string { return &c.Issuer })},
	{"audience", "the aud of every access token", "latchkey", str(func(c *Config) *string { return &c.Audience })},
	{"redis", "redis://… to share rate limits and revocations between instances", "", str(func(c *Config) *string { return &c.Redis })},
	{"access-token-ttl", "access-token lifetime", "15m", dur(func(c *Config) *time.Duration { return &c.AccessTokenTTL })},
	{"refresh-token-ttl", "absolute session and refresh-token lifetime", "168h", dur(func(c *Config) *time.Duration { return &c.RefreshTokenTTL })},
	{"session-idle-timeout", "a session unused this long ends", "72h", dur(func(c *Config) *time.Duration { return &c.SessionIdleTimeout })},
	{"refresh-reuse-grace", "a retried refresh inside this window gets the same successor (0s allowed)", "10s", dur(func(c *Config) *time.Duration { return &c.RefreshReuseGrace })},
	{"reauth-window", "sensitive operations need a sign-in within this window (0s = always ask for the password)", "10m", dur(func(c *Config) *time.Duration { return &c.ReauthWindow })},
	{"signing-alg", "access-token signing algorithm: ES256, EdDSA or RS256", "ES256", str(func(c *Config) *string { return &c.SigningAlg })},
	{"key-rotation-interval", "rotate the signing key automatically this often (0 = never)", "720h", dur(func(c *Config) *time.Duration { return &c.KeyRotation })},
	{"audit-retention", "keep audit events this long", "2160h", dur(func(c *Config) *time.Duration { return &c.AuditRetention })},
	{"tls-cert", "PEM certificate file: serve HTTPS directly", "", str(func(c *Config) *string { return &c.TLSCert })},
	{"tls-key", "PEM private-key file for --tls-cert", "", str(func(c *Config) *string { return &c.TLSKey })},
	{"trusted-proxies", "comma-separated CIDRs whose X-Forwarded-For is believed", "", list(func(c *Config) *[]string { return &c.TrustedProxies })},
	{"cors-origins", "comma-separated origins allowed to call with credentials", "", list(func(c *Config) *[]string { return &c.CORSOrigins })},
	{"redirect-allowlist", "comma-separated URLs that redirects may go to", "", list(func(c *Config) *[]string { return &c.RedirectAllowlist })},
	{"metrics-allow", "comma-separated CIDRs allowed to read /metrics", "127.0.0.0/8,::1/128", list(func(c *Config) *[]string { return &c.MetricsAllow })},
	{"log-format", "json or text (default: text on a terminal, json otherwise)", "", str(func(c *Config) *string { return &c.LogFormat })},
	{"log-level", "debug, info, warn or error", "info", str(func(c *Config) *string { return &c.LogLevel })},
	{"password-min-length", "minimum password length in characters", "8", integer(func(c *Config) *int { return &c.PasswordMinLength })},
	{"password-hash-memory", "argon2id memory in KiB (OWASP: 19456)", "19456", integer(func(c *Config) *int { return &c.HashMemoryKiB })},
	{"password-hash-iterations", "argon2id iterations (OWASP: 2)", "2", integer(func(c *Config) *int { return &c.HashIterations })},
	{"identity-header-key", "file with a key to sign an X-Auth-Identity JWT on /v1/verify (optional)", "", str(func(c *Config) *string { return &c.IdentityHeaderKey })},
	{"session-cache-ttl", "trust a live session this long between database reads (revocations still apply at once; 0 = off)", "2s", dur(func(c *Config) *time.Duration { return &c.SessionCacheTTL })},
	{"key-reload-interval", "re-read the signing keys from the database this often (rotations by other instances)", "1m", dur(func(c *Config) *time.Duration { return &c.KeyReloadInterval })},
	{"pprof-addr", "loopback address for a pprof debug listener (off when empty; never expose it)", "", str(func(c *Config) *string { return &c.PprofAddr })},
	// The mailed flows.
	{"public-url", "base URL of the hosted pages that mail links point at (default: --issuer); never taken from a request", "", str(func(c *Config) *string { return &c.PublicURL })},
	{"email-verification", "off, optional (send a verification mail at sign-up) or required (no sign-in until the address is proven)", "optional", str(func(c *Config) *string { return &c.EmailVerification })},
	{"email-sign-in", "true lets people sign in with a mailed link or code (POST /v1/auth/email/start)", "false", boolean(func(c *Config) *bool { return &c.EmailSignIn })},
	// Abuse resistance.
	{"redis-prefix", "prefix of every Redis key latchkey writes (to share one Redis between deployments)", "latchkey:", str(func(c *Config) *string { return &c.RedisPrefix })},
	{"http-read-header-timeout", "a client must send its request headers within this time (slowloris)", "5s", dur(func(c *Config) *time.Duration { return &c.HTTPReadHeaderTimeout })},
	{"http-read-timeout", "a client must send its whole request within this time", "15s", dur(func(c *Config) *time.Duration { return &c.HTTPReadTimeout })},
	{"http-write-timeout", "a response must be written within this time", "30s", dur(func(c *Config) *time.Duration { return &c.HTTPWriteTimeout })},
	{"http-idle-timeout", "an idle keep-alive connection is closed after this time", "60s", dur(func(c *Config) *time.Duration { return &c.HTTPIdleTimeout })},
	// Mail delivery.
	{"smtp-url", "smtp://user:password@host:587 (STARTTLS) or smtps://…:465 to send mail (default: write .eml files under <data-dir>/mail)", "", str(func(c *Config) *string { return &c.SMTPURL })},
	{"mail-from", "the From of every mail (default latchkey <no-reply@HOST>, HOST being the issuer's)", "", str(func(c *Config) *string { return &c.MailFrom })},
	{"mail-templates", "directory of mail templates that replace the built-in ones by file name", "", str(func(c *Config) *string { return &c.MailTemplates })},
	// Second factors.
	{"mfa-required-roles", "comma-separated roles that act only from a session that proved a second factor (their holders must enroll one)", "", list(func(c *Config) *[]string { return &c.MFARequiredRoles })},
	{"mfa-issuer", "the name authenticator apps show for latchkey's codes (default: the host of --public-url)", "", str(func(c *Config) *string { return &c.MFAIssuer })},
	// Passkeys.
	{"webauthn-rp-id", "the domain passkeys are bound to (default: the host of --public-url; off turns passkeys off); never taken from a request", "", str(func(c *Config) *string { return &c.WebAuthnRPID })},
	{"webauthn-origins", "comma-separated origins besides those of --issuer and --public-url where browsers may use passkeys (on the RP ID's domain)", "", list(func(c *Config) *[]string { return &c.WebAuthnOrigins })},
}

// EnvName returns the environment variable for a flag name.
func EnvName(flagName string) string {
	return "LATCHKEY_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Load parses args (without the command name) for `latchkey serve` and
// the commands that share its settings.
func Load(name string, args []string, getenv func(string) string, stderr io.Writer) (*Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	values := map[string]*flagValue{}
	for _, s := range settings {
		// The boolean settings are the ones whose default is "false".
		values[s.name] = &flagValue{v: s.def, boolean: s.def == "false"}
		fs.Var(values[s.name], s.name, s.usage+" ("+EnvName(s.name)+")")
	}
	configFile := fs.String("config", getenv("LATCHKEY_CONFIG"), "optional YAML file with the same settings, keys written as the flags are (access-token-ttl: 5m) (LATCHKEY_CONFIG)")
	// The flag package prints the whole list of settings after a mistake;
	// one line and where to find the list is kinder. -h prints the list.
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "Settings of latchkey %s (each also an environment variable, or a key of the --config file):\n", name)
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			return nil, err
		}
		return nil, flagError(err, name)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })

	file, oauthFromFile, err := readFile(*configFile)
	if err != nil {
		return nil, err
	}
	c := &Config{ConfigFile: *configFile, OAuthFromFile: oauthFromFile}
	var errs []error
	unparsed := map[string]bool{}
	for _, s := range settings {
		v, source := values[s.name].v, "--"+s.name
		if !explicit[s.name] {
			if ev, ok := lookup(getenv, EnvName(s.name)); ok {
				v, source = ev, EnvName(s.name)
			} else if fv, ok := file[s.name]; ok {
				v, source = fv, s.name+" in "+*configFile
			}
		}
		if err := s.apply(c, strings.TrimSpace(v)); err != nil {
			errs = append(errs, fmt.Errorf("invalid %s: %v", source, err))
			unparsed[s.name] = true
		}
	}
	if err := c.fillDefaults(); err != nil {
		return nil, err
	}
	// Every bad setting is reported at once; a setting that did not parse
	// is not reported a second time for the zero value it was left at.
	for _, p := range c.problems() {
		if !unparsed[p.name] {
			errs = append(errs, p)
		}
	}
	if len(errs) > 0 {
		if len(unparsed) > 0 {
			return nil, errors.Join(errs...)
		}
		return c, errors.Join(errs...)
	}
	return c, nil
}

// flagError turns the flag package's complaint into one line that says
// where the list of settings is.
func flagError(err error, command string) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		msg = "unknown flag -" + strings.TrimLeft(name, "-")
		if len(strings.TrimLeft(name, "-")) > 1 {
			msg = "unknown flag --" + strings.TrimLeft(name, "-")
		}
	} else if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		msg = "--" + strings.TrimLeft(name, "-") + " needs a value"
	}
	return fmt.Errorf("%s (\"latchkey %s -h\" lists the settings)", msg, command)
}

// IsSetting reports whether name (without dashes) is a setting that every
// command shares, such as data-dir or database. Every one takes a value.
func IsSetting(name string) bool {
	if name == "config" {
		return true
	}
	for _, s := range settings {
		if s.name == name {
			return true
		}
	}
	return false
}

func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

// readFile reads the optional YAML file as a flat map of setting names.
func readFile(path string) (map[string]string, []string, error) {
	if path == "" {
		return nil, nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("invalid --config: %v", err)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, nil, fmt.Errorf("invalid --config %s: %v", path, err)
	}
	known := map[string]bool{}
	for _, s := range settings {
		known[s.name] = true
	}
	out := map[string]string{}
	var oauth []string
	for k, v := range raw {
		if k == "oauth" {
			if oauth, err = oauthEntries(v); err != nil {
				return nil, nil, fmt.Errorf("invalid --config %s: %v", path, err)
			}
			continue
		}
		if !known[k] {
			hint := "keys are the flag names without the leading dashes, e.g. access-token-ttl"
			if dashed := strings.ReplaceAll(k, "_", "-"); known[dashed] {
				hint = fmt.Sprintf("did you mean %s? keys are written with dashes, as the flags are", dashed)
			}
			return nil, nil, fmt.Errorf("invalid --config %s: unknown setting %q (%s)", path, k, hint)
		}
		if items, ok := v.([]any); ok {
			parts := make([]string, len(items))
			for i, it := range items {
				parts[i] = fmt.Sprint(it)
			}
			out[k] = strings.Join(parts, ",")
			continue
		}
		out[k] = fmt.Sprint(v)
	}
	return out, oauth, nil
}

// oauthEntries turns the file's oauth section into the LATCHKEY_OAUTH_*
// variables it stands for, so that providers are configured (and checked)
// one way, whichever way they arrive:
//
//	oauth:
//	  google: {client_id: …, client_secret: …}
//	  corp:   {client_id: …, client_secret: …, issuer: https://login.corp.example, scopes: [openid, email]}
func oauthEntries(v any) ([]string, error) {
	providers, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("oauth must map provider names to their settings")
	}
	var out []string
	for name, raw := range providers {
		fields, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("oauth.%s must hold client_id, client_secret and so on", name)
		}
		for key, val := range fields {
			switch key {
			case "client_id", "client_secret", "issuer", "scopes", "auth_url", "token_url", "api_url":
			default:
				return nil, fmt.Errorf("oauth.%s: unknown setting %q", name, key)
			}
			text := fmt.Sprint(val)
			if items, ok := val.([]any); ok {
				parts := make([]string, len(items))
				for i, it := range items {
					parts[i] = fmt.Sprint(it)
				}
				text = strings.Join(parts, ",")
			}
			out = append(out, "LATCHKEY_OAUTH_"+strings.ToUpper(name)+"_"+strings.ToUpper(key)+"="+text)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (c *Config) fillDefaults() error {
	if c.Database == "" {
		c.Database = filepath.Join(c.DataDir, "latchkey.db")
	}
	if c.Issuer == "" {
		scheme := "http"
		if c.TLSCert != "" {
			scheme = "https"
		}
		c.Issuer = scheme + "://" + c.Addr
	}
	c.Issuer = strings.TrimSuffix(c.Issuer, "/")
	if c.PublicURL == "" {
		c.PublicURL = c.Issuer
	}
	c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	if u, err := url.Parse(c.PublicURL); c.MFAIssuer == "" && err == nil {
		c.MFAIssuer = u.Hostname() // no port: a colon would split the app's label
	}
	if c.MasterKeyFile == "" {
		c.MasterKeyFile = filepath.Join(c.DataDir, "master.key")
	}
	if c.MailFrom == "" {
		c.MailFrom = DefaultMailFrom(c.Issuer)
	}
	return nil
}

// Validate checks every setting and reports every bad one, one line each
// ("invalid --name: why"), joined with errors.Join.
func (c *Config) Validate() error {
	var errs []error
	for _, p := range c.problems() {
		errs = append(errs, p)
	}
	return errors.Join(errs...)
}

// roleName is what a role may be called (auth.ValidateRoles).
var roleName = regexp.MustCompile(`^[a-z][a-z0-9_:.-]{0,63}$`)

// problem is one bad setting.
type problem struct {
	name string // the flag name, without dashes
	msg  string
}

func (p problem) Error() string { return "invalid --" + p.name + ": " + p.msg }

// problems lists the bad settings in the order of the checks below.
func (c *Config) problems() []problem {
	var errs []problem
	bad := func(name, format string, args ...any) {
		errs = append(errs, problem{name: name, msg: fmt.Sprintf(format, args...)})
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("addr", "%q is not host:port", c.Addr)
	}
	if c.DataDir == "" {
		bad("data-dir", "must not be empty")
	}
	if scheme, _, ok := strings.Cut(c.Database, "://"); ok {
		switch scheme {
		case "postgres", "postgresql", "sqlite":
		default:
			bad("database", "unsupported scheme %q: use a file path, sqlite:///path or postgres://…", scheme)
		}
	}
	if u, err := url.Parse(c.Issuer); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		bad("issuer", "%q is not an http(s) URL", c.Issuer)
	}
	if u, err := url.Parse(c.PublicURL); c.PublicURL != "" && c.PublicURL != c.Issuer && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "") {
		bad("public-url", "%q is not an http(s) URL without a query", c.PublicURL)
	}
	switch c.EmailVerification {
	case "", EmailVerificationOff, EmailVerificationOptional, EmailVerificationRequired: // "": optional
	default:
		bad("email-verification", "%q is not off, optional or required", c.EmailVerification)
	}
	if c.Audience == "" {
		bad("audience", "must not be empty")
	}
	if c.Redis != "" {
		if msg := redisProblem(c.Redis); msg != "" {
			bad("redis", "%s", msg)
		}
	}
	if c.AccessTokenTTL < time.Second || c.AccessTokenTTL > 24*time.Hour {
		bad("access-token-ttl", "%s is outside 1s..24h", c.AccessTokenTTL)
	}
	if c.RefreshTokenTTL < time.Second {
		bad("refresh-token-ttl", "%s is shorter than a second", c.RefreshTokenTTL)
	}
	if c.SessionIdleTimeout < time.Second {
		bad("session-idle-timeout", "%s is shorter than a second", c.SessionIdleTimeout)
	}
	if c.RefreshReuseGrace > time.Minute {
		bad("refresh-reuse-grace", "%s is longer than a minute", c.RefreshReuseGrace)
	}
	if c.ReauthWindow < 0 || c.ReauthWindow > 24*time.Hour {
		bad("reauth-window", "%s is outside 0s..24h", c.ReauthWindow)
	}
	for _, role := range c.MFARequiredRoles {
		if !roleName.MatchString(role) {
			bad("mfa-required-roles", "%q is not a role name (a lower-case letter, then lower-case letters, digits or _ : . -)", role)
		}
	}
	if len(c.MFAIssuer) > 100 || strings.ContainsAny(c.MFAIssuer, ":\x00\r\n") {
		bad("mfa-issuer", "%q must be at most 100 characters, without a colon or a line break", c.MFAIssuer)
	}
	if c.SessionCacheTTL < 0 || c.SessionCacheTTL > time.Minute {
		bad("session-cache-ttl", "%s is outside 0s..1m", c.SessionCacheTTL)
	}
	if c.KeyReloadInterval < 100*time.Millisecond || c.KeyReloadInterval > time.Hour {
		bad("key-reload-interval", "%s is outside 100ms..1h", c.KeyReloadInterval)
	}
	if c.PprofAddr != "" {
		if host, _, err := net.SplitHostPort(c.PprofAddr); err != nil || !isLoopbackHost(host) {
			bad("pprof-addr", "%q is not a loopback host:port", c.PprofAddr)
		}
	}
	switch c.SigningAlg {
	case "ES256", "EdDSA", "RS256":
	default:
		bad("signing-alg", "%q is not ES256, EdDSA or RS256", c.SigningAlg)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("tls-cert", "--tls-cert and --tls-key go together")
	}
	for _, l := range []struct {
		name  string
		cidrs []string
	}{{"trusted-proxies", c.TrustedProxies}, {"metrics-allow", c.MetricsAllow}} {
		for _, cidr := range l.cidrs {
			if _, _, err := net.ParseCIDR(cidr); err != nil {
				bad(l.name, "%q is not a CIDR (e.g. 10.0.0.0/8)", cidr)
			}
		}
	}
	for _, o := range c.CORSOrigins {
		if u, err := url.Parse(o); err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" || o == "*" {
			bad("cors-origins", "%q is not an origin like https://app.example.com (no wildcard)", o)
		}
	}
	for _, r := range c.RedirectAllowlist {
		if u, err := url.Parse(r); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			bad("redirect-allowlist", "%q is not an absolute http(s) URL", r)
		}
	}
	switch c.LogFormat {
	case "", "json", "text":
	default:
		bad("log-format", "%q is not json or text", c.LogFormat)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log-level", "%q is not debug, info, warn or error", c.LogLevel)
	}
	if c.PasswordMinLength < 8 || c.PasswordMinLength > 256 {
		bad("password-min-length", "%d is outside 8..256", c.PasswordMinLength)
	}
	if c.HashMemoryKiB < 8 || c.HashMemoryKiB > 1<<20 {
		bad("password-hash-memory", "%d KiB is outside 8..1048576", c.HashMemoryKiB)
	}
	if c.HashIterations < 1 || c.HashIterations > 100 {
		bad("password-hash-iterations", "%d is outside 1..100", c.HashIterations)
	}
	for _, t := range []struct {
		name string
		d    time.Duration
	}{{"http-read-header-timeout", c.HTTPReadHeaderTimeout}, {"http-read-timeout", c.HTTPReadTimeout},
		{"http-write-timeout", c.HTTPWriteTimeout}, {"http-idle-timeout", c.HTTPIdleTimeout}} {
		if t.d < 100*time.Millisecond || t.d > time.Hour {
			bad(t.name, "%s is outside 100ms..1h", t.d)
		}
	}
	if c.SMTPURL != "" {
		// ParseSMTP's complaint never repeats the URL, which may hold a password.
		if _, err := mail.ParseSMTP(c.SMTPURL); err != nil {
			bad("smtp-url", "%v", err)
		}
	}
	if a, err := netmail.ParseAddress(c.MailFrom); err != nil || !strings.Contains(a.Address, "@") {
		bad("mail-from", "%q is not a mail address (e.g. no-reply@example.com or \"Example <no-reply@example.com>\")", c.MailFrom)
	}
	if _, _, err := c.WebAuthn(); err != nil {
		var p problem
		if errors.As(err, &p) {
			errs = append(errs, p)
		}
	}
	return errs
}

// DefaultMailFrom is the From of a server without --mail-from:
// latchkey <no-reply@HOST>, HOST being the issuer's host name (without
// its port). A provider will want an address of a domain it verified.
func DefaultMailFrom(issuer string) string {
	host := "localhost"
	if u, err := url.Parse(issuer); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	if strings.Contains(host, ":") { // an IPv6 address: a domain literal
		host = "[" + host + "]"
	}
	return "latchkey <no-reply@" + host + ">"
}

// redisProblem says what is wrong with a --redis URL, without repeating
// it: it may hold a password.
func redisProblem(v string) string {
	if !strings.HasPrefix(v, "redis://") && !strings.HasPrefix(v, "rediss://") {
		return "must start with redis:// or rediss://"
	}
	u, err := url.Parse(v)
	if err != nil {
		return "is not a valid URL (redis://[user:password@]host:port/db)"
	}
	if u.Hostname() == "" {
		return "names no host (redis://host:6379/0)"
	}
	if _, err := redis.ParseURL(v); err != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			return strings.ReplaceAll(err.Error(), p, "xxxxx")
		}
		return err.Error()
	}
	return ""
}

// Secure reports whether latchkey is served (or fronted) over HTTPS.
func (c *Config) Secure() bool {
	return c.TLSCert != "" || strings.HasPrefix(c.Issuer, "https://")
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ErrHelp is returned when -h was asked for.
var ErrHelp = flag.ErrHelp

// IsHelp reports whether err is a request for help.
func IsHelp(err error) bool { return errors.Is(err, flag.ErrHelp) }

// isLoopbackHost reports whether host is localhost or a loopback IP: the
// profiler shows memory contents and must never face the network.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
