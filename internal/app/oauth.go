package app

import (
	"context"
	"log/slog"
	"strings"

	"github.com/latchkey/latchkey/internal/config"
	"github.com/latchkey/latchkey/internal/oauth"
	"github.com/latchkey/latchkey/internal/redirect"
)

// socialLogin is the configuration of social login, checked before the
// server starts: a bad provider or allow-list entry stops it with one line.
type socialLogin struct {
	providers []oauth.ProviderConfig
	redirects *redirect.Allowlist
}

func loadSocialLogin(cfg *config.Config, environ []string) (*socialLogin, error) {
	// The environment comes first: for a provider setting given both ways,
	// the first occurrence wins, as flags and variables beat the file.
	providers, err := oauth.ParseConfig(append(append([]string{}, environ...), cfg.OAuthFromFile...))
	if err != nil {
		return nil, usageError{"invalid OAuth provider configuration: " + strings.ReplaceAll(err.Error(), "\n", "; ")}
	}
	redirects, err := redirect.NewAllowlist(cfg.RedirectAllowlist)
	if err != nil {
		return nil, usageError{"invalid --redirect-allowlist: " + err.Error()}
	}
	return &socialLogin{providers: providers, redirects: redirects}, nil
}

// registry discovers the providers. A provider whose discovery fails is
// logged and answers 503 until a later retry succeeds; the others work.
// The callback URLs are built on the issuer, latchkey's public URL.
func (s *socialLogin) registry(ctx context.Context, cfg *config.Config, logger *slog.Logger) *oauth.Registry {
	reg := oauth.NewRegistry(ctx, s.providers, cfg.Issuer, nil, logger)
	if names := reg.Names(); len(names) > 0 {
		logger.Info("social login providers configured", "providers", strings.Join(names, ","))
	}
	return reg
}
