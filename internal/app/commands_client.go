package app

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/provider"
)

const clientUsage = `usage:
  latchkey client create --name N [--type confidential|public] [--auth-method M] [--redirect-uri U]...
                         [--post-logout-redirect-uri U]... [--grant G]... [--scope S]... [--resource R]... [--first-party] [--jwks-file F]
  latchkey client list
  latchkey client rotate-secret ID [--overlap 24h]
  latchkey client delete ID
  create prints the client_id and, for a client with a secret, the secret (shown once) on standard output.`

// clientCommand is `latchkey client …`: the OpenID provider's clients.
func clientCommand(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 {
		return usageError{clientUsage}
	}
	sub, rest := args[0], args[1:]
	fs := flag.NewFlagSet("client "+sub, flag.ContinueOnError)
	switch sub {
	case "create":
		return clientCreate(ctx, fs, rest, env)
	case "list":
		return adminCommand(ctx, "client list", fs, rest, env, func(a *admin, _ *auth.Service, pos []string) error {
			if len(pos) > 0 {
				return usageError{clientUsage}
			}
			list, err := provider.NewClients(a.store, a.clock).List(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tTYPE\tAUTH\tGRANTS\tFIRST PARTY\tCREATED")
			for _, c := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%t\t%s\n", c.ID, c.Name, c.Type, c.AuthMethod, strings.Join(c.GrantTypes, ","),
					c.FirstParty, c.CreatedAt.UTC().Format(time.RFC3339))
			}
			return tw.Flush()
		})
	case "rotate-secret":
		overlap := fs.Duration("overlap", provider.DefaultSecretOverlap, "how long the previous secret keeps working (0s: it stops at once)")
		return adminCommand(ctx, "client rotate-secret", fs, rest, env, func(a *admin, _ *auth.Service, pos []string) error {
			if len(pos) != 1 {
				return usageError{"client rotate-secret: give one client ID\n" + clientUsage}
			}
			secret, err := provider.NewClients(a.store, a.clock).RotateSecret(ctx, pos[0], *overlap, cliActor)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stderr, "new secret of client %s (the previous one works for %s); it is shown this once:\n", pos[0], *overlap)
			fmt.Fprintln(env.Stdout, secret.Reveal())
			return nil
		})
	case "delete":
		return adminCommand(ctx, "client delete", fs, rest, env, func(a *admin, _ *auth.Service, pos []string) error {
			if len(pos) != 1 {
				return usageError{"client delete: give one client ID\n" + clientUsage}
			}
			if err := provider.NewClients(a.store, a.clock).Delete(ctx, pos[0], cliActor); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "deleted client %s\n", pos[0])
			return nil
		})
	}
	return usageError{fmt.Sprintf("unknown client command %q\n%s", sub, clientUsage)}
}

func clientCreate(ctx context.Context, fs *flag.FlagSet, args []string, env Env) error {
	name := fs.String("name", "", "the client's name, shown on the consent page")
	typ := fs.String("type", latchkey.ClientConfidential, "confidential (a server that keeps a secret) or public (a browser or native app; PKCE)")
	method := fs.String("auth-method", "", "client_secret_basic (default), client_secret_post or private_key_jwt; none for a public client")
	firstParty := fs.Bool("first-party", false, "the operator's own app: its users are not asked for consent")
	jwksFile := fs.String("jwks-file", "", "a file holding the client's public keys (JWKS), for private_key_jwt")
	var redirects, logouts, grants, scopes, resources stringList
	fs.Var(&redirects, "redirect-uri", "a redirect URI, matched exactly; repeat or separate with commas")
	fs.Var(&logouts, "post-logout-redirect-uri", "where the client may send users after logout; repeat or separate with commas")
	fs.Var(&grants, "grant", "a grant type: authorization_code, refresh_token, client_credentials, device_code (default: the first two)")
	fs.Var(&scopes, "scope", "a scope the client may ask for (default: openid profile email offline_access)")
	fs.Var(&resources, "resource", "a registered resource server (its identifier) the client may ask tokens for")
	return adminCommand(ctx, "client create", fs, args, env, func(a *admin, _ *auth.Service, pos []string) error {
		if len(pos) > 0 {
			return usageError{clientUsage}
		}
		in := provider.ClientInput{Name: *name, Type: *typ, AuthMethod: *method, RedirectURIs: redirects, PostLogoutRedirectURIs: logouts,
			Scopes: scopes, Resources: resources, FirstParty: *firstParty}
		for _, g := range grants {
			if g == "device_code" {
				g = latchkey.GrantDeviceCode
			}
			in.GrantTypes = append(in.GrantTypes, g)
		}
		if *jwksFile != "" {
			b, err := os.ReadFile(*jwksFile)
			if err != nil {
				return fmt.Errorf("client create: reading the JWKS: %w", err)
			}
			in.JWKS = string(b)
		}
		c, secret, err := provider.NewClients(a.store, a.clock).Create(ctx, in, cliActor)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "created client %s (%s, %s, %s); its client_id follows", c.Name, c.Type, c.AuthMethod, strings.Join(c.GrantTypes, ", "))
		if secret != "" {
			fmt.Fprint(env.Stderr, ", then its client_secret, shown this once")
		}
		fmt.Fprintln(env.Stderr, ":")
		fmt.Fprintln(env.Stdout, c.ID)
		if secret != "" {
			fmt.Fprintln(env.Stdout, secret.Reveal())
		}
		return nil
	})
}
