package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
)

// cliActor is who the command line acts as in the audit log.
var cliActor = auth.Actor{Meta: auth.Meta{UserAgent: "latchkey-cli"}}

const userUsage = `usage:
  latchkey user create --email E [--role R] [--name N] [--password-stdin]
  latchkey user list [--query Q]
  latchkey user show ID|EMAIL
  latchkey user update ID|EMAIL [--role a,b] [--disable|--enable] [--name N]
  latchkey user delete ID|EMAIL`

// adminCommand parses a subcommand's own flags, opens the installation
// the shared settings name and runs fn with the positional arguments.
func adminCommand(ctx context.Context, name string, fs *flag.FlagSet, args []string, env Env,
	fn func(a *admin, svc *auth.Service, positional []string) error) error {
	own, shared := splitOwnFlags(fs, args)
	if err := parseOwn(fs, own, env.Stderr); err != nil {
		return err
	}
	// Positional arguments (an ID or email) are those splitOwnFlags could
	// not attribute to a flag; the rest are shared settings.
	var positional []string
	for len(shared) > 0 && !strings.HasPrefix(shared[0], "-") {
		positional, shared = append(positional, shared[0]), shared[1:]
	}
	positional = append(positional, fs.Args()...)
	return withAdmin(ctx, name, shared, env, func(a *admin) error {
		if err := fn(a, a.service(false), positional); err != nil {
			var u usageError
			if errors.As(err, &u) {
				return err // names the command already
			}
			if latchkey.ErrorCode(err) != latchkey.EInternal {
				return fmt.Errorf("%s: %s", name, latchkey.ErrorMessage(err))
			}
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	})
}

func oneRef(name string, positional []string) (string, error) {
	if len(positional) != 1 {
		return "", usageError{name + ": give one user ID or email\n" + userUsage}
	}
	return positional[0], nil
}

func userList(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("user list", flag.ContinueOnError)
	query := fs.String("query", "", "show users whose email contains this")
	return adminCommand(ctx, "user list", fs, args, env, func(_ *admin, svc *auth.Service, _ []string) error {
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tROLES\tDISABLED\tCREATED")
		cursor := ""
		for {
			users, next, err := svc.ListUsers(ctx, latchkey.UserFilter{Query: *query, Page: latchkey.Page{Cursor: cursor, Limit: 200}})
			if err != nil {
				return err
			}
			for _, u := range users {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\n", u.ID, u.Email, strings.Join(u.Roles, ","), u.Disabled, u.CreatedAt.UTC().Format(time.RFC3339))
			}
			if next == "" {
				return tw.Flush()
			}
			cursor = next
		}
	})
}

func printUser(w io.Writer, u *latchkey.User) {
	fmt.Fprintf(w, "id:       %s\nemail:    %s\nname:     %s\nroles:    %s\ndisabled: %t\ncreated:  %s\nupdated:  %s\n",
		u.ID, u.Email, u.Name, strings.Join(u.Roles, ","), u.Disabled,
		u.CreatedAt.UTC().Format(time.RFC3339), u.UpdatedAt.UTC().Format(time.RFC3339))
}

func userShow(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("user show", flag.ContinueOnError)
	return adminCommand(ctx, "user show", fs, args, env, func(_ *admin, svc *auth.Service, pos []string) error {
		ref, err := oneRef("user show", pos)
		if err != nil {
			return err
		}
		u, err := svc.FindUser(ctx, ref)
		if err != nil {
			return err
		}
		printUser(env.Stdout, u)
		return nil
	})
}

func userUpdate(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("user update", flag.ContinueOnError)
	roles := fs.String("role", "", "the user's roles from now on, comma-separated (e.g. user,admin)")
	disable := fs.Bool("disable", false, "disable the user: ends every session and API key of theirs")
	enable := fs.Bool("enable", false, "enable a disabled user")
	name := fs.String("name", "", "display name")
	return adminCommand(ctx, "user update", fs, args, env, func(_ *admin, svc *auth.Service, pos []string) error {
		ref, err := oneRef("user update", pos)
		if err != nil {
			return err
		}
		var ch auth.UserChanges
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if *disable && *enable {
			return usageError{"user update: --disable and --enable exclude each other"}
		}
		if set["role"] {
			list := splitComma(*roles)
			ch.Roles = &list
		}
		if *disable || *enable {
			ch.Disabled = disable
		}
		if set["name"] {
			ch.Name = name
		}
		if ch == (auth.UserChanges{}) {
			return usageError{"user update: nothing to change\n" + userUsage}
		}
		u, err := svc.FindUser(ctx, ref)
		if err != nil {
			return err
		}
		if u, err = svc.UpdateUser(ctx, u.ID, ch, cliActor); err != nil {
			return err
		}
		printUser(env.Stdout, u)
		return nil
	})
}

func userDelete(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("user delete", flag.ContinueOnError)
	return adminCommand(ctx, "user delete", fs, args, env, func(_ *admin, svc *auth.Service, pos []string) error {
		ref, err := oneRef("user delete", pos)
		if err != nil {
			return err
		}
		u, err := svc.FindUser(ctx, ref)
		if err != nil {
			return err
		}
		if err := svc.DeleteUser(ctx, u.ID, cliActor); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "deleted user %s (%s)\n", u.ID, u.Email)
		return nil
	})
}

