package oauth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
)

// Sealer encrypts and authenticates (AEAD). The server plugs in AES-GCM
// under its master key.
type Sealer interface {
	Seal(plaintext, additionalData []byte) ([]byte, error)
	Open(sealed, additionalData []byte) ([]byte, error)
}

const (
	// FlowTTL is how long a user has between the authorize redirect and the
	// callback.
	FlowTTL = 10 * time.Minute
	// FlowCookieName is the flow cookie's name over HTTPS; the __Host-
	// prefix pins it to this host, Path=/ and Secure.
	FlowCookieName = "__Host-latch_oauth"
	// FlowCookieNameInsecure is its name on plain-http development servers,
	// where browsers refuse a __Host- cookie.
	FlowCookieNameInsecure = "latch_oauth"

	// maxCookieLen bounds the work done on an untrusted cookie before any
	// decoding: the browser limit for name plus value is 4096 bytes.
	maxCookieLen = 4096
	// flowAD binds a sealed value to this use, so that nothing else sealed
	// under the same master key can be replayed as a flow cookie.
	flowAD = "latchkey oauth flow cookie v1"
)

// flowCookie is the sealed payload. Short keys keep the cookie small.
type flowCookie struct {
	Provider   string `json:"p"`
	RedirectTo string `json:"r"`
	State      string `json:"s"`
	Nonce      string `json:"n"`
	Verifier   string `json:"v"`
	Mode       string `json:"m,omitempty"`
	LinkUser   string `json:"lu,omitempty"`
	LinkSess   string `json:"ls,omitempty"`
	Expires    int64  `json:"e"` // Unix seconds
}

// EncodeFlowCookie seals f, with an expiry FlowTTL after now, into a cookie
// value (base64url).
func EncodeFlowCookie(f Flow, s Sealer, now time.Time) (string, error) {
	if err := f.validate(); err != nil {
		return "", fmt.Errorf("oauth: encode flow cookie: %w", err)
	}
	plain, err := json.Marshal(flowCookie{
		Provider: f.Provider, RedirectTo: f.RedirectTo,
		State: f.State, Nonce: f.Nonce, Verifier: f.Verifier, Mode: f.Mode,
		LinkUser: f.LinkUser, LinkSess: f.LinkSession,
		Expires: now.Add(FlowTTL).Unix(),
	})
	if err != nil {
		return "", fmt.Errorf("oauth: encode flow cookie: %w", err)
	}
	sealed, err := s.Seal(plain, []byte(flowAD))
	if err != nil {
		return "", fmt.Errorf("oauth: seal flow cookie: %w", err)
	}
	v := base64.RawURLEncoding.EncodeToString(sealed)
	if len(v) > maxCookieLen-len(FlowCookieName)-1 {
		return "", latchkey.Errorf(latchkey.EInvalidRequest, "The redirect target is too long.")
	}
	return v, nil
}

// DecodeFlowCookie opens a flow cookie and refuses it when it was tampered
// with, sealed for another purpose, malformed or expired at now. The caller
// must still compare the state (Flow.CheckState).
func DecodeFlowCookie(v string, s Sealer, now time.Time) (Flow, error) {
	bad := func(reason string) (Flow, error) {
		return Flow{}, latchkey.WrapError(latchkey.EInvalidRequest,
			"The sign-in request has expired or is not valid; please start again.",
			errors.New("oauth: flow cookie: "+reason))
	}
	if v == "" {
		return bad("missing")
	}
	if len(v) > maxCookieLen {
		return bad("too long")
	}
	sealed, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return bad("not base64url")
	}
	plain, err := s.Open(sealed, []byte(flowAD))
	if err != nil {
		return bad("does not open (tampered or foreign)")
	}
	var c flowCookie
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || dec.More() {
		return bad("malformed payload")
	}
	exp := time.Unix(c.Expires, 0)
	if !now.Before(exp) {
		return bad("expired")
	}
	if exp.After(now.Add(FlowTTL + time.Minute)) {
		return bad("expiry too far in the future")
	}
	f := Flow{Provider: c.Provider, RedirectTo: c.RedirectTo, State: c.State, Nonce: c.Nonce, Verifier: c.Verifier, Mode: c.Mode,
		LinkUser: c.LinkUser, LinkSession: c.LinkSess}
	if err := f.validate(); err != nil {
		return bad(err.Error())
	}
	return f, nil
}

// NewFlowCookie is the cookie that carries a flow value from the authorize
// step to the callback. SameSite=Lax, not Strict: the callback is a
// top-level navigation that starts on the provider's site, and a Strict
// cookie would not come back with it. secure is false only for a plain-http
// development server.
func NewFlowCookie(value string, secure bool) *http.Cookie {
	return &http.Cookie{
		Name:     flowCookieName(secure),
		Value:    value,
		Path:     "/",
		MaxAge:   int(FlowTTL / time.Second),
		Secure:   secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
}

// ClearFlowCookie deletes the flow cookie; the callback sends it whatever
// the outcome, so that a flow is used at most once by this browser.
func ClearFlowCookie(secure bool) *http.Cookie {
	c := NewFlowCookie("", secure)
	c.MaxAge = -1
	return c
}

func flowCookieName(secure bool) string {
	if secure {
		return FlowCookieName
	}
	return FlowCookieNameInsecure
}
