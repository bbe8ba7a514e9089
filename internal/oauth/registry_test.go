package oauth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/oauth"
	"github.com/latchkey/latchkey/internal/oauth/oauthtest"
)

func TestDiscoveryFailureIsolatedAndRetried(t *testing.T) {
	down := oauthtest.NewOIDC(t, "cid-down", "secret")
	down.Misbehave(oauthtest.DiscoveryDown)
	up := oauthtest.NewOIDC(t, "cid-up", "secret")
	gh := oauthtest.NewGitHub(t, "ghcid", "ghsecret")
	unreachable := oauthtest.NewOIDC(t, "cid-gone", "secret")
	unreachable.Close()

	a := newApp(t, []oauth.ProviderConfig{
		oidcConfig("zeta-down", down), oidcConfig("alpha-up", up), githubConfig(gh), oidcConfig("gone", unreachable),
	})

	if got, want := strings.Join(a.reg.Names(), ","), "alpha-up,github,gone,zeta-down"; got != want {
		t.Errorf("Names() = %s, want %s", got, want)
	}
	logs := a.logs.String()
	for _, p := range []struct{ name, issuer string }{{"zeta-down", down.Issuer}, {"gone", unreachable.Issuer}} {
		var line string
		for l := range strings.Lines(logs) {
			if strings.Contains(l, "provider="+p.name) {
				line = l
			}
		}
		if line == "" || !strings.Contains(line, "issuer="+p.issuer) || !strings.Contains(line, "discovery failed") {
			t.Errorf("no clear log line for %s; logs:\n%s", p.name, logs)
		}
	}
	if strings.Contains(logs, "alpha-up") || strings.Contains(logs, "github") {
		t.Errorf("healthy providers logged as failed:\n%s", logs)
	}

	// The authorization endpoint's origin is known for discovered providers
	// only, and asking for it discovers nothing.
	if got := a.reg.AuthOrigin("alpha-up"); got != up.Issuer {
		t.Errorf("AuthOrigin(alpha-up) = %q, want %q", got, up.Issuer)
	}
	if got, want := a.reg.AuthOrigin("github"), strings.TrimSuffix(gh.AuthURL(), "/login/oauth/authorize"); got != want {
		t.Errorf("AuthOrigin(github) = %q, want %q", got, want)
	}
	if got := a.reg.AuthOrigin("zeta-down") + a.reg.AuthOrigin("nope"); got != "" {
		t.Errorf("AuthOrigin of undiscovered and unknown providers = %q", got)
	}
	if _, err := a.reg.Provider("zeta-down"); !latchkey.IsCode(err, latchkey.EUnavailable) {
		t.Errorf("undiscovered provider: err = %v, want unavailable", err)
	}
	if _, err := a.reg.Provider("nope"); !latchkey.IsCode(err, latchkey.ENotFound) {
		t.Errorf("unknown provider: err = %v, want not_found", err)
	}
	if o := a.login(t, "zeta-down", nil); o.Status != 503 {
		t.Errorf("login at undiscovered provider: %+v", o)
	}
	for _, name := range []string{"alpha-up", "github"} {
		if o := a.login(t, name, nil); o.Status != 200 {
			t.Errorf("login at healthy %s while another is down: %+v", name, o)
		}
	}

	// The provider recovers; nothing changes until the retry interval has
	// passed, then the next request discovers it.
	down.Misbehave()
	a.clock.Advance(10 * time.Second)
	// The authorization endpoint's origin is known for discovered providers
	// only, and asking for it discovers nothing.
	if got := a.reg.AuthOrigin("alpha-up"); got != up.Issuer {
		t.Errorf("AuthOrigin(alpha-up) = %q, want %q", got, up.Issuer)
	}
	if got, want := a.reg.AuthOrigin("github"), strings.TrimSuffix(gh.AuthURL(), "/login/oauth/authorize"); got != want {
		t.Errorf("AuthOrigin(github) = %q, want %q", got, want)
	}
	if got := a.reg.AuthOrigin("zeta-down") + a.reg.AuthOrigin("nope"); got != "" {
		t.Errorf("AuthOrigin of undiscovered and unknown providers = %q", got)
	}
	if _, err := a.reg.Provider("zeta-down"); !latchkey.IsCode(err, latchkey.EUnavailable) {
		t.Errorf("retried before the interval: err = %v", err)
	}
	a.clock.Advance(25 * time.Second)
	if _, err := a.reg.Provider("zeta-down"); err != nil {
		t.Fatalf("not rediscovered after the interval: %v", err)
	}
	if o := a.login(t, "zeta-down", nil); o.Status != 200 {
		t.Errorf("login after rediscovery: %+v", o)
	}
	a.clock.Advance(time.Hour)
	if _, err := a.reg.Provider("gone"); !latchkey.IsCode(err, latchkey.EUnavailable) {
		t.Errorf("still unreachable provider: err = %v", err)
	}
}

func TestCallbackURL(t *testing.T) {
	gh := oauthtest.NewGitHub(t, "ghcid", "ghsecret")
	a := newApp(t, []oauth.ProviderConfig{githubConfig(gh)})
	if got, want := a.reg.CallbackURL("github"), a.srv.URL+"/v1/oauth/github/callback"; got != want {
		t.Errorf("CallbackURL = %s, want %s", got, want)
	}
}
