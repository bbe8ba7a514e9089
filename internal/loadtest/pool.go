package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"
)

// user is one account of the fixture; worker i owns user i for the whole
// run, so its session chain is never touched by two goroutines at once.
type user struct {
	email, password string
	access, refresh string
	apiKey          string
	// broken is set when a refresh failed: the chain's next token is
	// unknown, so the next use logs in again.
	broken bool
}

// pool holds the accounts the login, refresh, me-* and verify scenarios
// use, created once per run and grown on demand.
type pool struct {
	c        *Client
	runID    string
	password string
	users    []*user
}

// setupParallelism bounds concurrent setup signups: each costs an argon2id
// hash on the server, which refuses work beyond its hashing bound.
const setupParallelism = 4

// ensure creates accounts until there are at least n.
func (p *pool) ensure(ctx context.Context, n int) error {
	start := len(p.users)
	if n <= start {
		return nil
	}
	fresh := make([]*user, n-start)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(setupParallelism)
	for i := range fresh {
		g.Go(func() error {
			u := &user{email: fmt.Sprintf("pool-%s-%d@example.com", p.runID, start+i), password: p.password}
			var tr tokenResponse
			o := withRetry(ctx, func() Outcome {
				var o Outcome
				tr, o = p.c.signup(ctx, u.email, u.password)
				return o
			})
			if !o.OK() {
				return outcomeError("creating load-test user", o)
			}
			u.access, u.refresh = tr.AccessToken, tr.RefreshToken
			fresh[i] = u
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	p.users = append(p.users, fresh...)
	return nil
}

// renew gives u a fresh access token outside the measurement: one refresh
// of its chain, or a new login when the chain is broken or refused.
func (p *pool) renew(ctx context.Context, u *user) error {
	if !u.broken {
		tr, o := p.c.refresh(ctx, u.refresh)
		if o.OK() {
			u.access, u.refresh = tr.AccessToken, tr.RefreshToken
			return nil
		}
	}
	return p.relogin(ctx, u)
}

func (p *pool) relogin(ctx context.Context, u *user) error {
	var tr tokenResponse
	o := withRetry(ctx, func() Outcome {
		var o Outcome
		tr, o = p.c.login(ctx, u.email, u.password)
		return o
	})
	if !o.OK() {
		return outcomeError("logging load-test user in", o)
	}
	u.access, u.refresh, u.broken = tr.AccessToken, tr.RefreshToken, false
	return nil
}

// withRetry repeats a setup call the server refused for load (429, 503)
// or could not answer, with a growing pause, until ctx ends or it has
// tried enough.
func withRetry(ctx context.Context, call func() Outcome) Outcome {
	var o Outcome
	for attempt := 1; attempt <= 30; attempt++ {
		o = call()
		retryable := o.Err != nil && !isBadResponse(o) ||
			o.Status == http.StatusTooManyRequests || o.Status == http.StatusServiceUnavailable
		if !retryable {
			return o
		}
		select {
		case <-ctx.Done():
			return o
		case <-time.After(min(time.Duration(attempt)*50*time.Millisecond, time.Second)):
		}
	}
	return o
}

func isBadResponse(o Outcome) bool { return o.Err != nil && o.Kind() == "bad_response" }