func splitComma(s string) []string {
	var out []string
	for _, r := range strings.Split(s, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// auditCommand is `latchkey audit tail`.
func auditCommand(ctx context.Context, args []string, env Env) error {
	const usage = "usage: latchkey audit tail [--user ID] [--type T] [--limit N] [--follow]"
	if len(args) == 0 || args[0] != "tail" {
		return usageError{usage}
	}
	fs := flag.NewFlagSet("audit tail", flag.ContinueOnError)
	user := fs.String("user", "", "only this user's events")
	typ := fs.String("type", "", "only events of this type: "+strings.Join(auditTypes, ", "))
	limit := fs.Int("limit", 20, "how many of the newest events to print (1-200)")
	follow := fs.Bool("follow", false, "keep printing new events, polling every second, until interrupted")
	return adminCommand(ctx, "audit tail", fs, args[1:], env, func(_ *admin, svc *auth.Service, pos []string) error {
		if len(pos) > 0 || *limit < 1 || *limit > 200 {
			return usageError{usage}
		}
		if err := checkAuditType(*typ); err != nil {
			return err
		}
		f := latchkey.AuditFilter{UserID: *user, Type: *typ, Page: latchkey.Page{Limit: *limit}}
		last, err := printNewAudit(ctx, svc, f, "", env.Stdout)
		if err != nil || !*follow {
			return err
		}
		t := time.NewTicker(time.Second)
		defer t.Stop()
		f.Limit = 200
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
			if last, err = printNewAudit(ctx, svc, f, last, env.Stdout); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
	})
}

// printNewAudit prints, oldest first, the newest events of one page that
// are newer than after (IDs sort by time), and returns the newest ID seen.
func printNewAudit(ctx context.Context, svc *auth.Service, f latchkey.AuditFilter, after string, w io.Writer) (string, error) {
	events, _, err := svc.ListAudit(ctx, f)
	if err != nil {
		return after, err
	}
	slices.Reverse(events)
	for _, e := range events {
		if e.ID <= after {
			continue
		}
		fmt.Fprintf(w, "%s %s %s user=%s session=%s api_key=%s ip=%s user_agent=%q reason=%q\n",
			e.Time.UTC().Format(time.RFC3339), e.Type, e.Outcome, e.UserID, e.SessionID, e.APIKeyID, e.IP, e.UserAgent, e.Reason)
		after = e.ID
	}
	return after, nil
}

// auditTypes are the event types of latchkey.Audit*, in the order they are
// declared (a test keeps the list complete).
var auditTypes = []string{
	latchkey.AuditSignup, latchkey.AuditLoginSucceeded, latchkey.AuditLoginFailed, latchkey.AuditLogout,
	latchkey.AuditRefresh, latchkey.AuditRefreshReuse, latchkey.AuditRefreshGrace, latchkey.AuditReauthenticated,
	latchkey.AuditSessionRevoked, latchkey.AuditPasswordChanged, latchkey.AuditAPIKeyCreated, latchkey.AuditAPIKeyRevoked,
	latchkey.AuditOAuthLogin, latchkey.AuditOAuthLinked, latchkey.AuditUserUpdated, latchkey.AuditUserDeleted,
	latchkey.AuditKeysRotated, latchkey.AuditRateLimited,
	latchkey.AuditEmailVerificationSent, latchkey.AuditEmailVerified, latchkey.AuditPasswordResetAsked, latchkey.AuditPasswordReset,
	latchkey.AuditEmailChangeRequested, latchkey.AuditEmailChanged, latchkey.AuditEmailChangeCancelled, latchkey.AuditEmailSignIn,
	// The OpenID provider's (client.go).
	latchkey.AuditClientCreated, latchkey.AuditClientUpdated, latchkey.AuditClientDeleted, latchkey.AuditClientSecretRotated,
	latchkey.AuditProviderConsent, latchkey.AuditProviderConsentGone, latchkey.AuditProviderCodeIssued, latchkey.AuditProviderTokenIssued,
	latchkey.AuditProviderCodeReuse, latchkey.AuditProviderGrantRevoked, latchkey.AuditProviderClientAuthFailed,
	latchkey.AuditResourceCreated, latchkey.AuditResourceDeleted, latchkey.AuditAPIKeyAudiences,
}

// checkAuditType refuses a type no event has (which would print nothing,
// as if nothing had happened), naming the types that start alike and
// listing all of them.
func checkAuditType(typ string) error {
	if typ == "" || slices.Contains(auditTypes, typ) {
		return nil
	}
	var alike []string
	for _, t := range auditTypes {
		if strings.HasPrefix(t, typ) {
			alike = append(alike, t)
		}
	}
	hint := ""
	if len(alike) > 0 {
		hint = " (did you mean " + strings.Join(alike, " or ") + "?)"
	}
	return usageError{fmt.Sprintf("audit tail: no event has the type %q%s; the types are %s", typ, hint, strings.Join(auditTypes, ", "))}
}
