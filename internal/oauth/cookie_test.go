package oauth_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/oauth"
	"github.com/latchkey/latchkey/internal/oauth/oauthtest"
)

func TestNewFlow(t *testing.T) {
	f := oauth.NewFlow("google", "https://app.example.test/")
	for name, v := range map[string]string{"state": f.State, "nonce": f.Nonce, "verifier": f.Verifier} {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(b) != 32 || len(v) != 43 {
			t.Errorf("%s %q: want 32 random bytes as 43 base64url characters", name, v)
		}
	}
	g := oauth.NewFlow("google", "")
	if f.State == g.State || f.Nonce == g.Nonce || f.Verifier == g.Verifier || f.State == f.Nonce {
		t.Error("flows share random values")
	}
	sum := sha256.Sum256([]byte(f.Verifier))
	if f.Challenge() != base64.RawURLEncoding.EncodeToString(sum[:]) {
		t.Error("challenge is not S256 of the verifier")
	}
	// RFC 7636 Appendix B.
	rfc := oauth.Flow{Verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"}
	if got := rfc.Challenge(); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Errorf("RFC 7636 example challenge = %s", got)
	}
}

func TestCheckState(t *testing.T) {
	f := oauth.NewFlow("google", "")
	if err := f.CheckState(f.State); err != nil {
		t.Errorf("matching state refused: %v", err)
	}
	for _, s := range []string{"", oauth.NewFlow("google", "").State, f.State + "x", f.State[:42], strings.ToUpper(f.State)} {
		if err := f.CheckState(s); !latchkey.IsCode(err, latchkey.EInvalidRequest) {
			t.Errorf("state %q: err = %v", s, err)
		}
	}
	if err := (oauth.Flow{}).CheckState(""); err == nil {
		t.Error("empty flow and empty state matched")
	}
}

func TestFlowCookieRoundTripAndExpiry(t *testing.T) {
	s := newSealer(t)
	now := time.Now()
	f := oauth.NewFlow("google", "https://app.example.test/after?x=1")
	v, err := oauth.EncodeFlowCookie(f, s, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{f.State, f.Nonce, f.Verifier, "app.example.test"} {
		if strings.Contains(v, secret) {
			t.Errorf("cookie value shows %q in clear", secret)
		}
	}
	tests := []struct {
		at time.Duration
		ok bool
	}{{0, true}, {9*time.Minute + 59*time.Second, true}, {10 * time.Minute, false}, {time.Hour, false}}
	for _, tt := range tests {
		got, err := oauth.DecodeFlowCookie(v, s, now.Add(tt.at))
		if tt.ok && (err != nil || got != f) {
			t.Errorf("after %v: got %v, %v; want the flow back", tt.at, got, err)
		}
		if !tt.ok && !latchkey.IsCode(err, latchkey.EInvalidRequest) {
			t.Errorf("after %v: err = %v, want refusal", tt.at, err)
		}
	}
	// A cookie sealed with a clock far ahead (expiry beyond now + TTL) is refused.
	future, _ := oauth.EncodeFlowCookie(f, s, now.Add(time.Hour))
	if _, err := oauth.DecodeFlowCookie(future, s, now); err == nil {
		t.Error("cookie from the future accepted")
	}
}

// adSealer seals under a fixed additional data, whatever it is asked: a
// value sealed for another purpose with the same key.
type adSealer struct {
	*gcmSealer
	ad string
}

func (a adSealer) Seal(p, _ []byte) ([]byte, error) { return a.gcmSealer.Seal(p, []byte(a.ad)) }

func TestFlowCookieTamperingRefused(t *testing.T) {
	s := newSealer(t)
	now := time.Now()
	f := oauth.NewFlow("google", "")
	v, err := oauth.EncodeFlowCookie(f, s, now)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(v)
	flip := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 1
		return base64.RawURLEncoding.EncodeToString(b)
	}
	foreign, _ := oauth.EncodeFlowCookie(f, newSealer(t), now)
	otherPurpose, _ := oauth.EncodeFlowCookie(f, adSealer{s, "latchkey session v1"}, now)
	cases := map[string]string{
		"empty":              "",
		"first byte flipped": flip(0),
		"middle flipped":     flip(len(raw) / 2),
		"last byte flipped":  flip(len(raw) - 1),
		"truncated":          v[:len(v)-4],
		"extended":           v + "AAAA",
		"not base64":         v[:10] + "!" + v[11:],
		"padded":             v + "==",
		"other key":          foreign,
		"other purpose":      otherPurpose,
		"huge":               strings.Repeat("A", 5000),
	}
	for name, c := range cases {
		if _, err := oauth.DecodeFlowCookie(c, s, now); !latchkey.IsCode(err, latchkey.EInvalidRequest) {
			t.Errorf("%s: err = %v, want invalid_request", name, err)
		}
	}
}

