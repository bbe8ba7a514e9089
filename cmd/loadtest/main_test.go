package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunHealthzAgainstATarget(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	jsonPath, pngPath := filepath.Join(dir, "r.json"), filepath.Join(dir, "c.png")
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"--target", srv.URL, "--scenarios", "healthz", "--concurrency", "2",
		"--duration", "100ms", "--warmup", "10ms", "--json", jsonPath, "--png", pngPath}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "healthz") {
		t.Errorf("table lacks the scenario:\n%s", stdout.String())
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Target    struct{ URL string }
		Machine   struct{ Cores int }
		Scenarios []struct {
			Scenario   string
			Successful uint64
		}
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Target.URL != srv.URL || rep.Machine.Cores < 1 || len(rep.Scenarios) != 1 || rep.Scenarios[0].Successful == 0 {
		t.Errorf("report %+v", rep)
	}
	f, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("chart: %v", err)
	}
}

func TestFlagErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"neither target nor start", nil, "exactly one"},
		{"both", []string{"--target", "http://127.0.0.1:1", "--start"}, "exactly one"},
		{"remote target", []string{"--target", "http://198.51.100.7:8080"}, "loopback"},
		{"database without start", []string{"--target", "http://127.0.0.1:1", "--database", "postgres://x"}, "need --start"},
		{"unknown scenario", []string{"--start", "--scenarios", "login,dance"}, "unknown scenario"},
		{"zero clients", []string{"--start", "--concurrency", "0"}, "concurrency"},
		{"stray argument", []string{"--start", "extra"}, "unexpected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			_, err := parseFlags(tt.args, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestDefaultFlags(t *testing.T) {
	o, err := parseFlags([]string{"--start"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.concurrency != 50 || o.duration.String() != "10s" || o.scenarios != "signup,login,refresh,me-token,me-apikey,verify,healthz" {
		t.Errorf("defaults %+v", o)
	}
}
