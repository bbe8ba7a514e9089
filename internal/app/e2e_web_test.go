package app_test

import (
	"crypto/tls"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/apptest"
)

const pageCSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// postForm sends an urlencoded form; headers are name, value pairs.
func postForm(t *testing.T, srv *apptest.Instance, path string, v url.Values, headers ...string) *apptest.Response {
	t.Helper()
	return srv.Do(t, "POST", path, v.Encode(), append([]string{"Content-Type", "application/x-www-form-urlencoded"}, headers...)...)
}

// sessionCookie returns the session cookie a response sets, or nil.
func sessionCookie(r *apptest.Response, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// webLogin signs in through the form and returns the cookie value.
func webLogin(t *testing.T, srv *apptest.Instance, email string, headers ...string) string {
	t.Helper()
	return webLoginAs(t, srv, email, goodPassword, headers...)
}

// webLoginAs is webLogin with a password.
func webLoginAs(t *testing.T, srv *apptest.Instance, email, password string, headers ...string) string {
	t.Helper()
	r := postForm(t, srv, "/login", url.Values{"email": {email}, "password": {password}}, headers...)
	c := sessionCookie(r, "latchkey_session")
	if r.Status != http.StatusSeeOther || c == nil || c.Value == "" {
		t.Fatalf("web login: %d %v %s", r.Status, r.Header, r.Body)
	}
	return c.Value
}

func withCookie(v string, more ...string) []string {
	return append([]string{"Cookie", "latchkey_session=" + v}, more...)
}

func checkPageHeaders(t *testing.T, what string, r *apptest.Response) {
	t.Helper()
	want := map[string]string{"Content-Security-Policy": pageCSP, "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
		"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
	for k, v := range want {
		if got := r.Header.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
}

func TestWebLoginCookieOverHTTP(t *testing.T) {
	srv := apptest.Start(t)
	signup(t, srv, "web@example.com")

	page := srv.Do(t, "GET", "/login?return_to=/account", nil)
	if page.Status != 200 || !strings.Contains(string(page.Body), `<label for="email">`) ||
		!strings.Contains(page.Header.Get("Content-Type"), "text/html; charset=utf-8") {
		t.Fatalf("login page: %d %s", page.Status, page.Body)
	}
	checkPageHeaders(t, "GET /login", page)
	if strings.Contains(strings.ToLower(string(page.Body)), "<script") {
		t.Error("login page has a script")
	}

	r := postForm(t, srv, "/login", url.Values{"email": {"web@example.com"}, "password": {goodPassword}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/account" {
		t.Fatalf("login: %d %v", r.Status, r.Header)
	}
	c := sessionCookie(r, "latchkey_session")
	if c == nil {
		t.Fatalf("no session cookie: %v", r.Header["Set-Cookie"])
	}
	if !c.HttpOnly || c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || len(c.Value) < 43 || c.MaxAge <= 0 {
		t.Errorf("cookie attributes: %+v (raw %q)", c, r.Header.Get("Set-Cookie"))
	}
	if len(r.Header.Get("Set-Cookie")) > 4096 {
		t.Error("Set-Cookie longer than 4096 bytes")
	}

	acct := srv.Do(t, "GET", "/account", nil, withCookie(c.Value)...)
	if acct.Status != 200 || !strings.Contains(string(acct.Body), "web@example.com") || !strings.Contains(string(acct.Body), "this device") {
		t.Fatalf("account: %d %s", acct.Status, acct.Body)
	}
	checkPageHeaders(t, "GET /account", acct)
	if me := srv.Do(t, "GET", "/v1/me", nil, withCookie(c.Value)...); me.Status != 200 || me.String(t, "email") != "web@example.com" {
		t.Fatalf("/v1/me with the cookie: %d %s", me.Status, me.Body)
	}

	// Not signed in: the account page sends the browser to sign in.
	anon := srv.Do(t, "GET", "/account", nil)
	if anon.Status != http.StatusSeeOther || anon.Header.Get("Location") != "/login?return_to=%2Faccount" {
		t.Errorf("anonymous /account: %d %v", anon.Status, anon.Header)
	}
	// State changes by GET are not routes (SES-07).
	if g := srv.Do(t, "GET", "/logout", nil, withCookie(c.Value)...); g.Status != http.StatusMethodNotAllowed {
		t.Errorf("GET /logout: %d", g.Status)
	}
}

func TestWebLoginCookieOverTLS(t *testing.T) {
	certFile, keyFile, pool := writeCert(t)
	srv := apptest.Start(t, "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(srv.URL, "https://") {
		t.Fatalf("server URL %s", srv.URL)
	}
	srv.Client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	signup(t, srv, "tls@example.com")
	r := postForm(t, srv, "/login", url.Values{"email": {"tls@example.com"}, "password": {goodPassword}})
	c := sessionCookie(r, "__Host-latchkey_session")
	if r.Status != http.StatusSeeOther || c == nil {
		t.Fatalf("login over TLS: %d %v", r.Status, r.Header)
	}
	if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
		t.Errorf("cookie attributes over TLS: %+v", c)
	}
	if sessionCookie(r, "latchkey_session") != nil {
		t.Error("the unprefixed cookie was set over TLS")
	}
	if hsts := r.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=31536000") {
		t.Errorf("HSTS = %q", hsts)
	}
	acct := srv.Do(t, "GET", "/account", nil, "Cookie", "__Host-latchkey_session="+c.Value)
	if acct.Status != 200 || !strings.Contains(string(acct.Body), "tls@example.com") {
		t.Fatalf("account over TLS: %d", acct.Status)
	}
	// The development cookie name means nothing over TLS.
	if r := srv.Do(t, "GET", "/account", nil, "Cookie", "latchkey_session="+c.Value); r.Status != http.StatusSeeOther {
		t.Errorf("unprefixed cookie accepted over TLS: %d", r.Status)
	}
}

func TestWebLoginRedirects(t *testing.T) {
	srv := apptest.Start(t, "--redirect-allowlist", "https://app.example.com/dashboard")
	signup(t, srv, "redir@example.com")
	tests := map[string]string{
		"/account?tab=keys":                            "/account?tab=keys",
		"https://app.example.com/dashboard/x?y=1":      "https://app.example.com/dashboard/x?y=1",
		"//evil.test":                                  "/account",
		"/\\evil.test":                                 "/account",
		"\\\\evil.test":                                "/account",
		"/%2f%2fevil.test":                             "/account",
		"javascript:alert(1)":                          "/account",
		"data:text/html,hi":                            "/account",
		"https://evil.test/":                           "/account",
		"https://app.example.com@evil.test/dashboard":  "/account",
		"https://app.example.com.evil.test/dashboard":  "/account",
		"/account%0d%0aSet-Cookie:%20x=y":              "/account",
		"/account\r\nX: y":                             "/account",
		"https://app.example.com/dashboard/../admin":   "/account",
		"https://app.example.com/dashboardx":           "/account",
		"http://app.example.com/dashboard":             "/account",
		"https://app.example.com:8443/dashboard/inner": "/account",
	}
	for target, want := range tests {
		r := postForm(t, srv, "/login", url.Values{"email": {"redir@example.com"}, "password": {goodPassword}, "return_to": {target}})
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != want {
			t.Errorf("return_to %q: %d Location %q, want %q", target, r.Status, r.Header.Get("Location"), want)
		}
	}
	// The form carries only a checked return_to.
	page := srv.Do(t, "GET", "/login?return_to="+url.QueryEscape("//evil.test"), nil)
	if strings.Contains(string(page.Body), "evil.test") {
		t.Errorf("login page carries an unsafe return_to: %s", page.Body)
	}
}

func TestWebLoginCSRF(t *testing.T) {
	srv := apptest.Start(t)
	signup(t, srv, "csrf@example.com")
	creds := url.Values{"email": {"csrf@example.com"}, "password": {goodPassword}}
	for _, h := range [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Origin", "https://evil.test"},
		{"Origin", "null"},
		{"Sec-Fetch-Site", "same-site"},
	} {
		r := postForm(t, srv, "/login", creds, h...)
		if r.Status != http.StatusForbidden || len(r.Header.Values("Set-Cookie")) != 0 {
			t.Errorf("cross-site login with %v: %d %v", h, r.Status, r.Header["Set-Cookie"])
		}
		checkPageHeaders(t, "refused login", r)
	}
	// The browser's own same-origin form is accepted.
	webLogin(t, srv, "csrf@example.com", "Sec-Fetch-Site", "same-origin", "Origin", srv.URL)
}

func TestWebCookieCSRFOnAPI(t *testing.T) {
	srv := apptest.Start(t)
	tok := signup(t, srv, "api-csrf@example.com")
	cookie := webLogin(t, srv, "api-csrf@example.com")

	// SES-04: cross-site state changes carrying the cookie, in every
	// content type a cross-site form can send.
	for _, ct := range []string{"application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain", "application/json"} {
		for _, h := range [][]string{{"Origin", "https://evil.test"}, {"Sec-Fetch-Site", "cross-site"}} {
			for _, path := range []string{"/v1/auth/logout", "/logout", "/account/sessions/revoke-others"} {
				r := srv.Do(t, "POST", path, "", withCookie(cookie, "Content-Type", ct, h[0], h[1])...)
				if r.Status != http.StatusForbidden {
					t.Errorf("cross-site POST %s (%s, %v): %d", path, ct, h, r.Status)
				}
			}
		}
	}
	if me := srv.Do(t, "GET", "/v1/me", nil, withCookie(cookie)...); me.Status != 200 {
		t.Fatalf("the session did not survive the refused requests: %d", me.Status)
	}
	// A bearer token is not a CSRF risk and is not refused.
	r := srv.Do(t, "POST", "/v1/auth/logout", nil, append(bearer(tok["access_token"]), "Origin", "https://evil.test", "Sec-Fetch-Site", "cross-site")...)
	if r.Status != http.StatusNoContent {
		t.Errorf("bearer logout from another origin: %d %s", r.Status, r.Body)
	}
	// Same-origin JSON logout with only the cookie ends it and clears it.
	r = srv.Do(t, "POST", "/v1/auth/logout", nil, withCookie(cookie, "Origin", srv.URL)...)
	if r.Status != http.StatusNoContent {
		t.Fatalf("cookie logout: %d %s", r.Status, r.Body)
	}
	if c := sessionCookie(r, "latchkey_session"); c == nil || c.MaxAge >= 0 || c.Value != "" {
		t.Errorf("cookie not cleared: %v", r.Header["Set-Cookie"])
	}
	if me := srv.Do(t, "GET", "/v1/me", nil, withCookie(cookie)...); me.Status != http.StatusUnauthorized {
		t.Errorf("cookie after JSON logout: %d", me.Status)
	}
}

func TestWebLogout(t *testing.T) {
	srv := apptest.Start(t)
	signup(t, srv, "out@example.com")
	cookie := webLogin(t, srv, "out@example.com")
	r := postForm(t, srv, "/logout", nil, withCookie(cookie, "Sec-Fetch-Site", "same-origin")...)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
		t.Fatalf("logout: %d %v", r.Status, r.Header)
	}
	if c := sessionCookie(r, "latchkey_session"); c == nil || c.MaxAge >= 0 {
		t.Errorf("logout did not clear the cookie: %v", r.Header["Set-Cookie"])
	}
	// SES-02: replaying the old cookie is refused everywhere.
	if me := srv.Do(t, "GET", "/v1/me", nil, withCookie(cookie)...); me.Status != http.StatusUnauthorized {
		t.Errorf("/v1/me after logout: %d", me.Status)
	}
	if a := srv.Do(t, "GET", "/account", nil, withCookie(cookie)...); a.Status != http.StatusSeeOther {
		t.Errorf("/account after logout: %d", a.Status)
	}
}

func TestWebSessionFixation(t *testing.T) {
	srv := apptest.Start(t)
	signup(t, srv, "fix@example.com")
	signup(t, srv, "attacker@example.com")
	planted := webLogin(t, srv, "attacker@example.com")
	for _, before := range []string{planted, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
		r := postForm(t, srv, "/login", url.Values{"email": {"fix@example.com"}, "password": {goodPassword}}, withCookie(before)...)
		c := sessionCookie(r, "latchkey_session")
		if r.Status != http.StatusSeeOther || c == nil || c.Value == before {
			t.Fatalf("login with a cookie present: %d %v", r.Status, r.Header["Set-Cookie"])
		}
		if me := srv.Do(t, "GET", "/v1/me", nil, withCookie(c.Value)...); me.String(t, "email") != "fix@example.com" {
			t.Errorf("new cookie: %s", me.Body)
		}
		if me := srv.Do(t, "GET", "/v1/me", nil, withCookie(before)...); me.Status != http.StatusUnauthorized {
			t.Errorf("pre-login cookie still valid after login: %d %s", me.Status, me.Body)
		}
	}
}

func TestWebWrongCredentials(t *testing.T) {
	srv := apptest.Start(t)
	signup(t, srv, "known@example.com")
	var bodies []string
	for _, email := range []string{"known@example.com", "unknown@example.com"} {
		r := postForm(t, srv, "/login", url.Values{"email": {email}, "password": {"wrong password!"}, "return_to": {"/account"}})
		body := string(r.Body)
		if r.Status != http.StatusUnauthorized || strings.Count(body, "Incorrect email or password.") != 1 ||
			len(r.Header.Values("Set-Cookie")) != 0 || !strings.Contains(body, `value="`+email+`"`) {
			t.Errorf("%s: %d %s", email, r.Status, body)
		}
		checkPageHeaders(t, "failed login", r)
		bodies = append(bodies, strings.ReplaceAll(body, email, "EMAIL"))
	}
	if bodies[0] != bodies[1] {
		t.Errorf("wrong password and unknown email render differently:\n%s\n---\n%s", bodies[0], bodies[1])
	}
}

func TestWebLoginBackoff(t *testing.T) {
	srv := apptest.StartWith(t, limited)
	signup(t, srv, "slow@example.com")
	limited := false
	for i := 0; i < 8 && !limited; i++ {
		r := postForm(t, srv, "/login", url.Values{"email": {"slow@example.com"}, "password": {"wrong password!"}})
		if r.Status == http.StatusTooManyRequests {
			limited = r.Header.Get("Retry-After") != "" && strings.Contains(r.Header.Get("Content-Type"), "text/html")
		}
	}
	if !limited {
		t.Fatal("repeated failed web logins were never slowed down")
	}
	// The correct password gets the same refusal while locked.
	r := postForm(t, srv, "/login", url.Values{"email": {"slow@example.com"}, "password": {goodPassword}})
	if r.Status != http.StatusTooManyRequests || len(r.Header.Values("Set-Cookie")) != 0 {
		t.Errorf("login while locked: %d", r.Status)
	}
}

func TestWebAccountActions(t *testing.T) {
	srv := apptest.Start(t)
	signup(t, srv, "acts@example.com")
	cookie := webLogin(t, srv, "acts@example.com")
	same := withCookie(cookie, "Sec-Fetch-Site", "same-origin")

	r := postForm(t, srv, "/account/api-keys", url.Values{"name": {"ci"}}, same...)
	if r.Status != http.StatusCreated || !strings.Contains(string(r.Body), `value="lk_`) {
		t.Fatalf("create key: %d %s", r.Status, r.Body)
	}
	checkPageHeaders(t, "new key page", r)
	key := string(r.Body)
	key = key[strings.Index(key, `value="lk_`)+7:]
	key = key[:strings.Index(key, `"`)]
	acct := srv.Do(t, "GET", "/account", nil, same...)
	if strings.Contains(string(acct.Body), key) || !strings.Contains(string(acct.Body), ">ci <code>") {
		t.Fatalf("account page after creating a key: %s", acct.Body)
	}
	i := strings.Index(string(acct.Body), `action="/account/api-keys/`)
	id := strings.TrimSuffix(strings.SplitN(string(acct.Body)[i+len(`action="/account/api-keys/`):], "/", 2)[0], "")
	if r := postForm(t, srv, "/account/api-keys/"+id+"/revoke", nil, same...); r.Status != http.StatusSeeOther {
		t.Fatalf("revoke key: %d %s", r.Status, r.Body)
	}
	if acct := srv.Do(t, "GET", "/account?done=key-revoked", nil, same...); !strings.Contains(string(acct.Body), "no API keys") ||
		!strings.Contains(string(acct.Body), "The API key was revoked.") {
		t.Errorf("account page after revoking: %s", acct.Body)
	}

	bad := postForm(t, srv, "/account/password", url.Values{"current_password": {"nope nope nope"}, "new_password": {"another good passphrase"}}, same...)
	if bad.Status != http.StatusUnauthorized || !strings.Contains(string(bad.Body), `id="password-error"`) {
		t.Errorf("wrong current password: %d", bad.Status)
	}
	ok := postForm(t, srv, "/account/password", url.Values{"current_password": {goodPassword}, "new_password": {"another good passphrase"}}, same...)
	if ok.Status != http.StatusSeeOther || ok.Header.Get("Location") != "/account?done=password" {
		t.Errorf("change password: %d %s", ok.Status, ok.Body)
	}
	if r := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "acts@example.com", "password": "another good passphrase"}); r.Status != 200 {
		t.Errorf("login with the new password: %d", r.Status)
	}
}

