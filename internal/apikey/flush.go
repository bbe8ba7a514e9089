package apikey

import (
	"context"
	"fmt"
	"time"
)

// Flush writes the pending last-use times in one TouchAPIKeys call, skipping
// any key written less than TouchInterval ago (its time stays pending for a
// later flush). On failure nothing is marked written, so the next flush tries
// again.
func (v *Verifier) Flush(ctx context.Context) error { return v.flush(ctx, false) }

// Run flushes every TouchInterval until ctx is done, then once more — that
// last time without the once-a-minute limit, so that no use is lost when the
// instance stops.
func (v *Verifier) Run(ctx context.Context) error {
	t := time.NewTicker(TouchInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := v.Flush(ctx); err != nil {
				v.log.ErrorContext(ctx, "API keys: recording last use failed", "err", err)
			}
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			return v.flush(fctx, true)
		}
	}
}

func (v *Verifier) flush(ctx context.Context, final bool) error {
	u := &v.usage
	if u.toucher == nil {
		return nil
	}
	u.flushMu.Lock()
	defer u.flushMu.Unlock()

	// Collect first, without holding u.mu: the cache calls u.orphan while it
	// holds a shard lock, so taking them the other way round could deadlock.
	type pending struct {
		seen    int64
		entries []*entry
	}
	todo := map[string]*pending{}
	if v.cache != nil {
		v.cache.each(func(e *entry) {
			if s := e.pending(); s != 0 {
				p := todo[e.res.Key.ID]
				if p == nil {
					p = &pending{}
					todo[e.res.Key.ID] = p
				}
				p.seen = max(p.seen, s)
				p.entries = append(p.entries, e)
			}
		})
	}
	u.mu.Lock()
	for id, s := range u.orphans {
		p := todo[id]
		if p == nil {
			p = &pending{}
			todo[id] = p
		}
		p.seen = max(p.seen, s)
	}
	u.mu.Unlock()

	now := v.clock()
	for id, at := range u.last {
		if now.Sub(at) >= TouchInterval {
			delete(u.last, id) // no longer holds anything back
		}
	}
	batch := make(map[string]time.Time, len(todo))
	for id, p := range todo {
		if _, recent := u.last[id]; recent && !final {
			delete(todo, id)
			continue
		}
		batch[id] = time.Unix(0, p.seen).UTC()
	}
	if len(batch) == 0 {
		return nil
	}
	if err := u.toucher.TouchAPIKeys(ctx, batch); err != nil {
		return fmt.Errorf("apikey: record last use of %d keys: %w", len(batch), err)
	}

	u.mu.Lock()
	defer u.mu.Unlock()
	for id, p := range todo {
		u.last[id] = now
		for _, e := range p.entries {
			if p.seen > e.written.Load() {
				e.written.Store(p.seen)
			}
		}
		if u.orphans[id] <= p.seen {
			delete(u.orphans, id)
		}
	}
	return nil
}
