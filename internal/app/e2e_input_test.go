package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/apptest"
)

func TestBadInputGetsClearErrors(t *testing.T) {
	srv := apptest.Start(t)
	signup(t, srv, "taken@example.com")
	json := []string{"Content-Type", "application/json"}
	cases := []struct {
		name, path, body string
		headers          []string
		status           int
		code             string
	}{
		{"invalid JSON", "/v1/auth/login", `{"email":`, json, 400, "invalid_request"},
		{"trailing garbage", "/v1/auth/login", `{"email":"a@b.co","password":"x"}x`, json, 400, "invalid_request"},
		{"array batch", "/v1/auth/login", `[{"email":"a@b.co","password":"x"}]`, json, 400, "invalid_request"},
		{"unknown field", "/v1/auth/signup", `{"email":"a@b.co","password":"long enough pass","isAdmin":true}`, json, 400, "invalid_request"},
		{"duplicate field", "/v1/auth/login", `{"email":"b@x.co","email":"a@x.co","password":"x"}`, json, 400, "invalid_request"},
		{"case variant", "/v1/auth/login", `{"email":"b@x.co","EMAIL":"a@x.co","password":"x"}`, json, 400, "invalid_request"},
		{"password number", "/v1/auth/login", `{"email":"a@b.co","password":12345678}`, json, 400, "invalid_request"},
		{"password null", "/v1/auth/signup", `{"email":"a@b.co","password":null}`, json, 422, "weak_password"},
		{"email array", "/v1/auth/login", `{"email":["a@b.co"],"password":"x"}`, json, 400, "invalid_request"},
		{"NUL in email", "/v1/auth/signup", `{"email":"a\u0000@b.co","password":"long enough pass"}`, json, 400, "invalid_request"},
		{"invalid UTF-8", "/v1/auth/signup", "{\"email\":\"a@b.co\",\"password\":\"\xff\xfe long enough\"}", json, 400, "invalid_request"},
		{"no content type", "/v1/auth/login", `{"email":"a@b.co","password":"x"}`, nil, 415, "unsupported_media_type"},
		{"form", "/v1/auth/login", `email=a@b.co&password=x`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"},
		{"text/plain", "/v1/auth/login", `{"email":"a@b.co","password":"x"}`, []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type"},
		{"huge body", "/v1/auth/login", `{"email":"` + strings.Repeat("a", 2<<20) + `"}`, json, 413, "payload_too_large"},
		{"bad email", "/v1/auth/signup", `{"email":"not-an-email","password":"long enough pass"}`, json, 400, "invalid_request"},
		{"look-alike email", "/v1/auth/signup", `{"email":"\u212Aate@example.com","password":"long enough pass"}`, json, 400, "invalid_request"},
		{"short password", "/v1/auth/signup", `{"email":"new@example.com","password":"short"}`, json, 422, "weak_password"},
		{"common password", "/v1/auth/signup", `{"email":"new@example.com","password":"password123"}`, json, 422, "weak_password"},
		{"password is the email", "/v1/auth/signup", `{"email":"new@example.com","password":"new@example.com"}`, json, 422, "weak_password"},
		{"over-long password", "/v1/auth/signup", `{"email":"new@example.com","password":"` + strings.Repeat("x", 1025) + `"}`, json, 400, "invalid_request"},
		{"over-long login", "/v1/auth/login", `{"email":"taken@example.com","password":"` + strings.Repeat("x", 100000) + `"}`, json, 400, "invalid_request"},
		{"taken email", "/v1/auth/signup", `{"email":"TAKEN@example.com","password":"long enough pass"}`, json, 409, "conflict"},
		{"empty refresh", "/v1/auth/refresh", `{}`, json, 400, "invalid_request"},
		{"unknown refresh", "/v1/auth/refresh", `{"refresh_token":"nope"}`, json, 400, "invalid_grant"},
		{"huge refresh", "/v1/auth/refresh", `{"refresh_token":"` + strings.Repeat("A", 5000) + `"}`, json, 400, "invalid_grant"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := srv.Do(t, "POST", c.path, c.body, c.headers...)
			if r.Status != c.status {
				t.Fatalf("status %d, want %d: %.300s", r.Status, c.status, r.Body)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q", ct)
			}
			p := r.JSON(t)
			if p["code"] != c.code || p["status"].(float64) != float64(c.status) || p["type"] != "about:blank" || p["title"] == "" {
				t.Errorf("problem = %v", p)
			}
			if d, _ := p["detail"].(string); d == "" || strings.Contains(d, "json:") || strings.Contains(d, "sql") {
				t.Errorf("detail %q", d)
			}
		})
	}
}

func TestHeadersAndRouting(t *testing.T) {
	srv := apptest.Start(t)
	for _, path := range []string{"/healthz", "/v1/me", "/nope", "/.well-known/jwks.json"} {
		r := srv.Do(t, "GET", path, nil)
		for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
			if got := r.Header.Get(h); got != want {
				t.Errorf("%s: %s = %q", path, h, got)
			}
		}
		if !strings.Contains(r.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, r.Header.Get("Content-Security-Policy"))
		}
		if r.Header.Get("Server") != "" || r.Header.Get("X-Powered-By") != "" {
			t.Errorf("%s: banner headers", path)
		}
		if r.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS over plain HTTP", path)
		}
	}
	if r := srv.Do(t, "GET", "/nope", nil); r.Status != 404 || r.String(t, "code") != "not_found" {
		t.Errorf("unknown route: %d %s", r.Status, r.Body)
	}
	for _, m := range []string{"TRACE", "PUT", "DELETE"} {
		if r := srv.Do(t, m, "/v1/auth/login", nil); r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") == "" {
			t.Errorf("%s /v1/auth/login: %d allow=%q", m, r.Status, r.Header.Get("Allow"))
		}
	}
	// Credentials are never taken from the URL or a form (AUTH-11, JWT-28).
	tok := signup(t, srv, "url@example.com")
	if r := srv.Do(t, "GET", "/v1/me?access_token="+tok["access_token"].(string), nil); r.Status != 401 || r.String(t, "code") != "token_required" {
		t.Errorf("token in URL: %d", r.Status)
	}
	if strings.Contains(srv.Logs(), tok["access_token"].(string)) {
		t.Error("the access log recorded a token from the query string")
	}
	if r := srv.Do(t, "GET", "/v1/auth/login?email=url@example.com&password="+url.QueryEscape(goodPassword), nil); r.Status != 405 {
		t.Errorf("GET login with credentials in URL: %d", r.Status)
	}
	if r := srv.Do(t, "GET", "/healthz", nil); r.Status != 200 {
		t.Errorf("healthz %d", r.Status)
	}
	if r := srv.Do(t, "GET", "/readyz", nil); r.Status != 200 {
		t.Errorf("readyz %d %s", r.Status, r.Body)
	}
	if r := srv.Do(t, "GET", "/metrics", nil); r.Status != 200 || !strings.Contains(string(r.Body), "latchkey_http_request_duration_seconds") {
		t.Errorf("metrics from loopback: %d", r.Status)
	}
	if r := srv.Do(t, "GET", "/openapi.yaml", nil); r.Status != 200 || !strings.Contains(string(r.Body), "openapi: 3.1") {
		t.Errorf("openapi: %d", r.Status)
	}
	jwks := srv.Do(t, "GET", "/.well-known/jwks.json", nil)
	if jwks.Status != 200 || !strings.Contains(jwks.Header.Get("Cache-Control"), "max-age=") || jwks.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("jwks headers %v", jwks.Header)
	}
	for _, private := range []string{`"d"`, `"p"`, `"q"`, `"dp"`, `"dq"`, `"qi"`, `"k"`} {
		if strings.Contains(string(jwks.Body), private+":") {
			t.Errorf("JWKS carries private member %s", private)
		}
	}
	// Oversized headers are cut off early (AV-06).
	if r := srv.Do(t, "GET", "/v1/me", nil, "Authorization", "Bearer "+strings.Repeat("a", 2<<20)); r.Status != 431 {
		t.Errorf("2 MiB header: %d, want 431", r.Status)
	}
}
