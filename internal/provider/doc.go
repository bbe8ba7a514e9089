// Package provider makes latchkey an OAuth 2.1 / OpenID Connect provider.
// The protocol itself is github.com/zitadel/oidc/v3's op package; this
// package is the adapter between op and latchkey: it implements op's
// Storage on latchkey's store, signs with latchkey's own keys (the JWKS
// op publishes is latchkey's), signs users in with latchkey's cookie
// sessions, and keeps the registered clients (the use cases behind the
// admin API and the `latchkey client` commands).
package provider
