// Package app is latchkey's composition root: it parses a command line,
// builds the components from the configuration and runs the command. The
// binary's main only calls Run, and end-to-end tests call Run too.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/config"
)

// Version is set at build time with -ldflags "-X .../internal/app.Version=v1.2.3".
var Version = "dev"

// Env is the process environment given to Run.
type Env struct {
	Environ []string
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	hooks   TestHooks
}

// TestHooks are settings for tests and load tests only. They are not flags,
// environment variables or file keys, so that no production deployment
// can carry them; a test gives them to RunWith.
type TestHooks struct {
	// DisableRateLimits turns every rate limit and the login back-off off
	// (most end-to-end tests sign up far more accounts from one address
	// than a real client would; load tests measure the server, not the
	// limiter).
	DisableRateLimits bool
	// RateLimitScale multiplies every rate-limit period and back-off time
	// (0.1 lets a test watch a 30 s lock pass in 3 s). 0 means 1.
	RateLimitScale float64
	// MailPollInterval, MailFirstRetry, MailMaxRetry and MailLease
	// replace the mail sender's polling interval (5s), retry backoff (30s
	// doubling to 1h) and lease (2m), so that a test can watch a retry or
	// a takeover. 0 keeps the default.
	MailPollInterval time.Duration
	MailFirstRetry   time.Duration
	MailMaxRetry     time.Duration
	MailLease        time.Duration
}

func (h TestHooks) scale() float64 {
	if h.RateLimitScale == 0 {
		return 1
	}
	return h.RateLimitScale
}

// Getenv looks a variable up in the environment.
func (e Env) Getenv(name string) string {
	prefix := name + "="
	for i := len(e.Environ) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(e.Environ[i], prefix); ok {
			return v
		}
	}
	return ""
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// ExitCode is 2 for a usage error and 1 for anything else.
func ExitCode(err error) int {
	var u usageError
	if errors.As(err, &u) || config.IsHelp(err) {
		return 2
	}
	return 1
}

const usage = `latchkey — authentication for APIs

Usage:
  latchkey serve [flags]                       run the server (zero configuration: SQLite in ./latchkey-data)
  latchkey migrate [flags]                     apply database migrations and exit
  latchkey user create --email E [--role R] [--name N] [--password-stdin]
  latchkey user list [--query Q] | user show ID|EMAIL | user delete ID|EMAIL
  latchkey user update ID|EMAIL [--role a,b] [--disable|--enable] [--name N]
  latchkey user reset-mfa ID|EMAIL             remove a user's second factors and end their sessions
  latchkey audit tail [--user ID] [--type T] [--limit N] [--follow]
  latchkey keys rotate | keys list             signing-key rotation and listing
  latchkey apikey create --user E --name N [--scope S]... | apikey list --user E | apikey revoke ID
  latchkey client create --name N [--type T] [--redirect-uri U]... | client list | client rotate-secret ID | client delete ID
  latchkey mail status [ID]                    the mail outbox: counts, oldest due; one mail's attempts and last error
  latchkey version                             version, commit and Go version

Settings (--data-dir, --database, --master-key-file, …) go before or after the
command; every one has an environment variable (--database is
LATCHKEY_DATABASE) and a key in the optional --config YAML file, written as
the flag is (database: …). Run "latchkey serve -h" for the settings.

Only serve and migrate create anything: a data directory, a database schema
and, on the very first start, the master key. The other commands work on an
existing installation and say so when they find none.
`

// Run runs the command in args (without the program name). It is the
// binary's entry point.
func Run(ctx context.Context, args []string, environ []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return RunWith(ctx, args, environ, stdin, stdout, stderr, TestHooks{})
}

// RunWith is Run with settings that exist for tests only.
func RunWith(ctx context.Context, args []string, environ []string, stdin io.Reader, stdout, stderr io.Writer, hooks TestHooks) error {
	if s := hooks.scale(); s < 0.0001 || s > 1 {
		return fmt.Errorf("TestHooks.RateLimitScale %v is outside 0.0001..1", s)
	}
	env := Env{Environ: environ, Stdin: stdin, Stdout: stdout, Stderr: stderr, hooks: hooks}
	global, args := leadingSettings(args)
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command given"}
	}
	cmd, rest := args[0], args[1:]
	// Settings given before the command (latchkey --data-dir D user list)
	// count as if given after it.
	rest = append(rest, global...)
	err := runCommand(ctx, cmd, rest, env)
	if config.IsHelp(err) {
		return nil // the command printed its usage
	}
	return err
}

// leadingSettings splits off the shared settings (--data-dir D,
// --database=URL, …) written before the command. Anything else that looks
// like a flag is left to the command to refuse.
func leadingSettings(args []string) (settings, rest []string) {
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "--help" && args[0] != "--version" {
		name, _, hasValue := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
		n := 1
		if !hasValue && config.IsSetting(name) && len(args) > 1 {
			n = 2
		}
		settings, args = append(settings, args[:n]...), args[n:]
	}
	return settings, args
}

func runCommand(ctx context.Context, cmd string, rest []string, env Env) error {
	switch cmd {
	case "serve":
		return serve(ctx, rest, env)
	case "migrate":
		return migrate(ctx, rest, env)
	case "user":
		return userCommand(ctx, rest, env)
	case "keys":
		return keysCommand(ctx, rest, env)
	case "apikey":
		return apikeyCommand(ctx, rest, env)
	case "client":
		return clientCommand(ctx, rest, env)
	case "audit":
		return auditCommand(ctx, rest, env)
	case "mail":
		return mailCommand(ctx, rest, env)
	case "version", "--version":
		return version(env)
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q (\"latchkey help\" lists the commands)", cmd)}
}

func version(env Env) error {
	commit, goVersion := "unknown", "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		goVersion = info.GoVersion
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				commit = s.Value
			}
		}
	}
	fmt.Fprintf(env.Stdout, "latchkey %s\ncommit %s\ngo %s\n", Version, commit, goVersion)
	return nil
}