func TestCORS(t *testing.T) {
	srv := apptest.Start(t, "--cors-origins", "https://app.example.com")
	tok := signup(t, srv, "cors@example.com")
	pre := srv.Do(t, "OPTIONS", "/v1/me", nil, "Origin", "https://app.example.com", "Access-Control-Request-Method", "GET",
		"Access-Control-Request-Headers", "authorization")
	h := pre.Header
	if pre.Status != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		h.Get("Access-Control-Allow-Credentials") != "true" || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "X-API-Key") ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") || h.Get("Access-Control-Max-Age") == "" ||
		!strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
		t.Errorf("preflight: %d %v", pre.Status, h)
	}
	get := srv.Do(t, "GET", "/v1/me", nil, append(bearer(tok["access_token"]), "Origin", "https://app.example.com")...)
	if get.Status != 200 || get.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		get.Header.Get("Access-Control-Allow-Credentials") != "true" || !strings.Contains(strings.Join(get.Header.Values("Vary"), ","), "Origin") {
		t.Errorf("actual request: %d %v", get.Status, get.Header)
	}
	// SES-08: no reflection for anyone else, preflight or not.
	for _, o := range []string{"https://evil.test", "null", "https://app.example.com.evil.test", "http://app.example.com",
		"https://app.example.com:8443", "https://APP.example.com.", "*"} {
		for _, method := range []string{"OPTIONS", "GET"} {
			r := srv.Do(t, method, "/v1/me", nil, append(bearer(tok["access_token"]), "Origin", o, "Access-Control-Request-Method", "GET")...)
			if r.Header.Get("Access-Control-Allow-Origin") != "" || r.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("%s from %q got CORS headers: %v", method, o, r.Header)
			}
		}
	}
	// A trusted origin may make cookie-authenticated changes.
	cookie := webLogin(t, srv, "cors@example.com")
	r := srv.Do(t, "POST", "/v1/auth/logout", nil, withCookie(cookie, "Origin", "https://app.example.com", "Sec-Fetch-Site", "cross-site")...)
	if r.Status != http.StatusNoContent {
		t.Errorf("cookie logout from the trusted origin: %d %s", r.Status, r.Body)
	}
}
