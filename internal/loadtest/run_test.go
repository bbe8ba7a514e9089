package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func quickOptions(url string, scenarios ...string) Options {
	return Options{
		BaseURL: url, Scenarios: scenarios, Concurrency: 4,
		Duration: 150 * time.Millisecond, Warmup: 20 * time.Millisecond,
	}
}

func TestRunEveryScenarioAgainstTheContract(t *testing.T) {
	cs, srv := newContractServer(t)
	rep, err := Run(t.Context(), quickOptions(srv.URL, ScenarioNames...))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Scenarios) != len(ScenarioNames) {
		t.Fatalf("%d results, want %d", len(rep.Scenarios), len(ScenarioNames))
	}
	for i, s := range rep.Scenarios {
		if s.Scenario != ScenarioNames[i] {
			t.Errorf("result %d is %q, want %q", i, s.Scenario, ScenarioNames[i])
		}
		if s.ErrorCount() != 0 {
			t.Errorf("%s: errors %v, want none", s.Scenario, s.Errors)
		}
		if s.Successful == 0 || s.Successful != s.Requests || s.RequestsPerS <= 0 {
			t.Errorf("%s: %d requests, %d successful, %.1f/s", s.Scenario, s.Requests, s.Successful, s.RequestsPerS)
		}
		if s.Latency.P50 <= 0 || s.Latency.P50 > s.Latency.P90 || s.Latency.P90 > s.Latency.P99 || s.Latency.P99 > s.Latency.Max {
			t.Errorf("%s: latencies out of order: %+v", s.Scenario, s.Latency)
		}
	}
	if n := cs.reuses.Load(); n != 0 {
		t.Errorf("server saw %d reused refresh tokens, want 0", n)
	}
	// The token-authenticated scenarios are related to /healthz.
	for _, s := range rep.Scenarios {
		if tokenAuthenticated(s.Scenario) && s.RatioToHealthz <= 0 {
			t.Errorf("%s: no ratio to healthz", s.Scenario)
		}
	}
}

func TestRefreshFollowsTheChain(t *testing.T) {
	cs, srv := newContractServer(t)
	rep, err := Run(t.Context(), quickOptions(srv.URL, "refresh"))
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Scenarios[0]
	// More refreshes than workers means every worker refreshed more than
	// once; each later one succeeded only with the newest token.
	if s.Successful <= 4 || s.ErrorCount() != 0 {
		t.Errorf("refresh: %d successful, errors %v; want more than 4 and none", s.Successful, s.Errors)
	}
	if cs.reuses.Load() != 0 {
		t.Errorf("server saw %d reused refresh tokens", cs.reuses.Load())
	}
}

// The chain test means something only if the server refuses a reused
// token; this checks that it does, through the same client.
func TestContractServerRefusesReusedRefreshToken(t *testing.T) {
	_, srv := newContractServer(t)
	c := NewClient(srv.URL, NewHTTPClient(1, 5*time.Second))
	ctx := t.Context()
	tr, o := c.signup(ctx, "a@example.com", "lt-long-enough")
	if !o.OK() {
		t.Fatalf("signup: %+v", o)
	}
	next, o := c.refresh(ctx, tr.RefreshToken)
	if !o.OK() {
		t.Fatalf("first refresh: %+v", o)
	}
	if _, o := c.refresh(ctx, tr.RefreshToken); o.Status != http.StatusUnauthorized {
		t.Fatalf("reused refresh: status %d, want 401", o.Status)
	}
	if _, o := c.refresh(ctx, next.RefreshToken); o.Status != http.StatusUnauthorized {
		t.Fatalf("after reuse the session must be revoked: status %d, want 401", o.Status)
	}
}

func TestErrorsCountedByKind(t *testing.T) {
	cs, srv := newContractServer(t)
	cs.failEvery, cs.dropEvery = 3, 7
	rep, err := Run(t.Context(), quickOptions(srv.URL, "healthz"))
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Scenarios[0]
	if s.Errors["status_503"] == 0 || s.Errors["transport"] == 0 {
		t.Errorf("errors %v, want status_503 and transport", s.Errors)
	}
	if s.Requests != s.Successful+s.ErrorCount() {
		t.Errorf("requests %d != successful %d + errors %d", s.Requests, s.Successful, s.ErrorCount())
	}
}

