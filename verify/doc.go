// Package verify lets a Go service accept latchkey's credentials: access
// tokens (JWTs checked against the issuer's JWKS) and API keys (checked
// through the issuer's introspection endpoint).
//
// It depends only on the standard library and github.com/golang-jwt/jwt/v5,
// so that a resource server can import it without pulling in the server.
//
// A Verifier authenticates requests; its Middleware puts the caller's
// *Identity in the request context, and RequireRole, RequireScope and
// RequireAAL2 (RequireACR) guard individual routes: RequireAAL2 lets
// through only sessions that proved a second factor. Refusals follow RFC 6750 (a WWW-Authenticate header)
// and carry an RFC 9457 problem body with latchkey's error codes.
//
// Access-token checks, the same code latchkey itself runs: the token must
// be a compact JWS of at most 8 KiB whose header holds exactly alg, kid and
// typ "at+jwt" (so it can never name a key or key URL of its own, such as
// jwk, jku, x5u or x5c, nor carry crit), with a kid found in the issuer's
// JWKS and the one algorithm that key is published for; duplicate or
// case-variant JSON members are refused at any depth; exp and sub are
// required; iss must equal the configured issuer (a mismatch is logged at
// Warn with both values, since it usually means the issuer's URL is
// configured in two spellings) and aud must contain the configured
// audience; nbf and iat may not lie in the future beyond the leeway. The
// JWKS is fetched only from the configured URL, refreshed periodically, and
// re-fetched for an unknown kid at most once per UnknownKIDMinInterval.
package verify
