package oauth_test

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/oauth"
)

// FuzzDecodeFlowCookie feeds untrusted cookie values to the decoder: it
// must never panic, and anything it accepts must be a well-formed flow.
func FuzzDecodeFlowCookie(f *testing.F) {
	s := newSealer(f)
	now := time.Unix(1_800_000_000, 0)
	good, err := oauth.EncodeFlowCookie(oauth.NewFlow("google", "https://app.example.test/"), s, now)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{good, "", "A", "====", good[:20], good + good, "\x00\xff", "%2F"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		fl, err := oauth.DecodeFlowCookie(v, s, now)
		if err != nil {
			if !latchkey.IsCode(err, latchkey.EInvalidRequest) {
				t.Fatalf("refusal with code %s: %v", latchkey.ErrorCode(err), err)
			}
			return
		}
		if len(fl.State) != 43 || len(fl.Nonce) != 43 || len(fl.Verifier) != 43 || fl.Provider == "" {
			t.Fatalf("accepted a malformed flow: %+v", fl)
		}
	})
}

// plainSealer seals nothing: it lets the fuzzer reach the payload parser
// behind the AEAD, which an attacker can only do with the master key.
type plainSealer struct{}

func (plainSealer) Seal(p, _ []byte) ([]byte, error) { return p, nil }
func (plainSealer) Open(p, _ []byte) ([]byte, error) { return p, nil }

// FuzzFlowCookiePayload fuzzes the JSON inside the seal.
func FuzzFlowCookiePayload(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	fl := oauth.NewFlow("google", "https://app.example.test/")
	f.Add(`{"p":"google","r":"","s":"` + fl.State + `","n":"` + fl.Nonce + `","v":"` + fl.Verifier + `","e":1800000300}`)
	f.Add(`{"p":"google","r":"/account","s":"` + fl.State + `","n":"` + fl.Nonce + `","v":"` + fl.Verifier +
		`","m":"link","lu":"01j0000000000000000000000a","ls":"01j0000000000000000000000b","e":1800000300}`)
	f.Add(`{"p":"google","e":1800000300,"x":1}`)
	f.Add(`{}{}`)
	f.Add(`{"e":1e999}`)
	f.Add(`null`)
	f.Fuzz(func(t *testing.T, payload string) {
		v := encodeRaw([]byte(payload))
		got, err := oauth.DecodeFlowCookie(v, plainSealer{}, now)
		if err != nil {
			if !latchkey.IsCode(err, latchkey.EInvalidRequest) {
				t.Fatalf("refusal with code %s: %v", latchkey.ErrorCode(err), err)
			}
			return
		}
		if err := got.CheckState(got.State); err != nil {
			t.Fatalf("accepted flow has an unusable state: %v", err)
		}
		again, err := oauth.EncodeFlowCookie(got, plainSealer{}, now)
		if err != nil {
			t.Fatalf("accepted flow does not encode again: %v", err)
		}
		if back, err := oauth.DecodeFlowCookie(again, plainSealer{}, now); err != nil || back != got {
			t.Fatalf("round trip changed the flow: %+v, %v", back, err)
		}
	})
}
