package oauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// discover fetches the provider's metadata and prepares the id_token
// verifier. The endpoints it names must pass the same https rule as
// configured URLs.
func (p *Provider) discover(ctx context.Context, now func() time.Time) error {
	op, err := oidc.NewProvider(oidc.ClientContext(ctx, p.client), p.cfg.Issuer)
	if err != nil {
		return fmt.Errorf("oidc discovery of %s: %w", p.cfg.Issuer, err)
	}
	var meta struct {
		AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err := op.Claims(&meta); err != nil {
		return fmt.Errorf("oidc discovery of %s: %w", p.cfg.Issuer, err)
	}
	ep := op.Endpoint()
	for what, u := range map[string]string{"authorization_endpoint": ep.AuthURL, "token_endpoint": ep.TokenURL} {
		if err := checkEndpoint(u); err != nil {
			return fmt.Errorf("oidc discovery of %s: %s: %w", p.cfg.Issuer, what, err)
		}
	}
	// client_secret_basic is the default (OIDC Core §9); use _post only when
	// the provider says it is all it takes. Never probe: a probe would send
	// the code twice.
	ep.AuthStyle = oauth2.AuthStyleInHeader
	if len(meta.AuthMethods) > 0 && !slices.Contains(meta.AuthMethods, "client_secret_basic") &&
		slices.Contains(meta.AuthMethods, "client_secret_post") {
		ep.AuthStyle = oauth2.AuthStyleInParams
	}
	p.oauth.Endpoint = ep
	// ClientID is always set, so go-oidc checks aud; SkipClientIDCheck is
	// never used. Signature (JWKS), iss and exp are checked by Verify.
	p.verifier = op.Verifier(&oidc.Config{ClientID: p.cfg.ClientID, Now: now})
	return nil
}

// idClaims are the id_token claims latchkey reads beyond those go-oidc checks.
type idClaims struct {
	Email         string   `json:"email"`
	EmailVerified flexBool `json:"email_verified"`
	Name          string   `json:"name"`
	AuthorizedBy  string   `json:"azp"`
}

// flexBool accepts true/false and "true"/"false": some providers send the
// string form of email_verified.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	switch string(data) {
	case `true`, `"true"`:
		*b = true
	case `false`, `"false"`, `null`:
		*b = false
	default:
		return fmt.Errorf("email_verified is not a boolean")
	}
	return nil
}

func (p *Provider) verifyIDToken(ctx context.Context, f Flow, tok *oauth2.Token) (*Profile, error) {
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return nil, failed(errors.New("oauth: token response has no id_token"))
	}
	idt, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return nil, failed(errors.New("oauth: id_token expired"))
		}
		return nil, failed(fmt.Errorf("oauth: id_token rejected: %w", err))
	}
	if idt.Nonce == "" || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return nil, failed(errors.New("oauth: id_token nonce does not match the flow"))
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		return nil, failed(fmt.Errorf("oauth: id_token claims: %w", err))
	}
	// With several audiences, OIDC Core §3.1.3.7 wants azp to be us.
	if len(idt.Audience) > 1 && c.AuthorizedBy != p.cfg.ClientID {
		return nil, failed(errors.New("oauth: id_token has several audiences and azp is not this client"))
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, failed(errors.New("oauth: id_token at_hash does not match the access token"))
		}
	}
	return &Profile{
		Subject:       idt.Subject,
		Email:         c.Email,
		EmailVerified: bool(c.EmailVerified) && c.Email != "",
		Name:          c.Name,
	}, nil
}
