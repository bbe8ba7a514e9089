package latchkey

import "log/slog"

// Secret holds a token, key or password in memory. It prints and logs as a
// redaction so that a secret can never reach a log line by accident; call
// Reveal where the plaintext is really needed.
type Secret string

const redacted = "[REDACTED]"

func (s Secret) String() string               { return redacted }
func (s Secret) GoString() string             { return redacted }
func (s Secret) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Reveal returns the plaintext.
func (s Secret) Reveal() string { return string(s) }
