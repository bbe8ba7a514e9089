// Command go-api is a small API protected by latchkey: every route needs a
// latchkey access token or API key, /admin needs the role "admin", and
// POST /notes needs the scope "notes:write" (unscoped credentials have it).
//
//	LATCHKEY_ISSUER=http://127.0.0.1:8080 go run ./examples/go-api
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
	v, err := verify.New(verify.Config{
		Issuer:           issuer,
		Audience:         getenv("LATCHKEY_AUDIENCE"),          // empty: "latchkey"
		IntrospectionKey: getenv("LATCHKEY_INTROSPECTION_KEY"), // empty: API keys are refused
		Logger:           logger,
	})
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
