package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"slices"
)

// op is one measured request of one worker. An op may keep state between
// calls (the refresh chain); the runner never calls one op concurrently.
type op func(ctx context.Context) Outcome

// scenario prepares, outside the measurement, one op per worker.
type scenario func(ctx context.Context, e *env, workers int) ([]op, error)

// env is what scenarios share within one run.
type env struct {
	c    *Client
	pool *pool
}

// ScenarioNames lists every scenario, in the order a run measures them.
var ScenarioNames = []string{"signup", "login", "refresh", "me-token", "me-apikey", "verify", "healthz"}

var scenarios = map[string]scenario{
	"signup":    prepareSignup,
	"login":     prepareLogin,
	"refresh":   prepareRefresh,
	"me-token":  prepareMeToken,
	"me-apikey": prepareMeAPIKey,
	"verify":    prepareVerify,
	"healthz":   prepareHealthz,
}

// CheckScenarios reports an unknown scenario name.
func CheckScenarios(names []string) error {
	for _, n := range names {
		if _, ok := scenarios[n]; !ok {
			return fmt.Errorf("unknown scenario %q (known: %v)", n, ScenarioNames)
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("no scenario given")
	}
	return nil
}

// hashBound reports whether a scenario's rate is bounded by password
// hashing; token-authenticated ones are compared with /healthz instead.
func hashBound(name string) bool { return name == "signup" || name == "login" }

func tokenAuthenticated(name string) bool {
	return slices.Contains([]string{"me-token", "me-apikey", "verify"}, name)
}

// prepareSignup: every request creates a new account with a unique email.
func prepareSignup(_ context.Context, e *env, workers int) ([]op, error) {
	ops := make([]op, workers)
	for w := range ops {
		n := 0
		ops[w] = func(ctx context.Context) Outcome {
			n++
			email := fmt.Sprintf("signup-%s-%d-%d@example.com", e.pool.runID, w, n)
			_, o := e.c.signup(ctx, email, e.pool.password)
			return o
		}
	}
	return ops, nil
}

// prepareLogin: each worker logs its own pre-created user in, again and again.
func prepareLogin(ctx context.Context, e *env, workers int) ([]op, error) {
	if err := e.pool.ensure(ctx, workers); err != nil {
		return nil, err
	}
	ops := make([]op, workers)
	for w := range ops {
		u := e.pool.users[w]
		ops[w] = func(ctx context.Context) Outcome {
			_, o := e.c.login(ctx, u.email, u.password)
			return o
		}
	}
	return ops, nil
}

// prepareRefresh: each worker follows its own chain, presenting the
// refresh token the previous call returned. A failed refresh leaves the
// chain's state unknown, so the next call starts a new one by logging in
// (that login is then part of the measured call; a healthy run has none).
func prepareRefresh(ctx context.Context, e *env, workers int) ([]op, error) {
	if err := e.pool.ensure(ctx, workers); err != nil {
		return nil, err
	}
	ops := make([]op, workers)
	for w := range ops {
		u := e.pool.users[w]
		ops[w] = func(ctx context.Context) Outcome {
			if u.broken {
				if err := e.pool.relogin(ctx, u); err != nil {
					return Outcome{Err: err}
				}
			}
			tr, o := e.c.refresh(ctx, u.refresh)
			if !o.OK() {
				u.broken = true
				return o
			}
			u.access, u.refresh = tr.AccessToken, tr.RefreshToken
			return o
		}
	}
	return ops, nil
}

// freshUsers returns workers users, each with an access token just issued,
// so a long run never measures expired tokens.
func freshUsers(ctx context.Context, e *env, workers int) ([]*user, error) {
	if err := e.pool.ensure(ctx, workers); err != nil {
		return nil, err
	}
	users := e.pool.users[:workers]
	for _, u := range users {
		if err := e.pool.renew(ctx, u); err != nil {
			return nil, err
		}
	}
	return users, nil
}

// prepareMeToken: GET /v1/me with a bearer access token.
func prepareMeToken(ctx context.Context, e *env, workers int) ([]op, error) {
	users, err := freshUsers(ctx, e, workers)
	if err != nil {
		return nil, err
	}
	return perUser(users, func(u *user) request {
		return request{method: http.MethodGet, path: "/v1/me", bearer: u.access}
	}, e.c), nil
}

// prepareMeAPIKey: GET /v1/me with X-API-Key, one key per worker.
func prepareMeAPIKey(ctx context.Context, e *env, workers int) ([]op, error) {
	users, err := freshUsers(ctx, e, workers)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if u.apiKey != "" {
			continue
		}
		key, o := e.c.createAPIKey(ctx, u.access)
		if !o.OK() {
			return nil, outcomeError("creating API key", o)
		}
		u.apiKey = key
	}
	return perUser(users, func(u *user) request {
		return request{method: http.MethodGet, path: "/v1/me", apiKey: u.apiKey}
	}, e.c), nil
}

// prepareVerify: forward auth, GET /v1/verify with a bearer access token.
func prepareVerify(ctx context.Context, e *env, workers int) ([]op, error) {
	users, err := freshUsers(ctx, e, workers)
	if err != nil {
		return nil, err
	}
	return perUser(users, func(u *user) request {
		return request{method: http.MethodGet, path: "/v1/verify", bearer: u.access}
	}, e.c), nil
}

// prepareHealthz: GET /healthz, the floor every other scenario is held to.
func prepareHealthz(_ context.Context, e *env, workers int) ([]op, error) {
	users := make([]*user, workers)
	return perUser(users, func(*user) request {
		return request{method: http.MethodGet, path: "/healthz"}
	}, e.c), nil
}

// perUser makes one op per user that sends the same request each time.
func perUser(users []*user, mk func(*user) request, c *Client) []op {
	ops := make([]op, len(users))
	for i, u := range users {
		r := mk(u)
		ops[i] = func(ctx context.Context) Outcome { return c.do(ctx, r) }
	}
	return ops
}
