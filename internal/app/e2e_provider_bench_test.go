package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/latchkey/latchkey/internal/app"
	"github.com/latchkey/latchkey/internal/apptest"
)

// The provider's hot paths over HTTP against a real server (rate limits
// off, as in every apptest server), for docs/performance.md:
//
//	go test ./internal/app -run '^$' -bench 'BenchmarkProvider' -benchtime 5s
//
// req/s is wall-clock throughput with 50 requests in flight; cpu-µs/op is
// the CPU the whole process (server and load generator together) spent per
// request, which a shared machine disturbs far less: 2e6/cpu-µs is what
// two fully available cores could do.

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs op in parallel and reports req/s and cpu-µs/op.
func measure(b *testing.B, op func()) {
	b.SetParallelism(25)
	start := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			op()
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(float64((cpuTime()-start).Microseconds())/float64(b.N), "cpu-µs/op")
}

func benchCLI(b *testing.B, dir, stdin string, args ...string) string {
	b.Helper()
	var out, errb bytes.Buffer
	args = append(append(args, "--data-dir", dir), apptest.FastHashing...)
	if err := app.Run(context.Background(), args, nil, strings.NewReader(stdin), &out, &errb); err != nil {
		b.Fatalf("%v: %v %s", args, err, errb.String())
	}
	return out.String()
}

// benchProvider starts a server with an admin and a client of the grants
// given; it returns the server, the client id and its secret.
func benchProvider(b *testing.B, grants ...string) (*apptest.Instance, string, string) {
	b.Helper()
	dir := b.TempDir()
	benchCLI(b, dir, "", "migrate")
	benchCLI(b, dir, adminPassword+"\n", "user", "create", "--email", "root@example.com", "--role", "admin", "--password-stdin")
	args := []string{"client", "create", "--name", "bench", "--first-party", "--redirect-uri", rpRedirect, "--scope", "openid,email,api:read"}
	for _, g := range grants {
		args = append(args, "--grant", g)
	}
	idSecret := strings.Fields(benchCLI(b, dir, "", args...))
	srv := apptest.StartIn(b, dir)
	return srv, idSecret[0], idSecret[1]
}

func benchPost(b *testing.B, c *http.Client, u string, form url.Values, user, pass string) map[string]any {
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := c.Do(req)
	if err != nil {
		b.Error(err)
		return nil
	}
	defer resp.Body.Close()
	var m map[string]any
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&m) != nil {
		b.Errorf("%s: %d", u, resp.StatusCode)
	}
	return m
}

func benchClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
}

// BenchmarkProviderClientCredentials: client-credentials tokens per
// second (client_secret_basic: one SHA-256 and a signature per token).
func BenchmarkProviderClientCredentials(b *testing.B) {
	srv, id, secret := benchProvider(b, "client_credentials")
	c := benchClient()
	form := url.Values{"grant_type": {"client_credentials"}}
	measure(b, func() {
		if m := benchPost(b, c, srv.URL+"/oauth2/token", form, id, secret); m != nil && m["access_token"] == nil {
			b.Error("no access token")
		}
	})
}

// BenchmarkProviderIntrospection: /v1/introspect of a client's access
// token (signature, grant-less client-credentials token).
func BenchmarkProviderIntrospection(b *testing.B) {
	srv, id, secret := benchProvider(b, "client_credentials")
	c := benchClient()
	tok := benchPost(b, c, srv.URL+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, id, secret)["access_token"].(string)
	login := postJSON(b, c, srv.URL+"/v1/auth/login", map[string]string{"email": "root@example.com", "password": adminPassword}, "")
	key := postJSON(b, c, srv.URL+"/v1/api-keys", map[string]any{"name": "rs", "scopes": []string{"introspect"}}, login["access_token"].(string))["key"].(string)
	form := url.Values{"token": {tok}}.Encode()
	measure(b, func() {
		req, _ := http.NewRequest("POST", srv.URL+"/v1/introspect", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-API-Key", key)
		resp, err := c.Do(req)
		if err != nil {
			b.Error(err)
			return
		}
		var m map[string]any
		if json.NewDecoder(resp.Body).Decode(&m) != nil || m["active"] != true {
			b.Errorf("introspection: %d %v", resp.StatusCode, m)
		}
		resp.Body.Close()
	})
}

func postJSON(b *testing.B, c *http.Client, u string, body any, token string) map[string]any {
	b.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", u, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode >= 300 {
		b.Fatalf("%s: %d %v", u, resp.StatusCode, m)
	}
	return m
}

// BenchmarkProviderCodeExchange: authorization-code exchanges per second
// (PKCE check, code spent, grant stored, access and ID token signed).
// The codes are made first, outside the timer, by a signed-in browser.
func BenchmarkProviderCodeExchange(b *testing.B) {
	srv, id, secret := benchProvider(b, "authorization_code")
	jar, _ := cookiejar.New(nil)
	br := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), rpRedirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := br.PostForm(srv.URL+"/login", url.Values{"email": {"root@example.com"}, "password": {adminPassword}})
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	conf := &oauth2.Config{ClientID: id, ClientSecret: secret, RedirectURL: rpRedirect, Scopes: []string{"openid", "email"},
		Endpoint: oauth2.Endpoint{AuthURL: srv.URL + "/oauth2/authorize", TokenURL: srv.URL + "/oauth2/token"}}
	verifier := oauth2.GenerateVerifier()
	codes := make(chan string, b.N)
	for range b.N {
		resp, err := br.Get(conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		u, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || u.Query().Get("code") == "" {
			b.Fatalf("no code: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		codes <- u.Query().Get("code")
	}
	close(codes)
	c := benchClient()
	measure(b, func() {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {<-codes}, "redirect_uri": {rpRedirect}, "code_verifier": {verifier}}
		if m := benchPost(b, c, srv.URL+"/oauth2/token", form, id, secret); m != nil && m["id_token"] == nil {
			b.Error("no ID token")
		}
	})
}
