// Package oauthtest runs small but real OAuth 2.0 providers on loopback for
// tests: an OpenID Connect provider (discovery, JWKS, authorize, token with
// PKCE S256 and single-use codes, signed id_tokens) and a server that speaks
// GitHub's OAuth and user API. Each has knobs to misbehave, so that tests
// can show latchkey refuses what it must.
//
// The authorize endpoints sign the configured user in at once and redirect
// straight back, as a provider does for a user who is already logged in and
// has consented.
package oauthtest
