package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are latchkey's Prometheus metrics, on a registry of their own
// (never the global one). It also receives auth.Events.
type Metrics struct {
	registry *prometheus.Registry
	logins   *prometheus.CounterVec
	issued   *prometheus.CounterVec
	refresh  *prometheus.CounterVec
	requests *prometheus.HistogramVec
	revoked  prometheus.Counter
}

// NewMetrics registers latchkey's metrics and the Go runtime's.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		registry: reg,
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "latchkey_logins_total",
			Help: "Password logins by outcome."}, []string{"outcome"}),
		issued: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "latchkey_tokens_issued_total",
			Help: "Tokens issued by kind."}, []string{"kind"}),
		refresh: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "latchkey_refreshes_total",
			Help: "Refresh-token exchanges by outcome."}, []string{"outcome"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "latchkey_http_request_duration_seconds",
			Help: "HTTP request latency by route and status.", Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}},
			[]string{"route", "status"}),
		revoked: prometheus.NewCounter(prometheus.CounterOpts{Name: "latchkey_sessions_revoked_total",
			Help: "Sessions ended by logout, revocation or reuse detection."}),
	}
	reg.MustRegister(m.logins, m.issued, m.refresh, m.requests, m.revoked,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry, for other components' metrics.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

func (m *Metrics) observeRequest(route string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Observe(d.Seconds())
}

func (m *Metrics) Login(outcome string)         { m.logins.WithLabelValues(outcome).Inc() }
func (m *Metrics) TokensIssued(kind string)     { m.issued.WithLabelValues(kind).Inc() }
func (m *Metrics) Refresh(outcome string)       { m.refresh.WithLabelValues(outcome).Inc() }
func (m *Metrics) SessionsRevoked(ids []string) { m.revoked.Add(float64(len(ids))) }
