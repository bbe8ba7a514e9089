package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// NewHTTPClient returns a client tuned so that it is not the bottleneck:
// keep-alive with one idle connection kept per worker, no compression, and
// a per-request timeout.
func NewHTTPClient(concurrency int, timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 2 * concurrency
	tr.MaxIdleConnsPerHost = concurrency
	tr.IdleConnTimeout = 90 * time.Second
	tr.DisableCompression = true
	tr.Proxy = nil // only loopback targets; a proxy setting must not redirect them
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// errBadResponse marks a 2xx answer whose body is not what the contract says.
var errBadResponse = errors.New("bad response")

// Outcome is the result of one request: the HTTP status (0 when there was
// no response) and, for transport failures or malformed answers, an error.
type Outcome struct {
	Status int
	Err    error
}

// OK reports a 2xx answer with a well-formed body.
func (o Outcome) OK() bool { return o.Err == nil && o.Status >= 200 && o.Status < 300 }

// Kind names the error class of a failed outcome: status_<code>,
// bad_response, timeout or transport.
func (o Outcome) Kind() string {
	switch {
	case o.Err == nil:
		return fmt.Sprintf("status_%d", o.Status)
	case errors.Is(o.Err, errBadResponse):
		return "bad_response"
	case isTimeout(o.Err):
		return "timeout"
	default:
		return "transport"
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// Client calls one latchkey server.
type Client struct {
	base string
	hc   *http.Client
}

// NewClient returns a client of the server at base (for example
// http://127.0.0.1:8080).
func NewClient(base string, hc *http.Client) *Client {
	return &Client{base: base, hc: hc}
}

// BaseURL is the server's base URL.
func (c *Client) BaseURL() string { return c.base }

// request is one call: headers to set, a JSON body (nil for none) and
// where to decode a 2xx answer (nil to discard it).
type request struct {
	method, path string
	bearer       string
	apiKey       string
	body         any
	out          any
}

func (c *Client) do(ctx context.Context, r request) Outcome {
	var body io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return Outcome{Err: fmt.Errorf("encoding %s body: %w", r.path, err)}
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.base+r.path, body)
	if err != nil {
		return Outcome{Err: fmt.Errorf("building %s request: %w", r.path, err)}
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	if r.apiKey != "" {
		req.Header.Set("X-API-Key", r.apiKey)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// url.Error repeats the URL, which never holds a secret here, but
		// the bare cause is all the error kinds need.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Outcome{Err: err}
	}
	defer resp.Body.Close()
	out := Outcome{Status: resp.StatusCode}
	if resp.StatusCode/100 != 2 || r.out == nil {
		// Draining lets the connection be reused.
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return Outcome{Status: resp.StatusCode, Err: err}
		}
		return out
	}
	if err := json.NewDecoder(resp.Body).Decode(r.out); err != nil {
		return Outcome{Status: resp.StatusCode, Err: fmt.Errorf("%w: %s: %w", errBadResponse, r.path, err)}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return out
}

// tokenResponse holds the parts of the contract's token response the load
// test needs.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

func (t *tokenResponse) check() error {
	if t.AccessToken == "" || t.RefreshToken == "" {
		return fmt.Errorf("%w: token response without access_token or refresh_token", errBadResponse)
	}
	return nil
}

// tokenCall is a call answered by a token response.
func (c *Client) tokenCall(ctx context.Context, path string, body any) (tokenResponse, Outcome) {
	var tr tokenResponse
	o := c.do(ctx, request{method: http.MethodPost, path: path, body: body, out: &tr})
	if o.OK() {
		if err := tr.check(); err != nil {
			o.Err = err
		}
	}
	return tr, o
}

func (c *Client) signup(ctx context.Context, email, password string) (tokenResponse, Outcome) {
	return c.tokenCall(ctx, "/v1/auth/signup", map[string]string{"email": email, "password": password})
}

func (c *Client) login(ctx context.Context, email, password string) (tokenResponse, Outcome) {
	return c.tokenCall(ctx, "/v1/auth/login", map[string]string{"email": email, "password": password})
}

func (c *Client) refresh(ctx context.Context, refreshToken string) (tokenResponse, Outcome) {
	return c.tokenCall(ctx, "/v1/auth/refresh", map[string]string{"refresh_token": refreshToken})
}

func (c *Client) createAPIKey(ctx context.Context, accessToken string) (string, Outcome) {
	var out struct {
		Key string `json:"key"`
	}
	o := c.do(ctx, request{method: http.MethodPost, path: "/v1/api-keys", bearer: accessToken,
		body: map[string]string{"name": "load"}, out: &out})
	if o.OK() && out.Key == "" {
		o.Err = fmt.Errorf("%w: api key response without key", errBadResponse)
	}
	return out.Key, o
}

// outcomeError turns a failed outcome into an error for setup steps.
func outcomeError(what string, o Outcome) error {
	if o.Err != nil {
		return fmt.Errorf("%s: %w", what, o.Err)
	}
	return fmt.Errorf("%s: HTTP %d", what, o.Status)
}
