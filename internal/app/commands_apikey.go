package app

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
)

// stringList is a repeatable, comma-separable flag (--scope a --scope b,c).
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

const apikeyUsage = "usage: latchkey apikey create --user EMAIL --name N [--scope S]... [--expires-in 720h] | apikey list --user EMAIL | apikey revoke ID\n" +
	"  --expires-in is a Go duration (720h is 30 days); the HTTP API's expires_in is a number of seconds (2592000)"

func apikeyCommand(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 {
		return usageError{apikeyUsage}
	}
	fs := flag.NewFlagSet("apikey "+args[0], flag.ContinueOnError)
	email := fs.String("user", "", "the owner's email address")
	name := fs.String("name", "", "a name for the key")
	expires := fs.Duration("expires-in", 0, "the key's lifetime as a Go duration, e.g. 720h for 30 days; the HTTP API's expires_in is a number of seconds instead (default: no expiry)")
	var scopes stringList
	fs.Var(&scopes, "scope", "a scope; repeat or separate with commas (default: all the owner's rights)")
	flagArgs, id := args[1:], ""
	if args[0] == "revoke" && len(flagArgs) > 0 && !strings.HasPrefix(flagArgs[0], "-") {
		id, flagArgs = flagArgs[0], flagArgs[1:] // apikey revoke ID [flags]
	}
	own, shared := splitOwnFlags(fs, flagArgs)
	if err := parseOwn(fs, own, env.Stderr); err != nil {
		return err
	}
	return withAdmin(ctx, "apikey "+args[0], shared, env, func(a *admin) error {
		meta := auth.Meta{UserAgent: "latchkey-cli"}
		switch args[0] {
		case "create":
			u, err := cliUser(ctx, a, *email)
			if err != nil {
				return err
			}
			k, secret, err := a.service(false).CreateAPIKeyFor(ctx, u, "", auth.APIKeyInput{Name: *name, Scopes: scopes, ExpiresIn: *expires}, meta)
			if err != nil {
				return fmt.Errorf("apikey create: %s", latchkey.ErrorMessage(err))
			}
			fmt.Fprintf(env.Stderr, "created API key %s (%s); it is shown this once:\n", k.ID, k.Prefix)
			fmt.Fprintln(env.Stdout, secret.Reveal())
			return nil
		case "list":
			u, err := cliUser(ctx, a, *email)
			if err != nil {
				return err
			}
			keys, err := a.store.ListAPIKeys(ctx, u.ID)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tSCOPES\tCREATED\tEXPIRES\tLAST USED")
			for _, k := range keys {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, strings.Join(k.Scopes, ","),
					k.CreatedAt.UTC().Format(time.RFC3339), fmtTime(k.ExpiresAt), fmtTime(k.LastUsedAt))
			}
			return tw.Flush()
		case "revoke":
			if id == "" {
				return usageError{apikeyUsage}
			}
			k, err := a.store.APIKeyByID(ctx, id)
			if err != nil {
				return fmt.Errorf("apikey revoke: %s", latchkey.ErrorMessage(err))
			}
			if err := a.service(false).RevokeAPIKeyOf(ctx, k.UserID, "", k.ID, meta); err != nil {
				return fmt.Errorf("apikey revoke: %s", latchkey.ErrorMessage(err))
			}
			fmt.Fprintf(env.Stdout, "revoked %s\n", k.ID)
			return nil
		}
		return usageError{apikeyUsage}
	})
}

func cliUser(ctx context.Context, a *admin, email string) (*latchkey.User, error) {
	canonical, err := auth.CanonicalEmail(email)
	if err != nil {
		return nil, usageError{"--user: " + latchkey.ErrorMessage(err)}
	}
	u, err := a.store.UserByEmail(ctx, canonical)
	if err != nil {
		return nil, fmt.Errorf("--user %s: %s", canonical, latchkey.ErrorMessage(err))
	}
	return u, nil
}
