// Package jsoncheck checks the shape of untrusted JSON before anything
// binds it.
//
// Go's encoding/json accepts duplicate members (the last wins), binds
// case-variant members ("EMAIL" to a field tagged "email"), and silently
// replaces invalid UTF-8. Two parsers that resolve such a document
// differently are a classic bypass (a gateway sees one user, the server
// another), so latchkey refuses all of these: request bodies (through
// jsonx) and the header and claims of every access token (through
// jwtcheck, which the public verify package shares).
//
// It depends on the standard library only. Its refusals are plain errors
// whose messages a client can act on; callers wrap them in their own error
// conventions.
package jsoncheck

import "errors"

// MaxDepth bounds nesting; no latchkey document comes close.
const MaxDepth = 32

func invalid(msg string) error { return errors.New(msg) }
