package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/apptest"
)

// A distributed guess — one account, 40 addresses — is stopped by the
// per-account rule and the back-off (RL-01).
func TestRateLimitOneAccountManyAddresses(t *testing.T) {
	forEachBackend(t, func(t *testing.T, args []string) {
		srv := apptest.StartWith(t, limited, args...)
		signup(t, srv, "victim@example.com")
		var last *apptest.Response
		refused := 0
		for i := range 40 {
			last = login(t, srv, "victim@example.com", fmt.Sprintf("wrong guess %d", i), "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1))
			switch last.Status {
			case 401:
				if refused > 0 {
					t.Fatalf("attempt %d: 401 after a 429: the limit let a guess through", i+1)
				}
			case 429:
				refused++
			default:
				t.Fatalf("attempt %d: %d %s", i+1, last.Status, last.Body)
			}
		}
		if refused < 29 {
			t.Errorf("only %d of 40 guesses refused", refused)
		}
		checkRateLimited(t, last)
		limited := auditEvents(t, srv, latchkey.AuditRateLimited)
		if len(limited) == 0 {
			t.Fatal("no rate_limited audit event")
		}
		if limited[0].Reason == "" || limited[0].Outcome != latchkey.OutcomeFailure {
			t.Errorf("rate_limited event = %+v", limited[0])
		}
	})
}

// A spray — 40 accounts from one address — is stopped by the per-IP rule.
func TestRateLimitManyAccountsOneAddress(t *testing.T) {
	forEachBackend(t, func(t *testing.T, args []string) {
		srv := apptest.StartWith(t, limited, args...)
		var last *apptest.Response
		for i := range 40 {
			last = login(t, srv, fmt.Sprintf("user%d@example.com", i), "wrong password")
			if i < 30 && last.Status != 401 {
				t.Fatalf("attempt %d: %d %s", i+1, last.Status, last.Body)
			}
		}
		checkRateLimited(t, last)
		if !strings.Contains(last.Header.Get("RateLimit"), `"login-ip";r=0`) {
			t.Errorf("RateLimit %q does not name login-ip", last.Header.Get("RateLimit"))
		}
		var reasons []string
		for _, e := range auditEvents(t, srv, latchkey.AuditRateLimited) {
			reasons = append(reasons, e.Reason)
			if e.IP != "127.0.0.1" {
				t.Errorf("audit ip %q", e.IP)
			}
		}
		if !strings.Contains(strings.Join(reasons, ","), "login-ip") {
			t.Errorf("rate_limited reasons %v", reasons)
		}
	})
}

// A locked account gets in again once the wait passes, waits grow with
// repeated failure, and while locked the right password, a wrong one and an
// unknown account all get the same answer (AUTH-08, RL-05). Times are
// scaled down to a tenth: the first lock is 3 s instead of 30 s.
func TestRateLimitBackoff(t *testing.T) {
	forEachBackend(t, func(t *testing.T, args []string) {
		srv := apptest.StartWith(t, apptest.Options{RateLimitScale: 0.1}, args...)
		signup(t, srv, "owner@example.com")
		lockOut := func(email string) {
			t.Helper()
			for i := range 6 {
				if r := login(t, srv, email, "wrong password"); r.Status != 401 {
					t.Fatalf("%s failure %d: %d %s", email, i+1, r.Status, r.Body)
				}
			}
		}
		lockOut("owner@example.com")
		lockOut("nobody@example.com")

		right := login(t, srv, "owner@example.com", goodPassword)
		wrong := login(t, srv, "owner@example.com", "wrong password")
		unknown := login(t, srv, "nobody@example.com", "wrong password")
		first := checkRateLimited(t, right)
		for _, r := range []*apptest.Response{wrong, unknown} {
			checkRateLimited(t, r)
			a, b := right.JSON(t), r.JSON(t)
			for _, f := range []string{"type", "title", "status", "code"} {
				if a[f] != b[f] {
					t.Errorf("locked answers differ in %s: %v vs %v", f, a[f], b[f])
				}
			}
			if len(r.Body) != len(right.Body) {
				t.Errorf("locked answers differ: %s vs %s", r.Body, right.Body)
			}
		}

		// After the wait one more failure locks for twice as long.
		time.Sleep(time.Duration(first) * time.Second)
		r := login(t, srv, "owner@example.com", "wrong password")
		waitFor(t, 5*time.Second, "the first lock to end", func() bool {
			if r.Status == 429 {
				time.Sleep(200 * time.Millisecond)
				r = login(t, srv, "owner@example.com", "wrong password")
			}
			return r.Status != 429
		})
		if r.Status != 401 {
			t.Fatalf("after the lock: %d %s", r.Status, r.Body)
		}
		second := checkRateLimited(t, login(t, srv, "owner@example.com", goodPassword))
		if second <= first {
			t.Errorf("waits do not grow: %d s then %d s", first, second)
		}

		time.Sleep(time.Duration(second) * time.Second)
		ok := login(t, srv, "owner@example.com", goodPassword)
		waitFor(t, 5*time.Second, "the second lock to end", func() bool {
			if ok.Status == 429 {
				time.Sleep(200 * time.Millisecond)
				ok = login(t, srv, "owner@example.com", goodPassword)
			}
			return ok.Status != 429
		})
		if ok.Status != 200 {
			t.Fatalf("the owner cannot sign in after the wait: %d %s", ok.Status, ok.Body)
		}
		// Success forgets the failures: one typo now costs nothing.
		if r := login(t, srv, "owner@example.com", "wrong password"); r.Status != 401 {
			t.Errorf("failure after success: %d", r.Status)
		}
	})
}

// Under a parallel burst no more guesses reach the password check than the
// per-account limit allows (RL-03).
func TestRateLimitParallelBurst(t *testing.T) {
	forEachBackend(t, func(t *testing.T, args []string) {
		srv := apptest.StartWith(t, limited, args...)
		user := signup(t, srv, "burst@example.com")["user"].(map[string]any)["id"].(string)
		var wg sync.WaitGroup
		statuses := make([]int, 100)
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("POST", srv.URL+"/v1/auth/login",
					strings.NewReader(`{"email":"burst@example.com","password":"wrong password"}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
				resp, err := srv.Client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				statuses[i] = resp.StatusCode
			}()
		}
		wg.Wait()
		counts := map[int]int{}
		for _, s := range statuses {
			counts[s]++
		}
		checked := 0
		for _, e := range auditEvents(t, srv, latchkey.AuditLoginFailed) {
			if e.UserID == user {
				checked++
			}
		}
		const limit = 10 // login-account burst
		if checked > limit || counts[401] > limit || checked != counts[401] {
			t.Errorf("%d passwords checked, statuses %v; at most %d may be", checked, counts, limit)
		}
		if counts[429] < 100-limit || counts[401] == 0 {
			t.Errorf("statuses %v", counts)
		}
	})
}

// Two instances sharing one Redis enforce one limit between them.
func TestRateLimitSharedBetweenInstances(t *testing.T) {
	t.Parallel()
	args := append(append([]string{}, limitsOn...), "--redis", redisURL(t), "--redis-prefix", redisPrefix())
	a, b := apptest.StartWith(t, limited, args...), apptest.StartWith(t, limited, args...)
	for i := range 30 {
		srv := []*apptest.Instance{a, b}[i%2]
		if r := login(t, srv, fmt.Sprintf("spray%d@example.com", i), "wrong password"); r.Status != 401 {
			t.Fatalf("attempt %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	// Each instance has seen only 15, yet both refuse now.
	for _, srv := range []*apptest.Instance{a, b} {
		r := login(t, srv, "one-more@example.com", "wrong password")
		checkRateLimited(t, r)
	}
}

// When Redis stops, limits stay enforced in memory and /readyz says so;
// when it returns, the instance is ready again.
func TestRateLimitRedisOutage(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	stop := ownRedis(t, port)
	srv := apptest.StartWith(t, limited, append(append([]string{}, limitsOn...), "--redis", fmt.Sprintf("redis://127.0.0.1:%d/0", port))...)
	if r := srv.Do(t, "GET", "/readyz", nil); r.Status != 200 {
		t.Fatalf("readyz with Redis up: %d %s", r.Status, r.Body)
	}
	if r := login(t, srv, "before@example.com", "wrong password"); r.Status != 401 {
		t.Fatalf("login with Redis up: %d", r.Status)
	}
	stop()

	var last *apptest.Response
	for i := range 40 {
		last = login(t, srv, fmt.Sprintf("outage%d@example.com", i), "wrong password")
		if last.Status != 401 && last.Status != 429 {
			t.Fatalf("attempt %d during the outage: %d %s", i+1, last.Status, last.Body)
		}
	}
	checkRateLimited(t, last)
	ready := srv.Do(t, "GET", "/readyz", nil)
	if ready.Status != 503 || !strings.Contains(strings.ToLower(string(ready.Body)), "redis") {
		t.Errorf("readyz during the outage: %d %s", ready.Status, ready.Body)
	}
	if m := srv.Do(t, "GET", "/metrics", nil); !strings.Contains(string(m.Body), "latchkey_redis_healthy 0") {
		t.Error("metrics do not report Redis down")
	}
	if !strings.Contains(strings.ToLower(srv.Logs()), "redis") {
		t.Error("the outage was not logged")
	}

	ownRedis(t, port)
	waitFor(t, 15*time.Second, "readyz to recover", func() bool {
		return srv.Do(t, "GET", "/readyz", nil).Status == 200
	})
	if m := srv.Do(t, "GET", "/metrics", nil); !strings.Contains(string(m.Body), "latchkey_redis_healthy 1") {
		t.Error("metrics do not report Redis back")
	}
}

// X-Forwarded-For, X-Real-IP and Forwarded from an untrusted peer change
// nothing: the per-IP limit still hits, and the audit log records the
// socket address (RL-02, AUTH-05).
func TestRateLimitIgnoresSpoofedHeaders(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			srv := apptest.StartWith(t, limited, b.args(t)...)
			var last *apptest.Response
			for i := range 40 {
				spoof := fmt.Sprintf("192.0.2.%d", i+1)
				last = login(t, srv, fmt.Sprintf("spoof%d@example.com", i), "wrong password",
					"X-Forwarded-For", spoof, "X-Real-IP", spoof, "Forwarded", "for="+spoof, "True-Client-IP", spoof)
			}
			checkRateLimited(t, last)
			for _, typ := range []string{latchkey.AuditLoginFailed, latchkey.AuditRateLimited} {
				events := auditEvents(t, srv, typ)
				if len(events) == 0 {
					t.Errorf("no %s events", typ)
				}
				for _, e := range events {
					if e.IP != "127.0.0.1" {
						t.Fatalf("%s recorded ip %q, want the socket address", typ, e.IP)
					}
				}
			}
		})
	}
}

// TestRateLimitOwnerIsNotLockedOut (AUTH-07): failures from
// elsewhere lock the account for unknown clients, but not for the owner's
// device that signed in before, nor for the signed-in owner's password
// change; the owner's device still backs off on its own failures.
func TestRateLimitOwnerIsNotLockedOut(t *testing.T) {
	forEachBackend(t, func(t *testing.T, args []string) {
		srv := apptest.StartWith(t, apptest.Options{RateLimitScale: 0.1}, args...)
		signup(t, srv, "victim@example.com")
		first := login(t, srv, "victim@example.com", goodPassword)
		if first.Status != 200 {
			t.Fatalf("first login: %d %s", first.Status, first.Body)
		}
		var deviceCookie string
		for _, c := range (&http.Response{Header: first.Header}).Cookies() {
			if c.Name == "latchkey_device" {
				deviceCookie = c.Name + "=" + c.Value
				if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
					t.Errorf("device cookie attributes: %+v", c)
				}
			}
		}
		if deviceCookie == "" {
			t.Fatalf("no device cookie after a successful sign-in: %v", first.Header)
		}
		ownerAuth := bearer(first.JSON(t)["access_token"])

		// Someone else guesses until the account locks for unknown clients.
		for i := range 6 {
			if r := login(t, srv, "victim@example.com", "wrong password"); r.Status != 401 {
				t.Fatalf("guess %d: %d %s", i+1, r.Status, r.Body)
			}
		}
		checkRateLimited(t, login(t, srv, "victim@example.com", goodPassword))

		// The owner's device signs in all the same.
		if r := login(t, srv, "victim@example.com", goodPassword, "Cookie", deviceCookie); r.Status != 200 {
			t.Fatalf("owner's device during the lock: %d %s", r.Status, r.Body)
		}
		// A device cookie earned on another account exempts nothing here.
		signup(t, srv, "mallory@example.com")
		other := login(t, srv, "mallory@example.com", goodPassword)
		for _, c := range (&http.Response{Header: other.Header}).Cookies() {
			if c.Name == "latchkey_device" {
				checkRateLimited(t, login(t, srv, "victim@example.com", goodPassword, "Cookie", c.Name+"="+c.Value))
			}
		}
		// The signed-in owner changes the password while the lock holds.
		r := srv.Do(t, "POST", "/v1/me/password", map[string]string{"current_password": goodPassword,
			"new_password": "a brand new passphrase"}, ownerAuth...)
		if r.Status != 204 {
			t.Fatalf("password change during the lock: %d %s", r.Status, r.Body)
		}
		// The owner's device backs off on its own failures.
		for i := range 6 {
			if r := login(t, srv, "victim@example.com", "wrong password", "Cookie", deviceCookie); r.Status != 401 {
				t.Fatalf("device failure %d: %d %s", i+1, r.Status, r.Body)
			}
		}
		checkRateLimited(t, login(t, srv, "victim@example.com", "a brand new passphrase", "Cookie", deviceCookie))
	})
}

// TestRateLimitAPIKeys: minting keys is limited per user, and every key has
// a request quota on latchkey's own routes (AK-10).
func TestRateLimitAPIKeys(t *testing.T) {
	srv := apptest.StartWith(t, limited)
	tok := signup(t, srv, "many-keys@example.com")
	auth := bearer(tok["access_token"])
	var key string
	for i := range 20 {
		key = createKey(t, srv, auth, map[string]any{"name": fmt.Sprintf("key %d", i)})["key"].(string)
	}
	checkRateLimited(t, srv.Do(t, "POST", "/v1/api-keys", map[string]any{"name": "one too many"}, auth...))

	// 3000 requests with one key go through at once; then the key gets its
	// steady 50 per second, and no more.
	start := time.Now()
	var wg sync.WaitGroup
	statuses := make(chan int, 3000)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 150 {
				statuses <- srv.Do(t, "GET", "/v1/me", nil, "X-API-Key", key).Status
			}
		}()
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != 200 {
			t.Fatalf("a request within the quota: %d", s)
		}
	}
	extra := 0
	for ; extra < 2000; extra++ {
		if r := srv.Do(t, "GET", "/v1/me", nil, "X-API-Key", key); r.Status == 429 {
			checkRateLimited(t, r)
			break
		}
	}
	if allowed := 50*time.Since(start).Seconds() + 50; extra >= 2000 || float64(extra) > allowed {
		t.Errorf("%d requests beyond the burst of 3000 went through in %s (at most %.0f expected)", extra, time.Since(start), allowed)
	}
	// Another key of the same user is not affected.
	other := createKey(t, srv, bearer(signup(t, srv, "other-keys@example.com")["access_token"]), map[string]any{"name": "x"})["key"].(string)
	if r := srv.Do(t, "GET", "/v1/me", nil, "X-API-Key", other); r.Status != 200 {
		t.Errorf("another key: %d", r.Status)
	}
}

// TestRateLimitCountsTheCanonicalAccount (AUTH-09): case, spaces and a
// trailing dot do not give a guesser a fresh counter.
func TestRateLimitCountsTheCanonicalAccount(t *testing.T) {
	srv := apptest.StartWith(t, apptest.Options{RateLimits: true, RateLimitScale: 0.1})
	signup(t, srv, "canon@example.com")
	for i, variant := range []string{"canon@example.com", "CANON@EXAMPLE.COM", " canon@example.com ", "Canon@Example.com.", "canon@EXAMPLE.com", "cAnOn@example.com"} {
		if r := login(t, srv, variant, "wrong password"); r.Status != 401 {
			t.Fatalf("guess %d (%q): %d %s", i+1, variant, r.Status, r.Body)
		}
	}
	checkRateLimited(t, login(t, srv, "CANON@example.COM", goodPassword))
}
