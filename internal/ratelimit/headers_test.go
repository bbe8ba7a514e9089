package ratelimit

import (
	"net/http"
	"testing"
	"time"
)

func TestWriteHeaders(t *testing.T) {
	rule := Rule{Name: "login", Limit: 10, Period: time.Minute}
	tests := []struct {
		name                   string
		d                      Decision
		policy, limit, retryAt string
	}{
		{"allowed", Decision{Allowed: true, Limit: 10, Remaining: 3, ResetAfter: 19500 * time.Millisecond},
			`"login";q=10;w=60`, `"login";r=3;t=20`, ""},
		{"refused, sub-second wait", Decision{Limit: 10, RetryAfter: 10 * time.Millisecond, ResetAfter: time.Minute},
			`"login";q=10;w=60`, `"login";r=0;t=60`, "1"},
		{"refused, rounded up", Decision{Limit: 10, RetryAfter: 6001 * time.Millisecond, ResetAfter: time.Minute},
			`"login";q=10;w=60`, `"login";r=0;t=60`, "7"},
		{"refused, zero wait still 1", Decision{Limit: 10}, `"login";q=10;w=60`, `"login";r=0;t=0`, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			WriteHeaders(h, rule, tt.d)
			if got := h.Get("RateLimit-Policy"); got != tt.policy {
				t.Errorf("RateLimit-Policy = %q, want %q", got, tt.policy)
			}
			if got := h.Get("RateLimit"); got != tt.limit {
				t.Errorf("RateLimit = %q, want %q", got, tt.limit)
			}
			if got := h.Get("Retry-After"); got != tt.retryAt {
				t.Errorf("Retry-After = %q, want %q", got, tt.retryAt)
			}
		})
	}
}

func TestWriteHeadersTwoRules(t *testing.T) {
	h := http.Header{}
	WriteHeaders(h, Rule{"login-ip", 30, 10 * time.Minute}, Decision{Limit: 30, RetryAfter: 20 * time.Second})
	WriteHeaders(h, Rule{"login-account", 10, time.Minute}, Decision{Limit: 10, RetryAfter: 5 * time.Second})
	if got := h.Values("RateLimit-Policy"); len(got) != 2 || got[1] != `"login-account";q=10;w=60` {
		t.Errorf("RateLimit-Policy = %q", got)
	}
	if got := h.Get("Retry-After"); got != "20" {
		t.Errorf("Retry-After = %q, want the longer wait 20", got)
	}
}

func TestSFString(t *testing.T) {
	for in, want := range map[string]string{`a"b\c`: `"a\"b\\c"`, "é\n": `"???"`, "": `""`} {
		if got := sfString(in); got != want {
			t.Errorf("sfString(%q) = %s, want %s", in, got, want)
		}
	}
}
