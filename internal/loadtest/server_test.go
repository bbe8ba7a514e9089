package loadtest

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeBinary writes a script that behaves like `latchkey serve` as far as
// StartServer can see: it records its arguments, prints the listening line
// and runs until interrupted.
func fakeBinary(t *testing.T, listening string) (bin, argsFile string) {
	t.Helper()
	dir := t.TempDir()
	bin, argsFile = filepath.Join(dir, "latchkey"), filepath.Join(dir, "args")
	script := "#!/bin/sh\necho \"$@\" > " + argsFile + "\necho 'starting' >&2\necho '" + listening + "'\nexec sleep 30\n"
	if err := os.WriteFile(bin, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return bin, argsFile
}

func TestStartServerReadsURLAndPassesFlags(t *testing.T) {
	bin, argsFile := fakeBinary(t, "latchkey listening on http://127.0.0.1:45678")
	s, err := StartServer(t.Context(), StartOptions{Binary: bin, Database: "postgres://x@127.0.0.1/db",
		Args: []string{"--signing-alg", "EdDSA"}, StartTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if s.URL != "http://127.0.0.1:45678" {
		t.Errorf("URL %q", s.URL)
	}
	if _, _, err := s.Memory(); err != nil {
		t.Errorf("reading the server's memory: %v", err)
	}
	args, _ := os.ReadFile(argsFile)
	want := "serve --addr 127.0.0.1:0 --data-dir " + s.Dir + " --database postgres://x@127.0.0.1/db --signing-alg EdDSA"
	if strings.TrimSpace(string(args)) != want {
		t.Errorf("server args\n got %s\nwant %s", args, want)
	}
	// sleep dies of the interrupt rather than exiting cleanly, so Stop's
	// error is expected; the process must be gone and the directory removed.
	_ = s.Stop()
	if err := syscall.Kill(s.PID, 0); err == nil {
		t.Errorf("server process %d still running", s.PID)
	}
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Errorf("data directory left behind: %v", err)
	}
}

func TestStartServerReportsEarlyExit(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "latchkey")
	os.WriteFile(bin, []byte("#!/bin/sh\necho 'invalid --database: bad' >&2\nexit 1\n"), 0o700)
	_, err := StartServer(t.Context(), StartOptions{Binary: bin, StartTimeout: 10 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "invalid --database") {
		t.Errorf("err = %v, want the server's own message", err)
	}
}

func TestStartServerRefusesNonLoopbackURL(t *testing.T) {
	bin, _ := fakeBinary(t, "latchkey listening on http://203.0.113.9:8080")
	if _, err := StartServer(t.Context(), StartOptions{Binary: bin, StartTimeout: 10 * time.Second}); err == nil {
		t.Error("a server listening off loopback was accepted")
	}
}
