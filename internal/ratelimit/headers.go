package ratelimit

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// WriteHeaders adds the rate-limit headers of draft-ietf-httpapi-ratelimit-
// headers for one rule, in their structured-field form:
//
//	RateLimit-Policy: "login";q=10;w=60
//	RateLimit: "login";r=3;t=20
//
// q is the burst, w the period in seconds, r the requests remaining and t the
// seconds until the full burst is back. When d is not allowed it also sets
// Retry-After in whole seconds, rounded up and at least 1. Call it once per
// rule checked: each call adds a list member, and Retry-After keeps the
// longest wait.
func WriteHeaders(h http.Header, rule Rule, d Decision) {
	name := sfString(rule.Name)
	h.Add("RateLimit-Policy", name+";q="+strconv.Itoa(rule.Limit)+";w="+strconv.FormatInt(ceilSeconds(rule.Period), 10))
	h.Add("RateLimit", name+";r="+strconv.Itoa(d.Remaining)+";t="+strconv.FormatInt(ceilSeconds(d.ResetAfter), 10))
	if d.Allowed {
		return
	}
	retry := max(1, ceilSeconds(d.RetryAfter))
	if old, err := strconv.ParseInt(h.Get("Retry-After"), 10, 64); err == nil && old > retry {
		retry = old
	}
	h.Set("Retry-After", strconv.FormatInt(retry, 10))
}

// RetryAfterSeconds is the Retry-After value for a wait: whole seconds,
// rounded up, at least 1.
func RetryAfterSeconds(d time.Duration) int64 { return max(1, ceilSeconds(d)) }

func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// sfString encodes s as an RFC 9651 sf-string: printable ASCII only, with
// '"' and '\' escaped. Other bytes become '?', since rule names are ours and
// never need them.
func sfString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
