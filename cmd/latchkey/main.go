// Command latchkey is the latchkey authentication server and its
// administration commands. See `latchkey help`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/latchkey/latchkey/internal/app"
)

// run is app.Run. A load-test build (go build -tags loadtest) replaces it
// with one that turns rate limiting off; no flag of the normal binary can.
var run = app.Run

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "latchkey:", err)
		os.Exit(app.ExitCode(err))
	}
}
