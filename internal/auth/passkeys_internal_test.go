package auth

import (
	"testing"

	"github.com/latchkey/latchkey"
)

// FuzzPasskeyResponses feeds the finishes' parsing what a hostile client
// may send in place of a credential: a response parses, or it is refused
// with a client error; never a panic, never an internal error.
func FuzzPasskeyResponses(f *testing.F) {
	f.Add([]byte(`{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoiQUFBQSIsIm9yaWdpbiI6Imh0dHBzOi8vYS5leGFtcGxlIn0","authenticatorData":"SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFAAAAAQ","signature":"MEUCIQ","userHandle":"dQ"}}`))
	f.Add([]byte(`{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oA","transports":["usb"]}}`))
	f.Add([]byte(`{"id":"a","id":"b"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if p, err := readAssertion(body); err == nil {
			decodeChallenge(p.Response.CollectedClientData.Challenge)
		} else if code := latchkey.ErrorCode(err); code != latchkey.EInvalidRequest && code != latchkey.EPayloadTooLarge {
			t.Fatalf("assertion: %v", err)
		}
		if p, err := readRegistration(body); err == nil {
			decodeChallenge(p.Response.CollectedClientData.Challenge)
		} else if code := latchkey.ErrorCode(err); code != latchkey.EInvalidRequest && code != latchkey.EPayloadTooLarge {
			t.Fatalf("registration: %v", err)
		}
	})
}
