package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzRequest sends arbitrary untrusted input — body, Authorization,
// Cookie, X-Forwarded-For and Forwarded — through the whole handler stack
// in process, with rate limits on and 127.0.0.1 as a trusted proxy. No
// input may cause a 5xx or a panic (the recoverer would turn one into a
// 500), and every answer carries the security headers.
func FuzzRequest(f *testing.F) {
	for _, s := range []struct{ path, body, authz, cookie, xff, fwd string }{
		{"/v1/auth/login", `{"email":"a@example.com","password":"x"}`, "", "", "", ""},
		{"/v1/auth/signup", `{"email":"\u212Aate@example.com","password":"long enough pass"}`, "", "", "203.0.113.9", ""},
		{"/v1/auth/refresh", `{"refresh_token":"x"}`, "", "", "", "for=\"[2001:db8::1]:80\";proto=https"},
		{"/v1/me", "", "Bearer a.b.c", "latchkey_session=abc", "1.2.3.4, 127.0.0.1", ""},
		{"/v1/me", "", "Bearer ....", "latchkey_session=" + strings.Repeat("x", 200), "garbage", "for=unknown"},
		{"/v1/auth/login", `{"email":"a@x.co","EMAIL":"b@x.co","password":"x"}`, "Basic x", "a=b; a=c", "", ""},
		{"/v1/auth/login", "{\"email\":\"a\x00@x.co\",\"password\":\"\xff\"}", "", "", "", ""},
	} {
		f.Add(s.path, s.body, s.authz, s.cookie, s.xff, s.fwd)
	}
	cfg, err := loadConfig("serve", []string{"--data-dir", f.TempDir(), "--trusted-proxies", "127.0.0.1/32",
		"--password-hash-memory", "64", "--password-hash-iterations", "1"}, Env{Stderr: io.Discard})
	if err != nil {
		f.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	mailer, err := loadMail(cfg)
	if err != nil {
		f.Fatal(err)
	}
	c, err := build(context.Background(), cfg, logger, TestHooks{}, mailer) // rate limits on
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { c.Close() })
	web, err := loadHTTPSettings(cfg)
	if err != nil {
		f.Fatal(err)
	}
	h := c.httpHandler(context.Background(), web, nil)
	f.Fuzz(func(t *testing.T, path, body, authz, cookie, xff, fwd string) {
		if _, err := url.ParseRequestURI(path); err != nil || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " ?#\x00\r\n") {
			path = "/v1/auth/login" // not a request target net/http would hand to a handler
		}
		method := "GET"
		if body != "" {
			method = "POST"
		}
		r := httptest.NewRequest(method, "http://127.0.0.1"+path, bytes.NewReader([]byte(body)))
		r.RemoteAddr = "127.0.0.1:5555"
		r.Header.Set("Content-Type", "application/json")
		for k, v := range map[string]string{"Authorization": authz, "Cookie": cookie, "X-Forwarded-For": xff, "Forwarded": fwd} {
			if v != "" {
				r.Header[k] = []string{v}
			}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 && w.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body)
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" || w.Header().Get("X-Frame-Options") != "DENY" {
			t.Fatalf("security headers missing: %v", w.Header())
		}
	})
}
