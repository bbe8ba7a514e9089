package token

import "github.com/latchkey/latchkey/internal/jwtcheck"

// Claims are the claims of a latchkey access token (RFC 9068); see
// jwtcheck.Claims, which reads and writes them.
type Claims = jwtcheck.Claims
