package app_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/internal/jwttest"
	"github.com/latchkey/latchkey/internal/testenv"
)

// The examples under examples/ in other languages (node-express, flask)
// serve the same three routes: GET /healthz, GET /api/me (any valid
// credential; answers who the caller is) and GET /api/admin (role admin),
// and read the same LATCHKEY_* settings. exampleScenario runs them all
// through the same checks against a real latchkey.

// exampleAPI is one example, installed and ready to run.
type exampleAPI struct {
	// start runs the example against issuer, with extra environment
	// entries, waits until it listens, and returns its address and a
	// function that reads what it has printed so far.
	start func(t *testing.T, issuer string, env ...string) (string, func() string)
	// user, session and apiKey name the members of GET /api/me's answer
	// holding the caller's user id, session id and API-key id.
	user, session, apiKey string
}

// exampleAPIKeyCache is the example's introspection cache time in the
// tests (LATCHKEY_API_KEY_CACHE_SECONDS): a revoked key must be refused
// within it.
const exampleAPIKeyCache = time.Second

// needTool returns the path of the program name; without it the test
// skips, or fails when LATCHKEY_TEST_REQUIRE_SERVICES=1.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if testenv.Required() {
			t.Fatalf("%s is not installed, and LATCHKEY_TEST_REQUIRE_SERVICES=1", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

// copyExample copies files of examples/<name> into a fresh directory, so
// that running it leaves nothing behind in the repository.
func copyExample(t *testing.T, name string, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join("../../examples", name, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// startExampleProcess runs argv in dir on a free loopback port (HOST and
// PORT) with env added to the test's environment, waits until it prints
// "listening on", and stops it when the test ends.
func startExampleProcess(t *testing.T, dir string, argv, env []string) (string, func() string) {
	t.Helper()
	addr := freeAddr(t)
	host, port, _ := strings.Cut(addr, ":")
	logFile := filepath.Join(t.TempDir(), "example.log")
	f, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "HOST="+host, "PORT="+port), env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	output := func() string { data, _ := os.ReadFile(logFile); return string(data) }
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(output(), "listening on") {
		select {
		case <-exited:
			t.Fatalf("the example exited:\n%s", output())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the example did not start:\n%s", output())
		}
	}
	return addr, output
}

// exampleAnswer is a finished request to an example.
type exampleAnswer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// callExample sends GET path to the example at addr with the header
// name, value pairs given.
func callExample(t *testing.T, addr, path string, header ...string) exampleAnswer {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	a := exampleAnswer{status: resp.StatusCode, header: resp.Header, raw: string(data)}
	_ = json.Unmarshal(data, &a.body)
	return a
}

// wantExampleProblem checks that a is a refusal shaped like latchkey's own: an
// RFC 9457 problem document with the stable code, and on 401 the RFC 6750
// challenge (error="invalid_token" for bad credentials, none when there
// were none).
func wantExampleProblem(t *testing.T, what string, a exampleAnswer, status int, code string) {
	t.Helper()
	if a.status != status || a.body["code"] != code {
		t.Errorf("%s: %d %s, want %d with code %s", what, a.status, a.raw, status, code)
		return
	}
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("%s: Content-Type %q, want application/problem+json", what, ct)
	}
	if a.body["type"] != "about:blank" || a.body["status"] != float64(status) || a.body["title"] != http.StatusText(status) ||
		a.body["detail"] == "" {
		t.Errorf("%s: not a problem document like latchkey's: %s", what, a.raw)
	}
	challenge := a.header.Get("WWW-Authenticate")
	switch {
	case status == 401 && !strings.HasPrefix(challenge, "Bearer"):
		t.Errorf("%s: WWW-Authenticate %q, want a Bearer challenge", what, challenge)
	case code == "token_required" && strings.Contains(challenge, "error="):
		t.Errorf("%s: WWW-Authenticate %q names an error though no credential was sent", what, challenge)
	case status == 401 && code != "token_required" && !strings.Contains(challenge, `error="invalid_token"`):
		t.Errorf("%s: WWW-Authenticate %q, want error=\"invalid_token\"", what, challenge)
	}
}

// routeRequests reads from latchkey's metrics how many requests a route
// has answered.
func routeRequests(t *testing.T, srv *apptest.Instance, route string) int {
	t.Helper()
	re := regexp.MustCompile(`(?m)^latchkey_http_request_duration_seconds_count\{route="` + regexp.QuoteMeta(route) + `",status="\d+"\} (\d+)$`)
	n := 0
	for _, m := range re.FindAllSubmatch(srv.Do(t, "GET", "/metrics", nil).Body, -1) {
		k, _ := strconv.Atoi(string(m[1]))
		n += k
	}
	return n
}

// exampleScenario runs an example API against a real latchkey: tokens,
// forgeries, roles, API keys through introspection and its cache, an
// issuer mismatch, and expiry with every signing algorithm latchkey has.
func exampleScenario(t *testing.T, api exampleAPI) {
	srv, _ := startWithAdmin(t, nil)
	var sec secrets
	adm := bearer(loginJSON(t, srv, "root@example.com", adminPassword)["access_token"])

	// The API's own credential: a key with the scope introspect, held by
	// a service account.
	svc := signup(t, srv, "example-api@services.example.com")
	svcKey := createKey(t, srv, bearer(svc["access_token"]), map[string]any{"name": "introspection", "scopes": []string{"introspect"}})
	introspectionKey := svcKey["key"].(string)
	sec.add(introspectionKey)
	settings := []string{"LATCHKEY_INTROSPECTION_KEY=" + introspectionKey,
		fmt.Sprintf("LATCHKEY_API_KEY_CACHE_SECONDS=%g", exampleAPIKeyCache.Seconds())}
	addr, output := api.start(t, srv.URL, settings...)
	call := func(path string, header ...string) exampleAnswer {
		t.Helper()
		return callExample(t, addr, path, header...)
	}

	// Access tokens.
	alice := signup(t, srv, "alice@example.com")
	tok := alice["access_token"].(string)
	sec.add(tok, alice["refresh_token"])
	aliceID := callerID(t, srv, bearer(tok))
	if a := call("/api/me", bearer(tok)...); a.status != 200 || a.body[api.user] != aliceID || a.body[api.session] != alice["session_id"] ||
		a.body["kind"] != "access_token" || fmt.Sprint(a.body["roles"]) != "[user]" {
		t.Fatalf("a latchkey token: %d %s", a.status, a.raw)
	}
	wantExampleProblem(t, "no credentials", call("/api/me"), 401, "token_required")
	wantExampleProblem(t, "Basic credentials", call("/api/me", "Authorization", "Basic YTpi"), 401, "token_required")
	wantExampleProblem(t, "the admin route without the role", call("/api/admin", bearer(tok)...), 403, "forbidden")

	// Forgeries of an admin token, with the genuine token's header and claims.
	header, claims := jwtPart(t, tok, 0), jwtPart(t, tok, 1)
	kid := header["kid"].(string)
	claims["roles"] = []string{"user", "admin"}
	claimsJSON := jwttest.JSON(claims)
	hdr := func(alg, kid string, extra ...any) string {
		h := map[string]any{"alg": alg, "typ": "at+jwt", "kid": kid}
		for i := 0; i+1 < len(extra); i += 2 {
			h[extra[i].(string)] = extra[i+1]
		}
		return jwttest.JSON(h)
	}
	pub := ourPublicKey(t, srv, kid)
	der, _ := x509.MarshalPKIXPublicKey(pub)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	parts := strings.Split(tok, ".")
	forged := map[string]string{
		"alg none":                              jwttest.Seg(hdr("none", kid)) + "." + jwttest.Seg(claimsJSON) + ".",
		"HS256 keyed with our public key (PEM)": jwttest.HMAC(hdr("HS256", kid), claimsJSON, pemKey),
		"HS256 keyed with our JWK":              jwttest.HMAC(hdr("HS256", kid), claimsJSON, []byte(jwttest.JSON(jwttest.JWK(kid, "ES256", pub)))),
		"another key under our kid":             jwttest.Sign(t, otherKey, hdr("ES256", kid), claimsJSON),
		"another key, embedded in the header":   jwttest.Sign(t, otherKey, hdr("ES256", kid, "jwk", jwttest.JWK("", "", &otherKey.PublicKey)), claimsJSON),
		"RS256 under our kid":                   jwttest.NewKey(t, "RS256", kid).Mint(t, map[string]any{"alg": "RS256", "typ": "at+jwt", "kid": kid}, claims),
		"tampered claims":                       parts[0] + "." + jwttest.Seg(claimsJSON) + "." + parts[2],
		"signature removed":                     parts[0] + "." + parts[1] + ".",
		"garbage":                               "x.y.z",
	}
	for name, f := range forged {
		wantExampleProblem(t, name, call("/api/admin", bearer(f)...), 401, "invalid_token")
	}
	// Tokens naming kids latchkey never published make the example fetch
	// the JWKS at most once more, however many arrive.
	fetches := routeRequests(t, srv, "GET /.well-known/jwks.json")
	for i := range 10 {
		f := jwttest.Sign(t, otherKey, hdr("ES256", fmt.Sprintf("made-up-%d", i)), claimsJSON)
		wantExampleProblem(t, "an unknown kid", call("/api/me", bearer(f)...), 401, "invalid_token")
	}
	if n := routeRequests(t, srv, "GET /.well-known/jwks.json") - fetches; n > 1 {
		t.Errorf("10 tokens with unknown kids made the example fetch the JWKS %d times", n)
	}

	// The role admin, granted by an administrator, is in the next token;
	// a token keeps the roles it was issued with.
	if r := srv.Do(t, "PATCH", "/v1/admin/users/"+aliceID, map[string]any{"roles": []string{"user", "admin"}}, adm...); r.Status != 200 {
		t.Fatalf("grant admin: %d %s", r.Status, r.Body)
	}
	wantExampleProblem(t, "a token issued before the grant", call("/api/admin", bearer(tok)...), 403, "forbidden")
	r := srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": alice["refresh_token"]})
	if r.Status != 200 {
		t.Fatalf("refresh: %d %s", r.Status, r.Body)
	}
	adminTok := r.String(t, "access_token")
	sec.add(adminTok, r.String(t, "refresh_token"))
	if a := call("/api/admin", bearer(adminTok)...); a.status != 200 || a.body["ok"] != true {
		t.Errorf("an admin's token on the admin route: %d %s", a.status, a.raw)
	}

	// API keys, checked by introspection.
	aliceKey := createKey(t, srv, bearer(adminTok), map[string]any{"name": "script", "scopes": []string{"read"}})
	key := aliceKey["key"].(string)
	bob := signup(t, srv, "bob@example.com")
	bobKey := createKey(t, srv, bearer(bob["access_token"]), map[string]any{"name": "bob's script"})["key"].(string)
	sec.add(key, bobKey, bob["access_token"], bob["refresh_token"])
	for name, h := range map[string][]string{"X-API-Key": {"X-API-Key", key}, "Authorization: Bearer": bearer(key)} {
		a := call("/api/me", h...)
		if a.status != 200 || a.body[api.user] != aliceID || a.body[api.apiKey] != aliceKey["id"] || a.body["kind"] != "api_key" ||
			fmt.Sprint(a.body["scopes"]) != "[read]" || a.body[api.session] != nil {
			t.Errorf("an API key in %s: %d %s", name, a.status, a.raw)
		}
	}
	if a := call("/api/admin", "X-API-Key", key); a.status != 200 {
		t.Errorf("an admin's key on the admin route: %d %s", a.status, a.raw)
	}
	wantExampleProblem(t, "a user's key on the admin route", call("/api/admin", "X-API-Key", bobKey), 403, "forbidden")
	wantExampleProblem(t, "a malformed key", call("/api/me", "X-API-Key", "lk_short"), 401, "invalid_api_key")
	wantExampleProblem(t, "a token in X-API-Key", call("/api/me", "X-API-Key", tok), 401, "invalid_api_key")
	wantExampleProblem(t, "a well-formed unknown key", call("/api/me", "X-API-Key", "lk_"+strings.Repeat("a", 49)), 401, "invalid_api_key")
	if a := call("/api/me", append(bearer(tok), "X-API-Key", key)...); a.status != 400 || a.body["code"] != "invalid_request" {
		t.Errorf("two credentials: %d %s", a.status, a.raw)
	}
	// Answers are cached: a burst of requests asks latchkey once or twice
	// (the cache time may run out in between), not once per request.
	asked := routeRequests(t, srv, "POST /v1/introspect")
	for range 10 {
		if a := call("/api/me", "X-API-Key", bobKey); a.status != 200 {
			t.Fatalf("bob's key: %d %s", a.status, a.raw)
		}
	}
	if n := routeRequests(t, srv, "POST /v1/introspect") - asked; n > 2 {
		t.Errorf("10 requests with one key made %d introspection requests", n)
	}
	// A revoked key is refused within the cache time.
	if a := call("/api/me", "X-API-Key", key); a.status != 200 {
		t.Fatalf("alice's key before revocation: %d %s", a.status, a.raw)
	}
	if r := srv.Do(t, "DELETE", "/v1/api-keys/"+aliceKey["id"].(string), nil, bearer(adminTok)...); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	revoked := time.Now()
	for call("/api/me", "X-API-Key", key).status == 200 {
		if time.Since(revoked) > exampleAPIKeyCache+time.Second {
			t.Fatalf("a revoked key still works %s after its revocation; the cache time is %s", time.Since(revoked), exampleAPIKeyCache)
		}
		time.Sleep(50 * time.Millisecond)
	}
	wantExampleProblem(t, "a revoked key", call("/api/me", "X-API-Key", key), 401, "invalid_api_key")
	// Without a working introspection key the example cannot tell, and
	// refuses (fail closed).
	if r := srv.Do(t, "DELETE", "/v1/api-keys/"+svcKey["id"].(string), nil, bearer(svc["access_token"])...); r.Status != 204 {
		t.Fatalf("revoke the introspection key: %d %s", r.Status, r.Body)
	}
	wantExampleProblem(t, "a key the example cannot check", call("/api/me", "X-API-Key", "lk_"+strings.Repeat("b", 49)), 503, "unavailable")
	if a := call("/api/me", bearer(adminTok)...); a.status != 200 {
		t.Errorf("access tokens need no introspection: %d %s", a.status, a.raw)
	}

	// An issuer that differs from the tokens' iss (here by a trailing
	// slash; localhost against 127.0.0.1 is the usual case) is refused,
	// and the log names both.
	otherAddr, otherOutput := api.start(t, srv.URL+"/")
	wantExampleProblem(t, "a token of another issuer", callExample(t, otherAddr, "/api/me", bearer(tok)...), 401, "invalid_token")
	want := fmt.Sprintf("token refused: issuer mismatch: expected %q (LATCHKEY_ISSUER), received %q", srv.URL+"/", srv.URL)
	waitFor(t, 5*time.Second, fmt.Sprintf("the example's log saying %q", want), func() bool {
		return strings.Contains(otherOutput(), want)
	})

	// Expiry, with the other algorithms latchkey signs with: a token is
	// accepted until exp plus the leeway, then refused as expired.
	type expiring struct {
		alg, addr, tok string
		exp            time.Time
	}
	var runs []expiring
	for _, alg := range []string{"EdDSA", "RS256"} {
		s := apptest.Start(t, "--signing-alg", alg, "--access-token-ttl", "2s")
		a, _ := api.start(t, s.URL, "LATCHKEY_LEEWAY_SECONDS=1")
		tk := signup(t, s, "expiry@example.com")["access_token"].(string)
		if h := jwtPart(t, tk, 0); h["alg"] != alg {
			t.Fatalf("--signing-alg %s signs with %v", alg, h["alg"])
		}
		exp := time.Unix(int64(jwtPart(t, tk, 1)["exp"].(float64)), 0)
		runs = append(runs, expiring{alg, a, tk, exp})
		if a := callExample(t, a, "/api/me", bearer(tk)...); a.status != 200 || a.body["kind"] != "access_token" {
			t.Errorf("%s: a fresh token: %d %s", alg, a.status, a.raw)
		}
	}
	for _, run := range runs {
		time.Sleep(time.Until(run.exp.Add(time.Second + 500*time.Millisecond)))
		wantExampleProblem(t, run.alg+": an expired token", callExample(t, run.addr, "/api/me", bearer(run.tok)...), 401, "token_expired")
	}

	exampleClaimChecks(t, api)

	sec.check(t, "the example's output", output()+otherOutput())
	for _, s := range sec {
		if i := strings.LastIndexByte(s, '.'); i > 0 && strings.Count(s, ".") == 2 && strings.Contains(output(), s[i+1:]) {
			t.Error("the example logged a token's signature")
		}
	}
}

// exampleClaimChecks points the example at a key set whose private keys the
// test holds (served on loopback, as latchkey serves its own), so that it
// can sign what latchkey never would: a genuine signature on a token of
// another type, audience or issuer, with a crit header or a missing claim.
// The example must refuse each, accept the well-formed one, and never
// fetch a URL a token names.
func exampleClaimChecks(t *testing.T, api exampleAPI) {
	es := jwttest.NewKey(t, "ES256", "es-key")
	ed := jwttest.NewKey(t, "EdDSA", "ed-key")
	var trapped atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{es.JWK(), ed.JWK()}})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { trapped.Add(1) })
	keys := httptest.NewServer(mux)
	defer keys.Close()
	addr, _ := api.start(t, keys.URL, "LATCHKEY_LEEWAY_SECONDS=1")

	now := time.Now().Unix()
	good := func() map[string]any {
		return map[string]any{"iss": keys.URL, "sub": "user-1", "aud": "latchkey", "exp": now + 600, "iat": now, "nbf": now,
			"jti": "j", "sid": "s", "roles": []string{"user", "admin"}}
	}
	without := func(claim string) map[string]any { c := good(); delete(c, claim); return c }
	with := func(claim string, v any) map[string]any { c := good(); c[claim] = v; return c }
	header := func(k *jwttest.Key, extra ...any) map[string]any {
		h := k.Header()
		for i := 0; i+1 < len(extra); i += 2 {
			if extra[i+1] == nil {
				delete(h, extra[i].(string))
			} else {
				h[extra[i].(string)] = extra[i+1]
			}
		}
		return h
	}
	for _, k := range []*jwttest.Key{es, ed} {
		if a := callExample(t, addr, "/api/admin", bearer(k.Mint(t, k.Header(), good()))...); a.status != 200 {
			t.Fatalf("a well-formed %s token: %d %s", k.Alg, a.status, a.raw)
		}
	}
	if a := callExample(t, addr, "/api/me", bearer(es.Mint(t, es.Header(), with("aud", []string{"other", "latchkey"})))...); a.status != 200 {
		t.Errorf("aud as an array holding latchkey: %d %s", a.status, a.raw)
	}
	refused := map[string]string{
		"typ JWT":                 es.Mint(t, header(es, "typ", "JWT"), good()),
		"no typ":                  es.Mint(t, header(es, "typ", nil), good()),
		"a crit header":           es.Mint(t, header(es, "crit", []string{"exp"}), good()),
		"another audience":        es.Mint(t, es.Header(), with("aud", "other")),
		"no aud":                  es.Mint(t, es.Header(), without("aud")),
		"another issuer":          es.Mint(t, es.Header(), with("iss", "http://127.0.0.1:1")),
		"no iss":                  es.Mint(t, es.Header(), without("iss")),
		"no exp":                  es.Mint(t, es.Header(), without("exp")),
		"exp not a number":        es.Mint(t, es.Header(), with("exp", "tomorrow")),
		"nbf in the future":       es.Mint(t, es.Header(), with("nbf", now+120)),
		"iat in the future":       es.Mint(t, es.Header(), with("iat", now+120)),
		"no sub":                  es.Mint(t, es.Header(), without("sub")),
		"the EdDSA key for ES256": es.Mint(t, header(es, "kid", ed.KID), good()),
		"jku to elsewhere":        jwttest.NewKey(t, "ES256", "attacker").Mint(t, header(es, "kid", "attacker", "jku", keys.URL+"/attacker/jwks.json"), good()),
		"x5u to elsewhere":        jwttest.NewKey(t, "ES256", "attacker").Mint(t, header(es, "kid", "attacker", "x5u", keys.URL+"/attacker/cert.pem"), good()),
	}
	for name, tok := range refused {
		wantExampleProblem(t, name, callExample(t, addr, "/api/admin", bearer(tok)...), 401, "invalid_token")
	}
	expired := es.Mint(t, es.Header(), with("exp", now-3))
	wantExampleProblem(t, "a token 3 s past exp, with 1 s leeway", callExample(t, addr, "/api/me", bearer(expired)...), 401, "token_expired")
	if trapped.Load() != 0 {
		t.Errorf("the example fetched a URL named in a token (%d requests)", trapped.Load())
	}
}
