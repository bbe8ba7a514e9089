// Package oauth is the provider side of latchkey's social login: it reads
// the configured providers, discovers OpenID Connect providers, builds the
// authorization redirect (state, PKCE S256, nonce), carries that flow in a
// sealed short-lived cookie, and turns the provider's callback code into a
// verified Profile.
//
// It knows nothing about HTTP routes, sessions or accounts; the server wires
// those around the Registry, Flow and Provider types here.
package oauth
