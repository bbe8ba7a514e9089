package oauth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"regexp"

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
	Mode       string // how the login is delivered: "" (caller's default), "cookie", "code", or ModeLink
	// LinkUser and LinkSession, set exactly when Mode is ModeLink, are the
	// signed-in user who asked to link the provider to their account and
	// the session they asked from: the callback links to that account only,
	// and only while the browser still holds that session.
	LinkUser    string
	LinkSession string
}

// ModeLink is the Mode of a flow started from the account page to link a
// provider to the signed-in account, rather than to sign in.
const ModeLink = "link"

// NewLinkFlow starts linking provider to the account of userID, asked for
// by its session sessionID; the flow ends on the account page.
func NewLinkFlow(provider, userID, sessionID, accountPage string) Flow {
	f := NewFlow(provider, accountPage)
	f.Mode, f.LinkUser, f.LinkSession = ModeLink, userID, sessionID
	return f
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

// idRE is the shape of latchkey's ids (latchkey.NewID), with room to spare.
var idRE = regexp.MustCompile(`^[0-9a-z]{1,64}$`)

// validate checks the shape of a decoded flow.
func (f Flow) validate() error {
	if !nameRE.MatchString(f.Provider) {
		return errors.New("bad provider name")
	}
	switch f.Mode {
	case "", "cookie", "code":
		if f.LinkUser != "" || f.LinkSession != "" {
			return errors.New("link binding on a sign-in flow")
		}
	case ModeLink:
		// A link flow names whom it links to; without that it could only
		// be mistaken for a sign-in.
		if !idRE.MatchString(f.LinkUser) || !idRE.MatchString(f.LinkSession) {
			return errors.New("bad link binding")
		}
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
