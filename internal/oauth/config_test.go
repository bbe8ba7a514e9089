package oauth_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/oauth"
)

func TestParseConfig(t *testing.T) {
	google := oauth.ProviderConfig{Name: "google", Kind: oauth.KindOIDC, ClientID: "gid", ClientSecret: "gsec",
		Issuer: "https://accounts.google.com", Scopes: []string{"openid", "email", "profile"}}
	github := oauth.ProviderConfig{Name: "github", Kind: oauth.KindGitHub, ClientID: "hid", ClientSecret: "hsec",
		AuthURL: "https://github.com/login/oauth/authorize", TokenURL: "https://github.com/login/oauth/access_token",
		APIURL: "https://api.github.com", Scopes: []string{"read:user", "user:email"}}

	tests := []struct {
		name string
		env  []string
		want []oauth.ProviderConfig
	}{
		{"nothing configured", []string{"PATH=/bin", "LATCHKEY_ADDR=:8080"}, nil},
		{"google preset", []string{"LATCHKEY_OAUTH_GOOGLE_CLIENT_ID=gid", "LATCHKEY_OAUTH_GOOGLE_CLIENT_SECRET=gsec"},
			[]oauth.ProviderConfig{google}},
		{"github preset, sorted by name", []string{
			"LATCHKEY_OAUTH_GOOGLE_CLIENT_ID=gid", "LATCHKEY_OAUTH_GOOGLE_CLIENT_SECRET=gsec",
			"LATCHKEY_OAUTH_GITHUB_CLIENT_ID=hid", "LATCHKEY_OAUTH_GITHUB_CLIENT_SECRET=hsec"},
			[]oauth.ProviderConfig{github, google}},
		{"github enterprise overrides", []string{
			"LATCHKEY_OAUTH_GITHUB_CLIENT_ID=hid", "LATCHKEY_OAUTH_GITHUB_CLIENT_SECRET=hsec",
			"LATCHKEY_OAUTH_GITHUB_AUTH_URL=https://ghe.example.test/login/oauth/authorize",
			"LATCHKEY_OAUTH_GITHUB_TOKEN_URL=https://ghe.example.test/login/oauth/access_token",
			"LATCHKEY_OAUTH_GITHUB_API_URL=https://ghe.example.test/api/v3/"},
			[]oauth.ProviderConfig{{Name: "github", Kind: oauth.KindGitHub, ClientID: "hid", ClientSecret: "hsec",
				AuthURL: "https://ghe.example.test/login/oauth/authorize", TokenURL: "https://ghe.example.test/login/oauth/access_token",
				APIURL: "https://ghe.example.test/api/v3", Scopes: []string{"read:user", "user:email"}}}},
		{"any OIDC provider, custom scopes get openid", []string{
			"LATCHKEY_OAUTH_MY-IDP_CLIENT_ID=c", "LATCHKEY_OAUTH_MY-IDP_CLIENT_SECRET=s",
			"LATCHKEY_OAUTH_MY-IDP_ISSUER=https://login.example.test/realms/x", "LATCHKEY_OAUTH_MY-IDP_SCOPES= email , groups,email"},
			[]oauth.ProviderConfig{{Name: "my-idp", Kind: oauth.KindOIDC, ClientID: "c", ClientSecret: "s",
				Issuer: "https://login.example.test/realms/x", Scopes: []string{"openid", "email", "groups"}}}},
		{"google issuer override on loopback", []string{
			"LATCHKEY_OAUTH_GOOGLE_CLIENT_ID=gid", "LATCHKEY_OAUTH_GOOGLE_CLIENT_SECRET=gsec",
			"LATCHKEY_OAUTH_GOOGLE_ISSUER=http://127.0.0.1:9999"},
			[]oauth.ProviderConfig{{Name: "google", Kind: oauth.KindOIDC, ClientID: "gid", ClientSecret: "gsec",
				Issuer: "http://127.0.0.1:9999", Scopes: []string{"openid", "email", "profile"}}}},
		{"empty variables are unset", []string{"LATCHKEY_OAUTH_OKTA_CLIENT_ID=", "LATCHKEY_OAUTH_OKTA_SCOPES="}, nil},
		{"first occurrence wins", []string{"LATCHKEY_OAUTH_GOOGLE_CLIENT_ID=gid", "LATCHKEY_OAUTH_GOOGLE_CLIENT_ID=other",
			"LATCHKEY_OAUTH_GOOGLE_CLIENT_SECRET=gsec"}, []oauth.ProviderConfig{google}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := oauth.ParseConfig(tt.env)
			if err != nil {
				t.Fatalf("ParseConfig: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	const secret = "Canary-Client-Secret"
	base := []string{"LATCHKEY_OAUTH_GOOGLE_CLIENT_ID=gid", "LATCHKEY_OAUTH_GOOGLE_CLIENT_SECRET=" + secret}
	tests := []struct {
		name    string
		env     []string
		wantVar string
	}{
		{"missing secret", []string{"LATCHKEY_OAUTH_GOOGLE_CLIENT_ID=gid"}, "LATCHKEY_OAUTH_GOOGLE_CLIENT_SECRET"},
		{"missing client id", []string{"LATCHKEY_OAUTH_GITHUB_CLIENT_SECRET=" + secret}, "LATCHKEY_OAUTH_GITHUB_CLIENT_ID"},
		{"OIDC without issuer", []string{"LATCHKEY_OAUTH_OKTA_CLIENT_ID=c", "LATCHKEY_OAUTH_OKTA_CLIENT_SECRET=" + secret}, "LATCHKEY_OAUTH_OKTA_ISSUER"},
		{"issuer over plain http", append(base, "LATCHKEY_OAUTH_GOOGLE_ISSUER=http://accounts.google.com"), "LATCHKEY_OAUTH_GOOGLE_ISSUER"},
		{"issuer not a URL", append(base, "LATCHKEY_OAUTH_GOOGLE_ISSUER=accounts.google.com"), "LATCHKEY_OAUTH_GOOGLE_ISSUER"},
		{"issuer with userinfo", append(base, "LATCHKEY_OAUTH_GOOGLE_ISSUER=https://u:p@idp.example.test"), "LATCHKEY_OAUTH_GOOGLE_ISSUER"},
		{"issuer with query", append(base, "LATCHKEY_OAUTH_GOOGLE_ISSUER=https://idp.example.test/?x=1"), "LATCHKEY_OAUTH_GOOGLE_ISSUER"},
		{"endpoint override on OIDC", append(base, "LATCHKEY_OAUTH_GOOGLE_TOKEN_URL=https://x.example.test/t"), "LATCHKEY_OAUTH_GOOGLE_TOKEN_URL"},
		{"issuer on github", []string{"LATCHKEY_OAUTH_GITHUB_CLIENT_ID=c", "LATCHKEY_OAUTH_GITHUB_CLIENT_SECRET=s",
			"LATCHKEY_OAUTH_GITHUB_ISSUER=https://github.com"}, "LATCHKEY_OAUTH_GITHUB_ISSUER"},
		{"github API over http", []string{"LATCHKEY_OAUTH_GITHUB_CLIENT_ID=c", "LATCHKEY_OAUTH_GITHUB_CLIENT_SECRET=s",
			"LATCHKEY_OAUTH_GITHUB_API_URL=http://ghe.example.test/api"}, "LATCHKEY_OAUTH_GITHUB_API_URL"},
		{"bad scope", append(base, "LATCHKEY_OAUTH_GOOGLE_SCOPES=email,\"x"), "LATCHKEY_OAUTH_GOOGLE_SCOPES"},
		{"empty scope item", append(base, "LATCHKEY_OAUTH_GOOGLE_SCOPES=email,,profile"), "LATCHKEY_OAUTH_GOOGLE_SCOPES"},
		{"unknown setting", append(base, "LATCHKEY_OAUTH_GOOGLE_CLIENTID=x"), "LATCHKEY_OAUTH_GOOGLE_CLIENTID"},
		{"no name", []string{"LATCHKEY_OAUTH_CLIENT_ID=x"}, "LATCHKEY_OAUTH_CLIENT_ID"},
		{"underscore in name", []string{"LATCHKEY_OAUTH_MY_IDP_CLIENT_ID=x"}, "LATCHKEY_OAUTH_MY_IDP_CLIENT_ID"},
		{"name too long", []string{"LATCHKEY_OAUTH_" + strings.Repeat("A", 33) + "_CLIENT_ID=x"}, "_CLIENT_ID"},
		{"name starts with dash", []string{"LATCHKEY_OAUTH_-X_CLIENT_ID=x"}, "LATCHKEY_OAUTH_-X_CLIENT_ID"},
		{"control character", []string{"LATCHKEY_OAUTH_GOOGLE_CLIENT_ID=g\x01id", "LATCHKEY_OAUTH_GOOGLE_CLIENT_SECRET=s"}, "LATCHKEY_OAUTH_GOOGLE_CLIENT_ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := oauth.ParseConfig(tt.env)
			if err == nil {
				t.Fatalf("accepted: %+v", got)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantVar) {
				t.Errorf("error %q does not name %s", msg, tt.wantVar)
			}
			if strings.Contains(msg, secret) {
				t.Errorf("error %q shows the client secret", msg)
			}
			for line := range strings.Lines(msg) {
				if !strings.HasPrefix(line, "LATCHKEY_OAUTH_") {
					t.Errorf("error line %q does not start with the variable", line)
				}
			}
		})
	}
}

func TestParseConfigReportsEveryBadProvider(t *testing.T) {
	_, err := oauth.ParseConfig([]string{"LATCHKEY_OAUTH_GOOGLE_CLIENT_ID=x", "LATCHKEY_OAUTH_OKTA_CLIENT_ID=y",
		"LATCHKEY_OAUTH_OKTA_CLIENT_SECRET=z"})
	if err == nil || strings.Count(err.Error(), "\n") != 1 {
		t.Errorf("want two lines, one per bad provider; got %v", err)
	}
}

func TestClientSecretIsRedacted(t *testing.T) {
	cfgs, err := oauth.ParseConfig([]string{"LATCHKEY_OAUTH_GOOGLE_CLIENT_ID=x", "LATCHKEY_OAUTH_GOOGLE_CLIENT_SECRET=Canary-Secret"})
	if err != nil {
		t.Fatal(err)
	}
	if s := latchkey.Secret(cfgs[0].ClientSecret).String(); strings.Contains(s, "Canary") {
		t.Errorf("secret prints as %q", s)
	}
}
