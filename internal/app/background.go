package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/latchkey/latchkey/internal/janitor"
)

// startBackground starts the server's long-running loops: signing-key
// reload and rotation, the Redis probes, the revocation channel, the
// profiler (when asked for), last-use batching of API keys, the janitor
// and the mail sender. The returned stop ends them and waits for those that write to
// the database, so the store can be closed after it.
func (c *components) startBackground(ctx context.Context, logger *slog.Logger) (stop func(), err error) {
	cfg := c.cfg
	bg, cancel := context.WithCancel(ctx)
	var writers sync.WaitGroup
	go c.keys.Run(bg, cfg.KeyReloadInterval, cfg.KeyRotation)
	go c.limits.run(bg)
	go c.rev.run(bg)
	c.rev.awaitUp(ctx, 2*time.Second)
	if err := startPprof(bg, cfg.PprofAddr, logger); err != nil {
		cancel()
		return nil, err
	}
	writers.Go(func() { _ = c.apiKeys.Run(bg) }) // flushes pending last-used times when stopped
	writers.Go(func() { janitor.New(c.store, cfg.AuditRetention, c.clock, logger).Run(bg, janitor.Interval) })
	writers.Go(func() { c.sender.Run(bg) }) // finishes and records a delivery under way when stopped
	return func() { cancel(); writers.Wait() }, nil
}
