package app_test

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// awaitListening waits until something accepts connections on addr (a
// reverse proxy the test started), or fails with what failed() describes.
// exited, when not nil, closes if the process ends early.
func awaitListening(t *testing.T, addr string, exited <-chan struct{}, failed func() string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-exited:
			t.Fatalf("the proxy exited: %s", failed())
		default:
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("the proxy did not start: %s", failed())
}

// through sends a request through a proxy at base and returns the status
// and headers of its answer.
func through(t *testing.T, base, method, path string, headers ...string) (int, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header
}
