// Package apptest starts a real latchkey server — the same app.Run the
// binary calls — on a random loopback port, for end-to-end tests.
package apptest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/app"
	"github.com/latchkey/latchkey/internal/testenv"
)

// Instance is a running server.
type Instance struct {
	URL     string
	DataDir string
	Client  *http.Client
	logs    *testenv.LogBuffer
	cancel  context.CancelFunc
	done    chan error
}

// FastHashing are argon2id settings for tests: the real parameters would
// make a suite of hundreds of logins slow under the race detector. One
// test covers the real defaults.
var FastHashing = []string{"--password-hash-memory", "64", "--password-hash-iterations", "1"}

// Options change how StartWith runs the server. The zero value is what
// Start does.
type Options struct {
	// Dir is the data directory (to restart on the same data); empty
	// means a fresh temporary one.
	Dir string
	// Env are extra environment entries ("NAME=value"), e.g.
	// LATCHKEY_OAUTH_* provider settings, given after the test process's
	// own environment.
	Env []string
	// RateLimits turns rate limiting on. It is off by default: most tests
	// sign up far more accounts from 127.0.0.1 than a real client would.
	RateLimits bool
	// RateLimitScale multiplies every rate-limit period and back-off time
	// (0.1 lets a test watch a 30 s lock pass in 3 s); 0 means 1. It
	// implies RateLimits.
	RateLimitScale float64
	// MailPollInterval, MailFirstRetry, MailMaxRetry and MailLease shorten
	// the mail sender's polling, retry backoff and lease (app.TestHooks);
	// 0 keeps the defaults (5s; 30s doubling to 1h; 2m).
	MailPollInterval time.Duration
	MailFirstRetry   time.Duration
	MailMaxRetry     time.Duration
	MailLease        time.Duration
}

// Start runs `latchkey serve` with a fresh data directory (SQLite unless
// args name a database), rate limits off, and stops it when the test ends.
func Start(t testing.TB, args ...string) *Instance {
	t.Helper()
	return StartWith(t, Options{}, args...)
}

// StartEnv is Start with extra environment entries (Options.Env).
func StartEnv(t testing.TB, env []string, args ...string) *Instance {
	t.Helper()
	return StartWith(t, Options{Env: env}, args...)
}

// StartIn is Start with a given data directory (to restart on the same data).
func StartIn(t testing.TB, dir string, args ...string) *Instance {
	t.Helper()
	return StartWith(t, Options{Dir: dir}, args...)
}

// StartWith is Start with options. The rate-limit options are given to
// app.RunWith, not as flags: the binary has no flag for them.
func StartWith(t testing.TB, o Options, args ...string) *Instance {
	t.Helper()
	dir := o.Dir
	if dir == "" {
		dir = t.TempDir()
	}
	all := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--log-level", "debug"}, FastHashing...)
	all = append(all, args...)
	hooks := app.TestHooks{DisableRateLimits: !o.RateLimits && o.RateLimitScale == 0, RateLimitScale: o.RateLimitScale,
		MailPollInterval: o.MailPollInterval, MailFirstRetry: o.MailFirstRetry, MailMaxRetry: o.MailMaxRetry, MailLease: o.MailLease}
	ctx, cancel := context.WithCancel(context.Background())
	stdoutR, stdoutW := io.Pipe()
	inst := &Instance{DataDir: dir, logs: &testenv.LogBuffer{}, cancel: cancel, done: make(chan error, 1),
		Client: &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}}
	environ := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LATCHKEY_") || strings.HasPrefix(kv, "LATCHKEY_TEST_") {
			environ = append(environ, kv)
		}
	}
	environ = append(environ, o.Env...)
	go func() {
		err := app.RunWith(ctx, all, environ, strings.NewReader(""), stdoutW, inst.logs, hooks)
		stdoutW.CloseWithError(io.EOF)
		inst.done <- err
	}()
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdoutR)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "latchkey listening on "); ok {
				urlc <- u
			}
		}
	}()
	select {
	case inst.URL = <-urlc:
	case err := <-inst.done:
		t.Fatalf("latchkey did not start: %v\n%s", err, inst.logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("latchkey did not start within 60s\n%s", inst.logs.String())
	}
	t.Cleanup(func() { inst.Stop(t) })
	return inst
}

// Stop shuts the server down and waits for it.
func (i *Instance) Stop(t testing.TB) {
	if i.cancel == nil {
		return
	}
	i.cancel()
	i.cancel = nil
	select {
	case err := <-i.done:
		if err != nil {
			t.Errorf("latchkey exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("latchkey did not stop within 30s")
	}
	if t.Failed() {
		t.Logf("server log:\n%s", i.logs.String())
	}
}

// Logs returns everything the server logged so far.
func (i *Instance) Logs() string { return i.logs.String() }

// Response is a finished request.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a map.
func (r *Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// String returns the field of a JSON body as a string.
func (r *Response) String(t testing.TB, field string) string {
	t.Helper()
	v, _ := r.JSON(t)[field].(string)
	return v
}

// Do sends a request. body may be nil, a string or []byte (sent as is), or
// anything else (sent as JSON). headers are name, value pairs; a JSON body
// gets Content-Type: application/json unless headers set one.
func (i *Instance) Do(t testing.TB, method, path string, body any, headers ...string) *Response {
	t.Helper()
	var rd io.Reader
	isJSON := false
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd, isJSON = bytes.NewReader(data), true
	}
	req, err := http.NewRequest(method, i.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if isJSON {
		req.Header.Set("Content-Type", "application/json")
	}
	for k := 0; k+1 < len(headers); k += 2 {
		req.Header.Set(headers[k], headers[k+1])
	}
	resp, err := i.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}
