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
  latchkey audit tail [--user ID] [--type T] [--limit N] [--follow]
  latchkey keys rotate | keys list             signing-key rotation and listing
  latchkey apikey create --user E --name N [--scope S]... | apikey list --user E | apikey revoke ID
  latchkey version                             version, commit and Go version

Every flag has an environment variable: --database is LATCHKEY_DATABASE, and so on.
Run "latchkey serve -h" for the settings.
`

// Run runs the command in args (without the program name).
func Run(ctx context.Context, args []string, environ []string, stdin io.Reader, stdout, stderr io.Writer) error {
	env := Env{Environ: environ, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command given"}
	}
	cmd, rest := args[0], args[1:]
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
	case "audit":
		return auditCommand(ctx, rest, env)
	case "version", "--version":
		return version(env)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
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
