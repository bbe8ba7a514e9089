package oauth_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/oauth"
	"github.com/latchkey/latchkey/internal/oauth/oauthtest"
)

func TestOIDCHappyPath(t *testing.T) {
	idp := oauthtest.NewOIDC(t, "latchkey-client", "s3cret-canary-oidc")
	a := newApp(t, []oauth.ProviderConfig{oidcConfig("acme", idp)})
	idp.RequireRedirectURI(a.srv.URL + "/v1/oauth/acme/callback")
	idp.SetUser(oauthtest.User{Subject: "sub-123", Email: "ada@example.test", EmailVerified: true, Name: "Ada"})

	o := a.login(t, "acme", nil)
	if o.Status != 200 || o.Profile == nil {
		t.Fatalf("login: HTTP %d %s %s", o.Status, o.Code, o.Reason)
	}
	want := oauth.Profile{Provider: "acme", Subject: "sub-123", Email: "ada@example.test", EmailVerified: true, Name: "Ada"}
	if *o.Profile != want {
		t.Errorf("profile = %+v, want %+v", *o.Profile, want)
	}

	idp.SetUser(oauthtest.User{Subject: "sub-456", Email: "bob@example.test", EmailVerified: false})
	o = a.login(t, "acme", nil)
	if o.Status != 200 || o.Profile.Subject != "sub-456" || o.Profile.EmailVerified {
		t.Errorf("unverified email: %+v", o)
	}
}

func TestAuthCodeURL(t *testing.T) {
	idp := oauthtest.NewOIDC(t, "cid", "secret")
	gh := oauthtest.NewGitHub(t, "ghcid", "ghsecret")
	a := newApp(t, []oauth.ProviderConfig{oidcConfig("acme", idp), githubConfig(gh)})

	f := oauth.NewFlow("acme", "")
	u, err := url.Parse(mustProvider(t, a, "acme").AuthCodeURL(f))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for k, v := range map[string]string{
		"state": f.State, "nonce": f.Nonce, "code_challenge": f.Challenge(), "code_challenge_method": "S256",
		"scope": "openid email profile", "response_type": "code", "client_id": "cid",
		"redirect_uri": a.srv.URL + "/v1/oauth/acme/callback",
	} {
		if q.Get(k) != v {
			t.Errorf("OIDC authorize URL: %s = %q, want %q", k, q.Get(k), v)
		}
	}
	if strings.Contains(u.String(), f.Verifier) {
		t.Error("the PKCE verifier leaked into the authorize URL")
	}
	if !strings.HasPrefix(u.String(), idp.Issuer+"/authorize?") {
		t.Errorf("authorize URL %s is not the discovered endpoint", u)
	}

	f = oauth.NewFlow("github", "")
	u, _ = url.Parse(mustProvider(t, a, "github").AuthCodeURL(f))
	q = u.Query()
	if q.Get("scope") != "read:user user:email" || q.Get("code_challenge") != f.Challenge() || q.Get("state") != f.State {
		t.Errorf("GitHub authorize URL: %s", u)
	}
	if q.Has("nonce") {
		t.Error("GitHub authorize URL carries a nonce; it is not OpenID Connect")
	}
}

func TestGitHubHappyPath(t *testing.T) {
	gh := oauthtest.NewGitHub(t, "ghcid", "s3cret-canary-gh")
	a := newApp(t, []oauth.ProviderConfig{githubConfig(gh)})

	tests := []struct {
		name string
		user oauthtest.GitHubUser
		want oauth.Profile
	}{
		{"primary verified", oauthtest.GitHubUser{ID: 7, Login: "ada", Name: "Ada L", Emails: []oauthtest.GitHubEmail{
			{Email: "other@example.test", Verified: true},
			{Email: "ada@example.test", Primary: true, Verified: true},
		}}, oauth.Profile{Provider: "github", Subject: "7", Email: "ada@example.test", EmailVerified: true, Name: "Ada L"}},
		{"primary unverified, another verified", oauthtest.GitHubUser{ID: 8, Login: "bob", Emails: []oauthtest.GitHubEmail{
			{Email: "bob-verified@example.test", Verified: true},
			{Email: "bob@example.test", Primary: true, Verified: false},
		}}, oauth.Profile{Provider: "github", Subject: "8", Email: "bob@example.test", EmailVerified: false, Name: "bob"}},
		{"no emails", oauthtest.GitHubUser{ID: 9, Login: "cy", Name: "Cy"},
			oauth.Profile{Provider: "github", Subject: "9", Name: "Cy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gh.SetUser(tt.user)
			o := a.login(t, "github", nil)
			if o.Status != 200 || o.Profile == nil {
				t.Fatalf("login: HTTP %d %s %s", o.Status, o.Code, o.Reason)
			}
			if *o.Profile != tt.want {
				t.Errorf("profile = %+v, want %+v", *o.Profile, tt.want)
			}
		})
	}
}

