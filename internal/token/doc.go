// Package token issues and verifies latchkey's access tokens and manages the
// keys that sign them.
//
// Access tokens are JWTs in the RFC 9068 profile (typ "at+jwt"), signed
// with ES256 (the default), EdDSA or RS256. Each signing key verifies with
// exactly one algorithm, and a token's key is found only by its kid among
// latchkey's own keys: nothing in a token ever names a key or a URL that
// latchkey would trust.
//
// Signing keys live in the database with their private half sealed under
// the master key. A key is published as "next" before it signs anything,
// signs while "current", and stays published as "retired" until every token
// it signed has expired; then it is removed. KeyManager drives that cycle and
// hands out an immutable Keyring that the hot path reads without locks.
package token
