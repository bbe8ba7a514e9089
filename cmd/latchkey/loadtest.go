//go:build loadtest

package main

import (
	"context"
	"io"

	"github.com/latchkey/latchkey/internal/app"
)

// A load-test build measures the server, not the rate limiter: every
// limit and the login back-off are off, and the server says so in its log
// at start. Never deploy one. cmd/loadtest --start builds it this way.
func init() {
	run = func(ctx context.Context, args, environ []string, stdin io.Reader, stdout, stderr io.Writer) error {
		return app.RunWith(ctx, args, environ, stdin, stdout, stderr, app.TestHooks{DisableRateLimits: true})
	}
}
