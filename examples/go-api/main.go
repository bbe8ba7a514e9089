// Command go-api is a small API protected by latchkey: every route needs a
// latchkey access token or API key, /admin needs the role "admin", and
// POST /notes needs the scope "notes:write" (unscoped credentials have it).
//
//	LATCHKEY_ISSUER=http://127.0.0.1:8080 LATCHKEY_INTROSPECTION_KEY=lk_… go run ./examples/go-api
//
// Access tokens are checked locally against latchkey's JWKS. API keys are
// checked with latchkey's introspection endpoint, which this API calls with
// an API key of its own: the key of a service account, a latchkey user that
// exists only to hold it, so that no person's account stands behind it.
//
// See README.md in this directory.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/latchkey/latchkey/verify"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "go-api:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	issuer := getenv("LATCHKEY_ISSUER")
	if issuer == "" {
		issuer = "http://127.0.0.1:8080"
	}
	addr := getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:9090"
	}
	v, err := newVerifier(issuer, getenv, logger)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Addr:              addr,
		Handler:           v.Middleware(routes()),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	logger.Info("go-api listening", "addr", "http://"+addr, "issuer", issuer)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newVerifier configures the verify package for this API. Its HTTP client
// explains the one failure of introspection that the operator must fix by
// hand: latchkey refusing this service's own key.
func newVerifier(issuer string, getenv func(string) string, logger *slog.Logger) (*verify.Verifier, error) {
	key := getenv("LATCHKEY_INTROSPECTION_KEY") // this service's own credential
	if key == "" {
		logger.Warn("LATCHKEY_INTROSPECTION_KEY is not set: API keys will be refused; access tokens still work")
	}
	return verify.New(verify.Config{
		Issuer:           issuer,
		Audience:         getenv("LATCHKEY_AUDIENCE"), // empty: "latchkey"
		IntrospectionKey: key,
		HTTPClient: &http.Client{
			Timeout:   10 * time.Second,
			Transport: introspectionDiagnostics{next: http.DefaultTransport, logger: logger},
		},
		Logger: logger,
	})
}

// introspectionDiagnostics logs why latchkey refused this service's
// introspection key. Without it the operator sees only that introspection
// failed with a status, while every request with an API key gets 503.
type introspectionDiagnostics struct {
	next   http.RoundTripper
	logger *slog.Logger
}

func (d introspectionDiagnostics) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := d.next.RoundTrip(r)
	if err != nil || !strings.HasSuffix(r.URL.Path, "/v1/introspect") {
		return resp, err
	}
	const fix = "Create a new key with: latchkey apikey create --user <service account> --name go-api --scope introspect"
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		d.logger.Error(fmt.Sprintf("the introspection key was refused (%d): is it revoked, or its owner (the service account) disabled or deleted? "+
			"%s (after latchkey user update <service account> --enable, if it was disabled)", resp.StatusCode, fix), "url", r.URL.String())
	case http.StatusForbidden:
		d.logger.Error(fmt.Sprintf("the introspection key was refused (%d): it lacks the scope \"introspect\". %s",
			resp.StatusCode, fix), "url", r.URL.String())
	}
	return resp, nil
}

// routes lists every route; the verify middleware wraps them all.
func routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /whoami", http.HandlerFunc(whoami))
	mux.Handle("GET /admin", verify.RequireRole("admin")(http.HandlerFunc(admin)))
	mux.Handle("POST /notes", verify.RequireScope("notes:write")(http.HandlerFunc(createNote)))
	return mux
}

// whoami answers any authenticated caller with what latchkey says about them.
func whoami(w http.ResponseWriter, r *http.Request) {
	id, _ := verify.FromContext(r.Context())
	encode(w, http.StatusOK, map[string]any{
		"user_id": id.UserID, "kind": id.Kind, "roles": id.Roles, "scopes": id.Scopes,
		"session_id": id.SessionID, "api_key_id": id.APIKeyID,
	})
}

func admin(w http.ResponseWriter, r *http.Request) {
	encode(w, http.StatusOK, map[string]string{"message": "welcome, administrator"})
}

func createNote(w http.ResponseWriter, r *http.Request) {
	id, _ := verify.FromContext(r.Context())
	encode(w, http.StatusCreated, map[string]string{"message": "note saved", "owner": id.UserID})
}

func encode(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
