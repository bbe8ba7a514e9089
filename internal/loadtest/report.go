package loadtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is everything one run measured; its JSON form is the published one.
type Report struct {
	Machine     Machine       `json:"machine"`
	Target      Target        `json:"target"`
	Concurrency int           `json:"concurrency"`
	DurationS   float64       `json:"duration_s"`
	WarmupS     float64       `json:"warmup_s"`
	HashRate    *HashRate     `json:"hash_rate,omitempty"`
	Server      *ServerMemory `json:"server_memory,omitempty"`
	Scenarios   []Result      `json:"scenarios"`
}

// Result is one scenario's figures. RequestsPerS counts successful requests
// only, and the latencies are those of successful requests; failures are
// counted by kind in Errors (status_<code>, transport, timeout,
// bad_response).
type Result struct {
	Scenario           string            `json:"scenario"`
	Concurrency        int               `json:"concurrency"`
	ElapsedS           float64           `json:"elapsed_s"`
	Requests           uint64            `json:"requests"`
	Successful         uint64            `json:"successful"`
	RequestsPerS       float64           `json:"requests_per_s"`
	Latency            Latency           `json:"latency_ms"`
	Errors             map[string]uint64 `json:"errors"`
	ServerPeakRSSBytes uint64            `json:"server_peak_rss_bytes,omitempty"`
	RatioToHashRate    float64           `json:"ratio_to_hash_rate,omitempty"`
	RatioToHealthz     float64           `json:"ratio_to_healthz,omitempty"`
	// SetupError says why the scenario was not measured.
	SetupError string `json:"setup_error,omitempty"`
}

// SetupFailures lists the scenarios that could not be measured.
func (r *Report) SetupFailures() []string {
	var names []string
	for _, s := range r.Scenarios {
		if s.SetupError != "" {
			names = append(names, s.Scenario)
		}
	}
	return names
}

// ErrorCount is the number of failed requests.
func (r Result) ErrorCount() uint64 {
	var n uint64
	for _, v := range r.Errors {
		n += v
	}
	return n
}

// ServerMemory is the started server's resident memory: right after start,
// and the highest it reached (VmHWM).
type ServerMemory struct {
	IdleRSSBytes uint64 `json:"idle_rss_bytes"`
	PeakRSSBytes uint64 `json:"peak_rss_bytes"`
}

// Target says what was measured.
type Target struct {
	URL      string `json:"url"`
	Started  bool   `json:"started"`  // started by the load test
	Database string `json:"database"` // sqlite, postgres, or unknown for --target
}

// Machine describes where the run happened.
type Machine struct {
	CPUModel  string `json:"cpu_model"`
	Cores     int    `json:"cores"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	Date      string `json:"date"`
}

// ThisMachine describes the current machine at time now.
func ThisMachine(now time.Time) Machine {
	return Machine{
		CPUModel:  cpuModel("/proc/cpuinfo"),
		Cores:     runtime.NumCPU(),
		GoVersion: runtime.Version(),
		OS:        runtime.GOOS,
		Arch:      runtime.GOARCH,
		Date:      now.UTC().Format(time.RFC3339),
	}
}

func cpuModel(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("writing JSON report: %w", err)
	}
	return nil
}

// WriteTable prints the report for people.
func (r *Report) WriteTable(w io.Writer) error {
	m := r.Machine
	fmt.Fprintf(w, "%s, %d cores, %s, %s\n", m.CPUModel, m.Cores, m.GoVersion, m.Date)
	fmt.Fprintf(w, "target %s (database %s), %d concurrent clients, %gs per scenario\n",
		r.Target.URL, r.Target.Database, r.Concurrency, r.DurationS)
	if r.HashRate != nil {
		fmt.Fprintf(w, "argon2id hashing rate: %.1f/s (%d goroutines, m=%d KiB t=%d p=%d)\n",
			r.HashRate.PerS, r.HashRate.Workers, r.HashRate.MemoryKiB, r.HashRate.Iterations, r.HashRate.Threads)
	}
	if r.Server != nil {
		fmt.Fprintf(w, "server RSS: idle %s, peak %s\n", mib(r.Server.IdleRSSBytes), mib(r.Server.PeakRSSBytes))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\trequests\treq/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\terrors\tratio\t")
	for _, s := range r.Scenarios {
		if s.SetupError != "" {
			continue
		}
		ratio := ""
		switch {
		case s.RatioToHashRate > 0:
			ratio = fmt.Sprintf("%.2f× hash", s.RatioToHashRate)
		case s.RatioToHealthz > 0:
			ratio = fmt.Sprintf("%.2f× healthz", s.RatioToHealthz)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t%s\t\n", s.Scenario, s.Requests, s.RequestsPerS,
			s.Latency.P50, s.Latency.P90, s.Latency.P99, s.Latency.Max, formatErrors(s.Errors), ratio)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing table: %w", err)
	}
	for _, s := range r.Scenarios {
		if s.SetupError != "" {
			fmt.Fprintf(w, "%s not measured: %s\n", s.Scenario, s.SetupError)
		}
	}
	return nil
}

func formatErrors(errs map[string]uint64) string {
	if len(errs) == 0 {
		return "0"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(errs)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, errs[k]))
	}
	return strings.Join(parts, ",")
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
