package sqlstore

import (
	"strings"

	"github.com/latchkey/latchkey"
)

// ClientCols are the columns of oauth_clients, in the order the stores
// write and scan them.
const ClientCols = `id, name, type, auth_method, secret_hash, previous_secret_hash, previous_secret_expires_at, jwks,
	redirect_uris, post_logout_redirect_uris, grant_types, scopes, first_party, created_at, updated_at`

// ClientSet is the SET list of an UPDATE of oauth_clients that writes the
// columns p sets, and updated_at, and nothing else.
func ClientSet(a *Args, p latchkey.ClientPatch, enc Encoder) string {
	var set []string
	col := func(name string, v any) { set = append(set, name+" = "+a.Add(v)) }
	if p.Name != nil {
		col("name", *p.Name)
	}
	if p.RedirectURIs != nil {
		col("redirect_uris", enc.List(*p.RedirectURIs))
	}
	if p.PostLogoutRedirectURIs != nil {
		col("post_logout_redirect_uris", enc.List(*p.PostLogoutRedirectURIs))
	}
	if p.GrantTypes != nil {
		col("grant_types", enc.List(*p.GrantTypes))
	}
	if p.Scopes != nil {
		col("scopes", enc.List(*p.Scopes))
	}
	if p.FirstParty != nil {
		col("first_party", enc.Bool(*p.FirstParty))
	}
	if p.JWKS != nil {
		col("jwks", *p.JWKS)
	}
	col("updated_at", enc.Time(p.UpdatedAt))
	return strings.Join(set, ", ")
}
