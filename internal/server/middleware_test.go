package server

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/latchkey/latchkey/internal/clientip"
	"github.com/latchkey/latchkey/internal/config"
	"github.com/latchkey/latchkey/internal/testenv"
)

// TestPanicIsLoggedWithRequestIDAccessLogAndMetric: a panicking handler
// answers 500, and its log line carries the request id, as do the access
// log line and the request metric.
func TestPanicIsLoggedWithRequestIDAccessLogAndMetric(t *testing.T) {
	logs := &testenv.LogBuffer{}
	s := &Server{cfg: &config.Config{}, metrics: NewMetrics(), clock: time.Now,
		log: slog.New(RequestIDHandler{slog.NewJSONHandler(logs, nil)})}
	s.ips, _ = clientip.NewResolver(nil)
	mux := http.NewServeMux()
	mux.Handle("GET /boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	h := s.middleware(mux)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/boom", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	id := rec.Header().Get("X-Request-Id")
	if id == "" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("headers %v: want a request id and the security headers", rec.Header())
	}
	var panicLine, accessLine bool
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		hasID := strings.Contains(line, `"request_id":"`+id+`"`)
		switch {
		case strings.Contains(line, `"msg":"panic"`):
			panicLine = hasID
		case strings.Contains(line, `"msg":"request"`):
			accessLine = hasID && strings.Contains(line, `"status":500`)
		}
	}
	if !panicLine || !accessLine {
		t.Errorf("want the panic and an access-log line (status 500) with request id %s; logs:\n%s", id, logs)
	}
	if n := testutil.CollectAndCount(s.metrics.requests); n != 1 {
		t.Errorf("request metric series = %d, want 1", n)
	}
}
