package sqlstore

import (
	"encoding/json"
	"strings"

	"github.com/latchkey/latchkey"
)

// ClientCols are the columns of oauth_clients, in the order the stores
// write and scan them.
const ClientCols = `id, name, type, auth_method, secret_hash, previous_secret_hash, previous_secret_expires_at, jwks,
	redirect_uris, post_logout_redirect_uris, grant_types, scopes, first_party, created_at, updated_at, resources`

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
	if p.Resources != nil {
		col("resources", enc.List(*p.Resources))
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

// The columns of the provider's other tables.
const (
	AuthRequestCols = `id, client_id, params, created_at, expires_at, user_id, session_id, auth_time, amr, acr, done_at,
	code_hash, code_expires_at, code_used_at`
	ConsentCols = `user_id, client_id, scopes, created_at, updated_at`
	GrantCols   = `id, client_id, user_id, session_id, scopes, audience, auth_time, amr, acr, created_at, expires_at, revoked_at`
)

// EncodeAuthParams writes a request's parameters as the JSON of the params
// column.
func EncodeAuthParams(p latchkey.AuthParams) (string, error) {
	b, err := json.Marshal(p)
	return string(b), err
}

// DecodeAuthParams reads the params column.
func DecodeAuthParams(s string) (latchkey.AuthParams, error) {
	var p latchkey.AuthParams
	err := json.Unmarshal([]byte(s), &p)
	return p, err
}

// ClientRefreshCols are the columns of oauth_refresh_tokens.
const ClientRefreshCols = `hash, grant_id, created_at, expires_at, used_at, sealed_successor`

// DeviceCols are the columns of oauth_device_codes.
const DeviceCols = `id, client_id, device_code_hash, user_code_hash, scopes, created_at, expires_at, last_polled_at, user_id, session_id,
	auth_time, amr, acr, approved_at, denied_at, consumed_at`