func TestGitHubRefusals(t *testing.T) {
	gh := oauthtest.NewGitHub(t, "ghcid", "ghsecret")
	a := newApp(t, []oauth.ProviderConfig{githubConfig(gh)})

	gh.SetUser(oauthtest.GitHubUser{ID: 0, Login: "ghost"})
	if o := a.login(t, "github", nil); o.Status != 401 || !strings.Contains(o.Reason, "numeric id") {
		t.Errorf("user without id: %+v", o)
	}
	gh.SetUser(oauthtest.GitHubUser{ID: 1, Login: "one"})

	gh.DenyAccess(true)
	if o := a.login(t, "github", nil); o.Status != 401 || !strings.Contains(o.Reason, "access_denied") {
		t.Errorf("access denied: %+v", o)
	}
	gh.DenyAccess(false)

	p := mustProvider(t, a, "github")
	f := oauth.NewFlow("github", "")
	code := authorizeDirect(t, p, f).Get("code")
	bad := f
	bad.Verifier = oauth.NewFlow("github", "").Verifier
	if _, err := p.Exchange(context.Background(), bad, code); !latchkey.IsCode(err, latchkey.EInvalidCredentials) {
		t.Errorf("PKCE verifier mismatch: err = %v", err)
	}

	f = oauth.NewFlow("github", "")
	code = authorizeDirect(t, p, f).Get("code")
	if _, err := p.Exchange(context.Background(), f, code); err != nil {
		t.Fatalf("first exchange: %v", err)
	}
	if _, err := p.Exchange(context.Background(), f, code); !latchkey.IsCode(err, latchkey.EInvalidCredentials) {
		t.Errorf("replayed code: err = %v", err)
	}

	f = oauth.NewFlow("github", "")
	code = authorizeDirect(t, p, f).Get("code")
	gh.Close()
	if _, err := p.Exchange(context.Background(), f, code); !latchkey.IsCode(err, latchkey.EUnavailable) {
		t.Errorf("provider down: err = %v, want unavailable", err)
	}
}

func TestOIDCMisbehaviourRefused(t *testing.T) {
	idp := oauthtest.NewOIDC(t, "cid", "secret")
	a := newApp(t, []oauth.ProviderConfig{oidcConfig("acme", idp)})

	tests := []struct {
		knob   oauthtest.Misbehaviour
		reason string
	}{
		{oauthtest.WrongNonce, "nonce"},
		{oauthtest.WrongAudience, "audience"},
		{oauthtest.WrongIssuer, "issued by a different provider"},
		{oauthtest.BadSignature, "signature"},
		{oauthtest.ExpiredIDToken, "expired"},
		{oauthtest.DenyAccess, "access_denied"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			idp.Misbehave(tt.knob)
			defer idp.Misbehave()
			o := a.login(t, "acme", nil)
			if o.Status != 401 || o.Code != latchkey.EInvalidCredentials || o.Profile != nil {
				t.Fatalf("outcome = %+v, want 401 invalid_credentials", o)
			}
			if !strings.Contains(o.Reason, tt.reason) {
				t.Errorf("reason %q does not mention %q", o.Reason, tt.reason)
			}
		})
	}
	// The same provider behaving again works: the refusals were the knobs.
	if o := a.login(t, "acme", nil); o.Status != 200 {
		t.Errorf("well-behaved login after the knobs: %+v", o)
	}
}

func TestOIDCEmptySubjectRefused(t *testing.T) {
	idp := oauthtest.NewOIDC(t, "cid", "secret")
	a := newApp(t, []oauth.ProviderConfig{oidcConfig("acme", idp)})
	idp.SetUser(oauthtest.User{Subject: "", Email: "victim@example.test", EmailVerified: true})
	if o := a.login(t, "acme", nil); o.Status != 401 || !strings.Contains(o.Reason, "subject") {
		t.Errorf("empty sub: %+v", o)
	}
}