func TestBrokenRefreshChainIsCountedAndRestarted(t *testing.T) {
	cs, srv := newContractServer(t)
	e := &env{c: NewClient(srv.URL, NewHTTPClient(1, 5*time.Second))}
	e.pool = &pool{c: e.c, runID: "t", password: "lt-long-enough"}
	ops, err := prepareRefresh(t.Context(), e, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Someone else uses the worker's token first: the server revokes the
	// session, so the worker's refresh fails and the next one starts over.
	u := e.pool.users[0]
	if _, o := e.c.refresh(t.Context(), u.refresh); !o.OK() {
		t.Fatal(o)
	}
	if o := ops[0](t.Context()); o.Status != http.StatusUnauthorized {
		t.Fatalf("refresh with a token used elsewhere: %+v, want 401", o)
	}
	if o := ops[0](t.Context()); !o.OK() {
		t.Fatalf("refresh after a broken chain: %+v, want a new chain", o)
	}
	if cs.reuses.Load() != 1 {
		t.Errorf("reuses %d, want exactly the one provoked", cs.reuses.Load())
	}
}

func TestRunRefusesBadOptions(t *testing.T) {
	_, srv := newContractServer(t)
	tests := []struct {
		name string
		mod  func(*Options)
	}{
		{"unknown scenario", func(o *Options) { o.Scenarios = []string{"nope"} }},
		{"no scenario", func(o *Options) { o.Scenarios = nil }},
		{"remote target", func(o *Options) { o.BaseURL = "http://192.0.2.1:8080" }},
		{"zero concurrency", func(o *Options) { o.Concurrency = 0 }},
		{"zero duration", func(o *Options) { o.Duration = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := quickOptions(srv.URL, "healthz")
			tt.mod(&o)
			if _, err := Run(t.Context(), o); err == nil {
				t.Error("Run accepted bad options")
			}
		})
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	_, srv := newContractServer(t)
	ctx, cancel := context.WithCancel(t.Context())
	o := quickOptions(srv.URL, "healthz")
	o.Duration = time.Hour
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := Run(ctx, o); err == nil {
		t.Error("a cancelled run reported success")
	}
}

func TestRunRecordsServerMemoryAndHashRate(t *testing.T) {
	_, srv := newContractServer(t)
	o := quickOptions(srv.URL, "login", "healthz")
	calls := 0
	o.ServerMemory = func() (uint64, uint64, error) {
		calls++
		return 10 << 20, uint64(10+calls) << 20, nil
	}
	hr := DefaultHashRate(time.Millisecond)
	hr.MemoryKiB, hr.Iterations, hr.Workers = 64, 1, 2
	o.HashRate = &hr
	rep, err := Run(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Server == nil || rep.Server.IdleRSSBytes != 10<<20 || rep.Server.PeakRSSBytes != 13<<20 {
		t.Errorf("server memory %+v, want idle 10 MiB and peak 13 MiB", rep.Server)
	}
	if rep.Scenarios[0].ServerPeakRSSBytes != 12<<20 {
		t.Errorf("login peak %d, want 12 MiB", rep.Scenarios[0].ServerPeakRSSBytes)
	}
	if rep.HashRate == nil || rep.HashRate.Hashes < 2 || rep.HashRate.PerS <= 0 {
		t.Fatalf("hash rate %+v, want at least one hash per worker", rep.HashRate)
	}
	if want := rep.Scenarios[0].RequestsPerS / rep.HashRate.PerS; rep.Scenarios[0].RatioToHashRate != want {
		t.Errorf("login ratio %v, want %v", rep.Scenarios[0].RatioToHashRate, want)
	}
	var buf bytes.Buffer
	if err := rep.WriteTable(&buf); err != nil || !bytes.Contains(buf.Bytes(), []byte("× hash")) {
		t.Errorf("table (err %v) without the hash ratio:\n%s", err, buf.String())
	}
}

func TestReportJSONShape(t *testing.T) {
	_, srv := newContractServer(t)
	rep, err := Run(t.Context(), quickOptions(srv.URL, "me-token", "healthz"))
	if err != nil {
		t.Fatal(err)
	}
	rep.Machine = ThisMachine(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	rep.Target = Target{URL: srv.URL, Database: "unknown"}
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Machine     map[string]any   `json:"machine"`
		Target      map[string]any   `json:"target"`
		Concurrency float64          `json:"concurrency"`
		DurationS   float64          `json:"duration_s"`
		WarmupS     float64          `json:"warmup_s"`
		Scenarios   []map[string]any `json:"scenarios"`
	}
	dec := json.NewDecoder(&buf)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("decoding report: %v", err)
	}
	for _, k := range []string{"cpu_model", "cores", "go_version", "os", "arch", "date"} {
		if _, ok := got.Machine[k]; !ok {
			t.Errorf("machine lacks %q: %v", k, got.Machine)
		}
	}
	if got.Machine["date"] != "2026-01-02T03:04:05Z" || got.Concurrency != 4 || got.DurationS != 0.15 {
		t.Errorf("date %v, concurrency %v, duration %v", got.Machine["date"], got.Concurrency, got.DurationS)
	}
	if len(got.Scenarios) != 2 {
		t.Fatalf("%d scenarios, want 2", len(got.Scenarios))
	}
	s := got.Scenarios[0]
	for _, k := range []string{"scenario", "requests", "successful", "requests_per_s", "latency_ms", "errors", "ratio_to_healthz"} {
		if _, ok := s[k]; !ok {
			t.Errorf("scenario lacks %q: %v", k, s)
		}
	}
	lat, _ := s["latency_ms"].(map[string]any)
	for _, k := range []string{"p50", "p90", "p99", "max"} {
		if v, ok := lat[k].(float64); !ok || v <= 0 {
			t.Errorf("latency_ms.%s = %v, want a positive number", k, lat[k])
		}
	}
	if errs, ok := s["errors"].(map[string]any); !ok || len(errs) != 0 {
		t.Errorf("errors = %v, want an empty object", s["errors"])
	}
}

func TestScenarioTheServerCannotServeIsReportedNotFatal(t *testing.T) {
	_, srv := newContractServer(t, "POST /v1/api-keys")
	rep, err := Run(t.Context(), quickOptions(srv.URL, "me-apikey", "healthz"))
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.SetupFailures(); !slices.Equal(got, []string{"me-apikey"}) {
		t.Errorf("setup failures %v, want [me-apikey]", got)
	}
	if !strings.Contains(rep.Scenarios[0].SetupError, "404") || rep.Scenarios[1].Successful == 0 {
		t.Errorf("results %+v", rep.Scenarios)
	}
	var table, chart bytes.Buffer
	if err := rep.WriteTable(&table); err != nil || !strings.Contains(table.String(), "me-apikey not measured") {
		t.Errorf("table (err %v):\n%s", err, table.String())
	}
	if err := rep.WritePNG(&chart); err != nil || chart.Len() == 0 {
		t.Errorf("chart of the measured scenario: err %v, %d bytes", err, chart.Len())
	}
}
