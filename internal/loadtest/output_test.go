package loadtest

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sampleReport() *Report {
	return &Report{
		Concurrency: 50, DurationS: 10, Target: Target{Database: "sqlite"},
		Scenarios: []Result{
			{Scenario: "login", Requests: 300, Successful: 300, RequestsPerS: 30, Latency: Latency{P50: 800, P90: 1500, P99: 1700, Max: 1900}, Errors: map[string]uint64{}},
			{Scenario: "refresh", Requests: 30000, Successful: 29990, RequestsPerS: 2999, Latency: Latency{P50: 10, P90: 20, P99: 40, Max: 90}, Errors: map[string]uint64{"status_503": 4, "transport": 6}},
			{Scenario: "healthz", Requests: 90000, Successful: 90000, RequestsPerS: 9000, Latency: Latency{P50: 3, P90: 6, P99: 9, Max: 30}, Errors: map[string]uint64{}},
		},
	}
}

func TestWritePNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chart.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := sampleReport().WritePNG(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		t.Fatalf("chart is empty (err %v)", err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("chart is not a PNG: %v", err)
	}
	if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w < 800 || h < 300 {
		t.Errorf("chart is %dx%d, want a readable size", w, h)
	}
	if err := (&Report{}).WritePNG(&bytes.Buffer{}); err == nil {
		t.Error("a chart of no scenarios was drawn")
	}
}

func TestWriteTable(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"refresh", "2999.0", "40.00", "status_503=4,transport=6", "p99 ms"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://127.3.4.5:1", true},
		{"https://[::1]:8443", true},
		{"http://localhost:8080", true},
		{"http://10.0.0.1:8080", false},
		{"http://example.com", false},
		{"http://[::ffff:8.8.8.8]:80", false},
		{"ftp://127.0.0.1", false},
		{"127.0.0.1:8080", false},
		{"http://127.0.0.1.example.com", false},
	}
	for _, tt := range tests {
		if err := CheckLoopback(tt.url); (err == nil) != tt.ok {
			t.Errorf("CheckLoopback(%q) = %v, want ok=%v", tt.url, err, tt.ok)
		}
	}
}

func TestParseStatusMemory(t *testing.T) {
	const status = "Name:\tlatchkey\nVmPeak:\t 1300000 kB\nVmHWM:\t   40960 kB\nVmRSS:\t   20480 kB\nThreads:\t7\n"
	rss, peak, err := parseStatusMemory(status)
	if err != nil || rss != 20<<20 || peak != 40<<20 {
		t.Errorf("got rss %d peak %d err %v, want 20 MiB and 40 MiB", rss, peak, err)
	}
	for _, bad := range []string{"Name:\tx\n", "VmHWM:\t1 MB\nVmRSS:\t1 kB\n", "VmHWM:\tx kB\nVmRSS:\t1 kB\n"} {
		if _, _, err := parseStatusMemory(bad); err == nil {
			t.Errorf("parseStatusMemory(%q) succeeded", bad)
		}
	}
}

func TestProcessMemoryOfThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	rss, peak, err := ProcessMemory(os.Getpid())
	if err != nil || rss == 0 || peak < rss {
		t.Errorf("rss %d peak %d err %v", rss, peak, err)
	}
}

func TestCPUModel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpuinfo")
	os.WriteFile(path, []byte("processor\t: 0\nvendor_id\t: X\nmodel name\t: Example CPU @ 2.00GHz\n\nprocessor\t: 1\nmodel name\t: Example CPU @ 2.00GHz\n"), 0o600)
	if got := cpuModel(path); got != "Example CPU @ 2.00GHz" {
		t.Errorf("cpuModel = %q", got)
	}
	if got := cpuModel(filepath.Join(t.TempDir(), "missing")); got != "unknown" {
		t.Errorf("missing cpuinfo gives %q, want unknown", got)
	}
}
