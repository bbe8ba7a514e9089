package oauth_test

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/oauth"
	"github.com/latchkey/latchkey/internal/oauth/oauthtest"
)

func encodeRaw(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func BenchmarkNewFlow(b *testing.B) {
	for b.Loop() {
		oauth.NewFlow("google", "https://app.example.test/")
	}
}

func BenchmarkFlowCookieRoundTrip(b *testing.B) {
	s := newSealer(b)
	now := time.Now()
	f := oauth.NewFlow("google", "https://app.example.test/")
	for b.Loop() {
		v, err := oauth.EncodeFlowCookie(f, s, now)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := oauth.DecodeFlowCookie(v, s, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOIDCExchange is one code exchange and id_token verification
// against the loopback provider (authorize excluded).
func BenchmarkOIDCExchange(b *testing.B) {
	idp := oauthtest.NewOIDC(b, "cid", "secret")
	reg := oauth.NewRegistry(context.Background(), []oauth.ProviderConfig{oidcConfig("acme", idp)}, "http://127.0.0.1:1", nil, nil)
	p, err := reg.Provider("acme")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		f := oauth.NewFlow("acme", "")
		resp, err := noRedirects.Get(p.AuthCodeURL(f))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := resp.Location()
		b.StartTimer()
		if _, err := p.Exchange(ctx, f, loc.Query().Get("code")); err != nil {
			b.Fatal(err)
		}
	}
}
