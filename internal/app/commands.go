package app

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/store"
)

// migrate sets up or upgrades the installation and exits: the database
// schema, and on the very first run the master key and signing keys. Run
// it once before starting several instances (docs/deployment.md).
func migrate(ctx context.Context, args []string, env Env) error {
	cfg, err := loadConfig("migrate", args, env)
	if err != nil {
		return err
	}
	in, err := setUp(ctx, cfg, cliLogger(cfg, env.Stderr), time.Now)
	if err != nil {
		return err
	}
	defer in.store.Close()
	fmt.Fprintf(env.Stdout, "migrations applied to %s\n", store.Redact(cfg.Database))
	if in.createdKey {
		fmt.Fprintf(env.Stdout, "created the master key %s: every instance needs this same file (docs/deployment.md)\n", cfg.MasterKeyFile)
	}
	return nil
}

// splitOwnFlags separates a subcommand's own flags from the shared
// settings (--database and friends), which go to the config loader.
func splitOwnFlags(fs *flag.FlagSet, args []string) (own, shared []string) {
	for i := 0; i < len(args); i++ {
		name := strings.TrimLeft(args[i], "-")
		name, _, hasValue := strings.Cut(name, "=")
		if args[i] == "-h" || args[i] == "-help" || args[i] == "--help" {
			own = append(own, args[i]) // the command's own usage
			continue
		}
		f := fs.Lookup(name)
		if f == nil || !strings.HasPrefix(args[i], "-") {
			shared = append(shared, args[i])
			if !hasValue && strings.HasPrefix(args[i], "-") && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				i++
				shared = append(shared, args[i])
			}
			continue
		}
		own = append(own, args[i])
		_, isBool := f.Value.(interface{ IsBoolFlag() bool })
		if !hasValue && !isBool && i+1 < len(args) {
			i++
			own = append(own, args[i])
		}
	}
	return own, shared
}

func userCommand(ctx context.Context, args []string, env Env) error {
	if len(args) > 0 {
		switch args[0] {
		case "list":
			return userList(ctx, args[1:], env)
		case "show":
			return userShow(ctx, args[1:], env)
		case "update":
			return userUpdate(ctx, args[1:], env)
		case "delete":
			return userDelete(ctx, args[1:], env)
		case "reset-mfa":
			return userResetMFA(ctx, args[1:], env)
		}
	}
	if len(args) == 0 || args[0] != "create" {
		return usageError{userUsage}
	}
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	email := fs.String("email", "", "the user's email address")
	name := fs.String("name", "", "display name")
	roles := fs.String("role", "user", "comma-separated roles, e.g. admin")
	stdin := fs.Bool("password-stdin", false, "read the password from standard input (never from the command line)")
	own, shared := splitOwnFlags(fs, args[1:])
	if err := parseOwn(fs, own, env.Stderr); err != nil {
		return err
	}
	if *email == "" {
		return usageError{"user create: --email is required"}
	}
	if !*stdin {
		return usageError{"user create: give the password on standard input with --password-stdin"}
	}
	pw, err := readPassword(env.Stdin)
	if err != nil {
		return err
	}
	return withAdmin(ctx, "user create", shared, env, func(a *admin) error {
		u, err := a.service(true).CreateUser(ctx, auth.SignupInput{Email: *email, Password: pw, Name: *name, Roles: splitComma(*roles)}, auth.Meta{UserAgent: "latchkey-cli"})
		if err != nil {
			return fmt.Errorf("user create: %s", latchkey.ErrorMessage(err))
		}
		fmt.Fprintf(env.Stdout, "created user %s (%s) with roles %s\n", u.ID, u.Email, strings.Join(u.Roles, ","))
		return nil
	})
}

// readPassword reads one line; the trailing newline is not part of it.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func keysCommand(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 || (args[0] != "rotate" && args[0] != "list") {
		return usageError{"usage: latchkey keys rotate | latchkey keys list"}
	}
	return withAdmin(ctx, "keys "+args[0], args[1:], env, func(a *admin) error {
		if args[0] == "list" {
			// Reading the public halves needs no master key.
			keys, err := a.store.ListSigningKeys(ctx)
			if err != nil {
				return err
			}
			return printKeys(env.Stdout, keys)
		}
		km, err := a.signingKeys(ctx)
		if err != nil {
			return err
		}
		k, err := km.Rotate(ctx, latchkey.AuditEvent{Type: latchkey.AuditKeysRotated, UserAgent: "latchkey-cli", Outcome: latchkey.OutcomeSuccess})
		if err != nil {
			return err
		}
		// Running servers read the keys again every --key-reload-interval;
		// until then they sign with the key they had. The new key was
		// published as "next" in advance, so verifiers know it already.
		fmt.Fprintf(env.Stdout, "rotated: %s (%s) is the current key; running servers sign with it once they next re-read the keys "+
			"(every --key-reload-interval, %s here), and keep accepting tokens of the retired key until they expire\n",
			k.ID, k.Algorithm, a.cfg.KeyReloadInterval)
		return printKeys(env.Stdout, km.Keys())
	})
}

func printKeys(w io.Writer, keys []latchkey.SigningKey) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALG\tSTATE\tCREATED\tACTIVATED\tRETIRED")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, k.State, k.CreatedAt.UTC().Format(time.RFC3339),
			fmtTime(k.ActivatedAt), fmtTime(k.RetiredAt))
	}
	return tw.Flush()
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