func TestFlowCookieAttributes(t *testing.T) {
	c := oauth.NewFlowCookie("v", true)
	if c.Name != "__Host-latch_oauth" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode ||
		c.Path != "/" || c.Domain != "" || c.MaxAge != 600 {
		t.Errorf("flow cookie = %+v", c)
	}
	if err := c.Valid(); err != nil {
		t.Error(err)
	}
	if d := oauth.ClearFlowCookie(true); d.Name != c.Name || d.MaxAge >= 0 || d.Value != "" {
		t.Errorf("clearing cookie = %+v", d)
	}
	if c := oauth.NewFlowCookie("v", false); c.Secure || strings.HasPrefix(c.Name, "__Host-") || !c.HttpOnly {
		t.Errorf("development cookie = %+v", c)
	}
}

// The whole flow over HTTP, with the callback tampered with.
func TestCallbackRefusals(t *testing.T) {
	idp := oauthtest.NewOIDC(t, "cid", "secret")
	a := newApp(t, []oauth.ProviderConfig{oidcConfig("acme", idp)})

	tests := []struct {
		name   string
		tamper func(cb *url.URL, c *http.Cookie)
		status int
	}{
		{"missing state cookie", func(_ *url.URL, c *http.Cookie) { c.Value = "" }, 400},
		{"tampered cookie", func(_ *url.URL, c *http.Cookie) { c.Value = otherFirstChar(c.Value) }, 400},
		{"state mismatch", func(cb *url.URL, _ *http.Cookie) { setQuery(cb, "state", oauth.NewFlow("acme", "").State) }, 400},
		{"state missing", func(cb *url.URL, _ *http.Cookie) { setQuery(cb, "state", "") }, 400},
		{"code missing", func(cb *url.URL, _ *http.Cookie) { setQuery(cb, "code", "") }, 400},
		{"code swapped", func(cb *url.URL, _ *http.Cookie) { setQuery(cb, "code", "forged") }, 401},
		{"provider error", func(cb *url.URL, _ *http.Cookie) { setQuery(cb, "error", "server_error\r\nX: y") }, 401},
		{"expired cookie", func(*url.URL, *http.Cookie) { a.clock.Advance(oauth.FlowTTL) }, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := a.login(t, "acme", tt.tamper)
			if o.Status != tt.status || o.Profile != nil {
				t.Errorf("outcome = %+v, want HTTP %d", o, tt.status)
			}
		})
	}

	// Another browser's cookie with this browser's callback: the states differ.
	var stolen *http.Cookie
	a.login(t, "acme", func(_ *url.URL, c *http.Cookie) { stolen = c })
	o := a.login(t, "acme", func(_ *url.URL, c *http.Cookie) { c.Value = stolen.Value })
	if o.Status != 400 {
		t.Errorf("cookie of another flow: %+v", o)
	}
}

func setQuery(u *url.URL, k, v string) {
	q := u.Query()
	if v == "" {
		q.Del(k)
	} else {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
}

// A link flow carries whom it links to through the sealed cookie, and a
// flow whose mode and binding disagree is refused both ways.
func TestLinkFlowBinding(t *testing.T) {
	s := newSealer(t)
	now := time.Now()
	f := oauth.NewLinkFlow("google", "01j0000000000000000000000a", "01j0000000000000000000000b", "/account")
	if f.Mode != oauth.ModeLink || f.RedirectTo != "/account" || len(f.State) != 43 {
		t.Fatalf("link flow = %+v", f)
	}
	v, err := oauth.EncodeFlowCookie(f, s, now)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(v, f.LinkUser) {
		t.Error("the user id is readable in the cookie")
	}
	if got, err := oauth.DecodeFlowCookie(v, s, now); err != nil || got != f {
		t.Errorf("round trip: %+v, %v", got, err)
	}

	unbound := f
	unbound.LinkSession = ""
	bound := oauth.NewFlow("google", "https://app.example.test/")
	bound.LinkUser, bound.LinkSession = f.LinkUser, f.LinkSession
	odd := f
	odd.LinkUser = "01J/../x"
	for name, bad := range map[string]oauth.Flow{"link without a session": unbound, "sign-in with a binding": bound, "malformed id": odd} {
		if _, err := oauth.EncodeFlowCookie(bad, s, now); err == nil {
			t.Errorf("%s: encoded", name)
		}
		// The same payload sealed by someone holding the key is refused on
		// the way in too.
		payload := `{"p":"google","r":"","s":"` + f.State + `","n":"` + f.Nonce + `","v":"` + f.Verifier + `","m":"` + bad.Mode +
			`","lu":"` + bad.LinkUser + `","ls":"` + bad.LinkSession + `","e":` + strconv.FormatInt(now.Add(time.Minute).Unix(), 10) + `}`
		if _, err := oauth.DecodeFlowCookie(encodeRaw([]byte(payload)), plainSealer{}, now); !latchkey.IsCode(err, latchkey.EInvalidRequest) {
			t.Errorf("%s: decoded (%v)", name, err)
		}
	}
}

// otherFirstChar changes the first character of v (to one it is not: a
// fixed replacement would leave one value in 64 untouched).
func otherFirstChar(v string) string {
	if v[0] == 'A' {
		return "B" + v[1:]
	}
	return "A" + v[1:]
}