func TestOIDCCodeBindings(t *testing.T) {
	idp := oauthtest.NewOIDC(t, "cid", "secret")
	a := newApp(t, []oauth.ProviderConfig{oidcConfig("acme", idp)})
	p := mustProvider(t, a, "acme")
	ctx := context.Background()

	t.Run("PKCE verifier mismatch", func(t *testing.T) {
		f := oauth.NewFlow("acme", "")
		code := authorizeDirect(t, p, f).Get("code")
		bad := f
		bad.Verifier = oauth.NewFlow("acme", "").Verifier
		_, err := p.Exchange(ctx, bad, code)
		if !latchkey.IsCode(err, latchkey.EInvalidCredentials) || !strings.Contains(err.Error(), "invalid_grant") {
			t.Errorf("err = %v", err)
		}
		// The code was burnt by the failed try; the right verifier is too late.
		if _, err := p.Exchange(ctx, f, code); err == nil {
			t.Error("code usable after a failed PKCE attempt")
		}
	})
	t.Run("replayed code", func(t *testing.T) {
		f := oauth.NewFlow("acme", "")
		code := authorizeDirect(t, p, f).Get("code")
		if _, err := p.Exchange(ctx, f, code); err != nil {
			t.Fatalf("first exchange: %v", err)
		}
		if _, err := p.Exchange(ctx, f, code); !latchkey.IsCode(err, latchkey.EInvalidCredentials) {
			t.Errorf("replay: err = %v", err)
		}
	})
	t.Run("flow of another provider", func(t *testing.T) {
		f := oauth.NewFlow("other", "")
		if _, err := p.Exchange(ctx, f, "code"); !latchkey.IsCode(err, latchkey.EInvalidRequest) {
			t.Errorf("err = %v", err)
		}
		if _, err := p.CallbackCode(f, url.Values{"state": {f.State}, "code": {"x"}}); !latchkey.IsCode(err, latchkey.EInvalidRequest) {
			t.Errorf("CallbackCode: err = %v", err)
		}
	})
	t.Run("empty and oversized code", func(t *testing.T) {
		f := oauth.NewFlow("acme", "")
		for _, code := range []string{"", strings.Repeat("a", 4096)} {
			if _, err := p.Exchange(ctx, f, code); !latchkey.IsCode(err, latchkey.EInvalidRequest) {
				t.Errorf("code of %d bytes: err = %v", len(code), err)
			}
		}
	})
	t.Run("mix-up: iss of another issuer", func(t *testing.T) {
		f := oauth.NewFlow("acme", "")
		q := authorizeDirect(t, p, f)
		q.Set("iss", "https://issuer.invalid")
		if _, err := p.CallbackCode(f, q); !latchkey.IsCode(err, latchkey.EInvalidCredentials) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("provider unreachable", func(t *testing.T) {
		f := oauth.NewFlow("acme", "")
		code := authorizeDirect(t, p, f).Get("code")
		idp.Close()
		if _, err := p.Exchange(ctx, f, code); !latchkey.IsCode(err, latchkey.EUnavailable) {
			t.Errorf("err = %v, want unavailable", err)
		}
	})
}

func TestSecretsStayOutOfLogsAndErrors(t *testing.T) {
	const secret = "Canary-Secret-6c1f0d"
	idp := oauthtest.NewOIDC(t, "cid", secret)
	a := newApp(t, []oauth.ProviderConfig{oidcConfig("acme", idp)})
	p := mustProvider(t, a, "acme")
	ctx := context.Background()

	f := oauth.NewFlow("acme", "")
	code := authorizeDirect(t, p, f).Get("code")
	var errs []error
	bad := f
	bad.Verifier = oauth.NewFlow("acme", "").Verifier
	_, err := p.Exchange(ctx, bad, code)
	errs = append(errs, err)
	_, err = p.Exchange(ctx, f, code)
	errs = append(errs, err)
	idp.Misbehave(oauthtest.WrongNonce)
	code = authorizeDirect(t, p, f).Get("code")
	_, err = p.Exchange(ctx, f, code)
	errs = append(errs, err)

	canaries := []string{secret, code, f.Verifier, f.State, f.Nonce}
	for _, err := range errs {
		if err == nil {
			t.Fatal("expected a refusal")
		}
		for _, c := range canaries {
			if strings.Contains(err.Error(), c) || strings.Contains(latchkey.ErrorMessage(err), c) {
				t.Errorf("error %q carries a secret", err)
			}
		}
	}
	if s := f.String(); strings.Contains(s, f.State) || strings.Contains(s, f.Verifier) {
		t.Errorf("Flow.String shows secrets: %s", s)
	}
	if s := (oauth.ProviderConfig{ClientSecret: secret}).ClientSecret.String(); strings.Contains(s, secret) {
		t.Errorf("client secret prints: %s", s)
	}
}
