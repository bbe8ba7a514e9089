package oauth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"

	"golang.org/x/oauth2"

	"github.com/latchkey/latchkey"
)

// Flow is one login attempt in progress: what the authorize step must
// remember for the callback. It travels in a sealed cookie (see
// EncodeFlowCookie), never in server memory, so any instance can finish it.
type Flow struct {
	Provider   string // name of the provider the user was sent to
	RedirectTo string // where the app wants the user afterwards (checked by the caller)
	State      string // binds the callback to this browser (CSRF)
	Nonce      string // binds the id_token to this flow (replay)
	Verifier   string // PKCE code_verifier; only its S256 hash leaves the server
	Mode       string // how the login is delivered: "" (caller's default), "cookie" or "code"
}

// randomBytes is the size of state, nonce and verifier: 256 bits each.
const randomBytes = 32

// randomLen is the length of a base64url (unpadded) encoding of randomBytes.
var randomLen = base64.RawURLEncoding.EncodedLen(randomBytes)

// NewFlow starts a login at provider with fresh state, nonce and PKCE
// verifier, each 32 bytes from crypto/rand.
func NewFlow(provider, redirectTo string) Flow {
	return Flow{
		Provider:   provider,
		RedirectTo: redirectTo,
		State:      randomString(),
		Nonce:      randomString(),
		Verifier:   randomString(),
	}
}

func randomString() string {
	b := make([]byte, randomBytes)
	rand.Read(b) // never fails (crypto/rand, Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Challenge is the PKCE S256 code_challenge of the flow's verifier.
func (f Flow) Challenge() string { return oauth2.S256ChallengeFromVerifier(f.Verifier) }

// CheckState compares the callback's state query parameter with the flow's,
// in constant time. A mismatch is a forged or crossed callback.
func (f Flow) CheckState(state string) error {
	if state == "" {
		return latchkey.WrapError(latchkey.EInvalidRequest, "The sign-in request is missing its state.", errors.New("oauth: callback without state"))
	}
	if f.State == "" || subtle.ConstantTimeCompare([]byte(state), []byte(f.State)) != 1 {
		return latchkey.WrapError(latchkey.EInvalidRequest, "The sign-in request does not match this browser.", errors.New("oauth: state mismatch"))
	}
	return nil
}

// String and LogValue keep state, nonce and verifier out of logs.
func (f Flow) String() string { return fmt.Sprintf("oauth.Flow{Provider:%q}", f.Provider) }

func (f Flow) LogValue() slog.Value {
	return slog.GroupValue(slog.String("provider", f.Provider), slog.String("redirect_to", f.RedirectTo))
}

// validate checks the shape of a decoded flow.
func (f Flow) validate() error {
	if !nameRE.MatchString(f.Provider) {
		return errors.New("bad provider name")
	}
	switch f.Mode {
	case "", "cookie", "code":
	default:
		return errors.New("bad delivery mode")
	}
	for _, v := range []string{f.State, f.Nonce, f.Verifier} {
		if len(v) != randomLen {
			return errors.New("bad random value length")
		}
		if _, err := base64.RawURLEncoding.DecodeString(v); err != nil {
			return errors.New("bad random value encoding")
		}
	}
	return nil
}
