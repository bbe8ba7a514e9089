package loadtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// StartOptions say how to start a latchkey server for a run.
type StartOptions struct {
	// Binary is a load-test build of latchkey (go build -tags loadtest
	// ./cmd/latchkey: rate limits off); empty builds one from ModuleDir.
	// A normal build enforces rate limits, so login and signup would
	// measure the limiter.
	Binary    string
	ModuleDir string
	// Database is passed as --database when set (postgres://… to measure
	// PostgreSQL); otherwise the server uses SQLite in its data directory.
	Database string
	// Args are further serve flags, after the load test's own.
	Args []string
	// StartTimeout bounds build plus start; 0 means two minutes.
	StartTimeout time.Duration
}

// Server is a latchkey process the load test started.
type Server struct {
	URL     string
	PID     int
	Dir     string // data directory, removed by Stop
	LogPath string // the server's stderr
	cmd     *exec.Cmd
	exited  chan error
}

const listeningPrefix = "latchkey listening on "

// StartServer builds (unless given a binary) a load-test build of latchkey
// and starts `latchkey serve` on a random loopback port with a fresh data
// directory, and waits for the line that names its URL.
func StartServer(ctx context.Context, o StartOptions) (*Server, error) {
	timeout := o.StartTimeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	startCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	dir, err := os.MkdirTemp("", "latchkey-loadtest-")
	if err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	fail := func(err error) (*Server, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	bin := o.Binary
	if bin == "" {
		bin = filepath.Join(dir, "latchkey")
		// The loadtest tag turns rate limiting off: the binary has no flag for it.
		build := exec.CommandContext(startCtx, "go", "build", "-tags", "loadtest", "-o", bin, "./cmd/latchkey")
		build.Dir = o.ModuleDir
		if out, err := build.CombinedOutput(); err != nil {
			return fail(fmt.Errorf("building latchkey: %w\n%s", err, out))
		}
	}
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir}
	if o.Database != "" {
		args = append(args, "--database", o.Database)
	}
	args = append(args, o.Args...)

	logPath := filepath.Join(dir, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return fail(fmt.Errorf("creating server log: %w", err))
	}
	// Not CommandContext: the server must outlive the start timeout.
	cmd := exec.Command(bin, args...)
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logFile.Close()
		return fail(fmt.Errorf("server stdout: %w", err))
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fail(fmt.Errorf("starting latchkey: %w", err))
	}
	s := &Server{PID: cmd.Process.Pid, Dir: dir, LogPath: logPath, cmd: cmd, exited: make(chan error, 1)}

	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), listeningPrefix); ok {
				select {
				case urlc <- strings.TrimSpace(u):
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		s.exited <- cmd.Wait()
		logFile.Close()
	}()
	select {
	case s.URL = <-urlc:
	case err := <-s.exited:
		s.exited <- err
		return fail(fmt.Errorf("latchkey exited before listening (%v):\n%s", err, tail(logPath)))
	case <-startCtx.Done():
		s.kill()
		return fail(fmt.Errorf("latchkey did not report its URL within %s:\n%s", timeout, tail(logPath)))
	}
	if err := CheckLoopback(s.URL); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// Memory returns the server's current (VmRSS) and peak (VmHWM) resident
// memory in bytes.
func (s *Server) Memory() (rss, peak uint64, err error) {
	return ProcessMemory(s.PID)
}

// Stop interrupts the server, kills it if it has not ended within 20 s,
// and removes its data directory.
func (s *Server) Stop() error {
	defer os.RemoveAll(s.Dir)
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.kill()
		return fmt.Errorf("interrupting latchkey: %w", err)
	}
	select {
	case err := <-s.exited:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("latchkey exited with %w", err)
		}
		return nil
	case <-time.After(20 * time.Second):
		s.kill()
		return fmt.Errorf("latchkey did not stop within 20s; killed")
	}
}

func (s *Server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// tail returns the last lines of the server log, for a failed start.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(len(lines)-20, 0):], "\n")
}

// ProcessMemory reads VmRSS and VmHWM of a process from /proc.
func ProcessMemory(pid int) (rss, peak uint64, err error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, 0, fmt.Errorf("reading process status: %w", err)
	}
	return parseStatusMemory(string(b))
}

// parseStatusMemory extracts VmRSS and VmHWM (reported in kB) from the
// text of /proc/<pid>/status.
func parseStatusMemory(status string) (rss, peak uint64, err error) {
	var haveRSS, havePeak bool
	for line := range strings.Lines(status) {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		num, ok := strings.CutSuffix(strings.TrimSpace(v), " kB")
		if !ok {
			return 0, 0, fmt.Errorf("%s: unexpected unit in %q", k, strings.TrimSpace(v))
		}
		n, err := strconv.ParseUint(strings.TrimSpace(num), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", k, err)
		}
		if k == "VmRSS" {
			rss, haveRSS = n*1024, true
		} else {
			peak, havePeak = n*1024, true
		}
	}
	if !haveRSS || !havePeak {
		return 0, 0, fmt.Errorf("process status without VmRSS and VmHWM")
	}
	return rss, peak, nil
}
