// Package jwtcheck is the one place where latchkey's access tokens are
// checked: by latchkey itself (internal/token) and by the services that
// import the public verify package. Security checks kept in two copies
// drift; these are kept once.
//
// A token must be a compact JWS of at most MaxTokenLength bytes whose
// header holds exactly alg, kid and typ ("at+jwt"): nothing that names a
// key or a key URL (jwk, jku, x5u, x5c), no crit, zip or anything else.
// The key comes only from the caller's Keys, by kid, and verifies only with
// its one algorithm. Header and claims are read strictly (see jsoncheck):
// no duplicate or case-variant members at any level, every registered claim
// of its one JSON type, times as whole seconds in range. exp, iss, aud and
// sub are required; iss must equal the configured issuer exactly and aud
// name the configured audience.
//
// It depends on the standard library and github.com/golang-jwt/jwt/v5
// only, so that verify keeps its promise to import nothing else.
package jwtcheck
