// Command loadtest measures a latchkey server over HTTP, with a fixed
// number of concurrent clients and a fixed duration per scenario, and
// reports requests per second, p50/p90/p99/max latency and errors by kind
// for each; with --start also the server's idle and peak memory.
//
// Scenarios: signup (unique emails), login (pre-created users), refresh
// (each client follows its own chain of refresh tokens), me-token
// (GET /v1/me with a bearer token), me-apikey (GET /v1/me with X-API-Key),
// verify (GET /v1/verify) and healthz. Only loopback targets are accepted.
//
// Examples, from the repository root:
//
//	# build and start latchkey on SQLite, run every scenario, write JSON and a chart
//	go run ./cmd/loadtest --start --hash-rate --json results.json --png chart.png
//
//	# the same on PostgreSQL
//	go run ./cmd/loadtest --start --database 'postgres://postgres@127.0.0.1:5432/bench?sslmode=disable' --hash-rate
//
//	# a server that is already running, two scenarios, 100 clients for 30 s each
//	go run ./cmd/loadtest --target http://127.0.0.1:8080 --scenarios refresh,me-token --concurrency 100 --duration 30s
//
//	# extra serve flags for the started server
//	go run ./cmd/loadtest --start --server-arg=--signing-alg=EdDSA --scenarios verify
//
// A running target should be a load-test build, which has rate limits off
// (go build -tags loadtest -o latchkey-loadtest ./cmd/latchkey; never
// deploy one), or login and signup measure the limiter. --start builds one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/latchkey/latchkey/internal/loadtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
		}
		os.Exit(1)
	}
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, " ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

type options struct {
	target, database, moduleDir, serverBin string
	start, hashRate                        bool
	serverArgs                             stringList
	scenarios                              string
	concurrency                            int
	duration, warmup, timeout, hashDur     time.Duration
	jsonPath, pngPath                      string
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.target, "target", "", "URL of a running latchkey (loopback only)")
	fs.BoolVar(&o.start, "start", false, "build and start latchkey serve from this module, with rate limits off")
	fs.StringVar(&o.database, "database", "", "with --start: the server's --database (postgres://… for PostgreSQL; default SQLite)")
	fs.Var(&o.serverArgs, "server-arg", "with --start: one more serve flag (repeatable)")
	fs.StringVar(&o.serverBin, "server-bin", "", "with --start: a load-test build of latchkey (go build -tags loadtest ./cmd/latchkey) instead of building one")
	fs.StringVar(&o.moduleDir, "module-dir", ".", "with --start: the latchkey module to build")
	fs.StringVar(&o.scenarios, "scenarios", strings.Join(loadtest.ScenarioNames, ","), "comma-separated scenarios, measured in order")
	fs.IntVar(&o.concurrency, "concurrency", 50, "concurrent clients per scenario")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per scenario")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured warm-up per scenario")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.BoolVar(&o.hashRate, "hash-rate", false, "measure this machine's argon2id rate (server defaults) to relate signup and login to it")
	fs.DurationVar(&o.hashDur, "hash-duration", 5*time.Second, "how long to measure the hashing rate")
	fs.StringVar(&o.jsonPath, "json", "", "write the results as JSON to this file")
	fs.StringVar(&o.pngPath, "png", "", "draw requests/s and p99 per scenario as a PNG to this file")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if (o.target == "") == !o.start {
		return nil, errors.New("give exactly one of --target URL and --start")
	}
	if !o.start && (o.database != "" || len(o.serverArgs) > 0 || o.serverBin != "") {
		return nil, errors.New("--database, --server-arg and --server-bin need --start")
	}
	if o.target != "" {
		if err := loadtest.CheckLoopback(o.target); err != nil {
			return nil, err
		}
	}
	if err := loadtest.CheckScenarios(strings.Split(o.scenarios, ",")); err != nil {
		return nil, err
	}
	if o.concurrency < 1 || o.duration <= 0 || o.warmup < 0 || o.timeout <= 0 || o.hashDur <= 0 {
		return nil, errors.New("--concurrency must be at least 1, durations positive")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	opts := loadtest.Options{
		BaseURL:     o.target,
		Scenarios:   strings.Split(o.scenarios, ","),
		Concurrency: o.concurrency,
		Duration:    o.duration,
		Warmup:      o.warmup,
		HTTPClient:  loadtest.NewHTTPClient(o.concurrency, o.timeout),
		Logger:      logger,
	}
	target := loadtest.Target{URL: o.target, Database: "unknown"}
	if o.start {
		logger.Info("starting latchkey")
		srv, err := loadtest.StartServer(ctx, loadtest.StartOptions{
			Binary: o.serverBin, ModuleDir: o.moduleDir, Database: o.database, Args: o.serverArgs,
		})
		if err != nil {
			return err
		}
		defer func() {
			if stopErr := srv.Stop(); stopErr != nil && err == nil {
				err = stopErr
			}
		}()
		logger.Info("latchkey started", "url", srv.URL, "pid", srv.PID)
		opts.BaseURL = srv.URL
		opts.ServerMemory = srv.Memory
		target = loadtest.Target{URL: srv.URL, Started: true, Database: databaseKind(o.database)}
	}
	if o.hashRate {
		hr := loadtest.DefaultHashRate(o.hashDur)
		opts.HashRate = &hr
	}

	rep, err := loadtest.Run(ctx, opts)
	if err != nil {
		return err
	}
	rep.Machine = loadtest.ThisMachine(time.Now())
	rep.Target = target
	if err := rep.WriteTable(stdout); err != nil {
		return err
	}
	if o.jsonPath != "" {
		if err := writeFile(o.jsonPath, rep.WriteJSON); err != nil {
			return err
		}
	}
	if o.pngPath != "" {
		if err := writeFile(o.pngPath, rep.WritePNG); err != nil {
			return err
		}
	}
	if failed := rep.SetupFailures(); len(failed) > 0 {
		return fmt.Errorf("scenarios not measured: %s", strings.Join(failed, ", "))
	}
	return nil
}

func databaseKind(database string) string {
	if strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://") {
		return "postgres"
	}
	return "sqlite"
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
