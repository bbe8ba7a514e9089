package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/apptest"
)

const goodPassword = "correct horse battery staple"

// signup creates an account and returns its token response.
func signup(t *testing.T, srv *apptest.Instance, email string) map[string]any {
	t.Helper()
	r := srv.Do(t, "POST", "/v1/auth/signup", map[string]string{"email": email, "password": goodPassword})
	if r.Status != http.StatusCreated {
		t.Fatalf("signup %s: %d %s", email, r.Status, r.Body)
	}
	return r.JSON(t)
}

func bearer(tok any) []string { return []string{"Authorization", "Bearer " + fmt.Sprint(tok)} }

func TestWalkthrough(t *testing.T) {
	srv := apptest.Start(t)
	r := srv.Do(t, "POST", "/v1/auth/signup", map[string]string{"email": " Alice@Example.com ", "password": goodPassword, "name": "Alice"})
	if r.Status != http.StatusCreated {
		t.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("token response Cache-Control = %q", r.Header.Get("Cache-Control"))
	}
	tok := r.JSON(t)
	for _, f := range []string{"access_token", "refresh_token", "session_id"} {
		if s, _ := tok[f].(string); s == "" {
			t.Fatalf("token response lacks %s: %s", f, r.Body)
		}
	}
	if tok["token_type"] != "Bearer" || tok["expires_in"].(float64) != 900 || tok["refresh_expires_in"].(float64) != 7*24*3600 {
		t.Errorf("token response: %s", r.Body)
	}
	user := tok["user"].(map[string]any)
	if user["email"] != "alice@example.com" || user["name"] != "Alice" || fmt.Sprint(user["roles"]) != "[user]" {
		t.Errorf("user = %v", user)
	}
	if _, ok := user["password_hash"]; ok {
		t.Error("user JSON carries the password hash")
	}

	me := srv.Do(t, "GET", "/v1/me", nil, bearer(tok["access_token"])...)
	if me.Status != 200 || me.String(t, "email") != "alice@example.com" || me.String(t, "id") != user["id"] {
		t.Fatalf("me: %d %s", me.Status, me.Body)
	}

	ref := srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": tok["refresh_token"]})
	if ref.Status != 200 {
		t.Fatalf("refresh: %d %s", ref.Status, ref.Body)
	}
	next := ref.JSON(t)
	if next["refresh_token"] == tok["refresh_token"] || next["access_token"] == tok["access_token"] || next["session_id"] != tok["session_id"] {
		t.Fatalf("refresh did not rotate: %s", ref.Body)
	}
	if r := srv.Do(t, "GET", "/v1/me", nil, bearer(next["access_token"])...); r.Status != 200 {
		t.Fatalf("me with refreshed token: %d", r.Status)
	}

	out := srv.Do(t, "POST", "/v1/auth/logout", map[string]string{"scope": "local"}, bearer(next["access_token"])...)
	if out.Status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", out.Status, out.Body)
	}
	for _, at := range []any{tok["access_token"], next["access_token"]} {
		r := srv.Do(t, "GET", "/v1/me", nil, bearer(at)...)
		if r.Status != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("access token after logout: %d %v", r.Status, r.Header)
		}
	}
	if r := srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": next["refresh_token"]}); r.Status != 400 || r.String(t, "code") != "invalid_grant" {
		t.Errorf("refresh after logout: %d %s", r.Status, r.Body)
	}
	if strings.Contains(srv.Logs(), goodPassword) || strings.Contains(srv.Logs(), tok["refresh_token"].(string)) ||
		strings.Contains(srv.Logs(), tok["access_token"].(string)) {
		t.Error("a secret reached the log")
	}
}

func TestLoginFailuresLookTheSame(t *testing.T) {
	srv := apptest.Start(t)
	signup(t, srv, "bob@example.com")
	wrong := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "bob@example.com", "password": "not the password at all"})
	unknown := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "nobody@example.com", "password": "not the password at all"})
	if wrong.Status != 401 || unknown.Status != 401 {
		t.Fatalf("statuses %d %d", wrong.Status, unknown.Status)
	}
	if string(wrong.Body) != string(unknown.Body) {
		t.Errorf("bodies differ:\n%s\n%s", wrong.Body, unknown.Body)
	}
	for _, h := range []string{"Content-Type", "Content-Length", "Cache-Control", "WWW-Authenticate", "Set-Cookie"} {
		if wrong.Header.Get(h) != unknown.Header.Get(h) {
			t.Errorf("header %s differs: %q vs %q", h, wrong.Header.Get(h), unknown.Header.Get(h))
		}
	}
	if wrong.String(t, "code") != "invalid_credentials" {
		t.Errorf("code = %s", wrong.Body)
	}
	ok := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "BOB@example.com.", "password": goodPassword})
	if ok.Status != 200 {
		t.Fatalf("login with canonical variant: %d %s", ok.Status, ok.Body)
	}
	// Case flipped or a trailing space is another password (PW-08).
	for _, pw := range []string{strings.ToUpper(goodPassword), goodPassword + " "} {
		if r := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "bob@example.com", "password": pw}); r.Status != 401 {
			t.Errorf("login with %q: %d", pw, r.Status)
		}
	}
}

func TestRefreshReuseRevokesTheSession(t *testing.T) {
	srv := apptest.Start(t, "--refresh-reuse-grace", "0s")
	tok := signup(t, srv, "carol@example.com")
	rt1 := tok["refresh_token"]
	r2 := srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": rt1})
	if r2.Status != 200 {
		t.Fatalf("refresh: %d", r2.Status)
	}
	rt2, at2 := r2.JSON(t)["refresh_token"], r2.JSON(t)["access_token"]
	reuse := srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": rt1})
	if reuse.Status != 400 || reuse.String(t, "code") != "invalid_grant" {
		t.Fatalf("reuse: %d %s", reuse.Status, reuse.Body)
	}
	if r := srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": rt2}); r.Status != 400 {
		t.Errorf("successor after reuse: %d (want the whole session revoked)", r.Status)
	}
	if r := srv.Do(t, "GET", "/v1/me", nil, bearer(at2)...); r.Status != 401 {
		t.Errorf("access token after reuse: %d", r.Status)
	}
}

func TestRefreshGraceReturnsTheSameSuccessor(t *testing.T) {
	srv := apptest.Start(t) // default grace: 10s
	tok := signup(t, srv, "dave@example.com")
	got := refreshConcurrently(t, srv, tok["refresh_token"], 20)
	successors := map[string]bool{}
	for _, r := range got {
		if r.Status != 200 {
			t.Fatalf("concurrent refresh inside the grace period: %d %s", r.Status, r.Body)
		}
		successors[r.String(t, "refresh_token")] = true
	}
	if len(successors) != 1 {
		t.Fatalf("%d different successors, want exactly 1", len(successors))
	}
	for s := range successors {
		if r := srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": s}); r.Status != 200 {
			t.Fatalf("the successor does not work: %d", r.Status)
		}
	}
}

// refreshConcurrently sends n refreshes of one token at the same time.
func refreshConcurrently(t *testing.T, srv *apptest.Instance, rt any, n int) []*apptest.Response {
	t.Helper()
	var wg sync.WaitGroup
	got := make([]*apptest.Response, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": rt})
		}()
	}
	wg.Wait()
	return got
}

func TestConcurrentRefreshWithoutGraceHasOneWinner(t *testing.T) {
	srv := apptest.Start(t, "--refresh-reuse-grace", "0s")
	tok := signup(t, srv, "erin@example.com")
	got := refreshConcurrently(t, srv, tok["refresh_token"], 20)
	ok := 0
	for _, r := range got {
		if r.Status == 200 {
			ok++
		} else if r.Status != 400 {
			t.Errorf("status %d", r.Status)
		}
	}
	if ok != 1 {
		t.Fatalf("%d refreshes succeeded, want exactly 1", ok)
	}
}

func TestLogoutScopes(t *testing.T) {
	srv := apptest.Start(t)
	signup(t, srv, "frank@example.com")
	login := func() map[string]any {
		r := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "frank@example.com", "password": goodPassword})
		if r.Status != 200 {
			t.Fatalf("login: %d", r.Status)
		}
		return r.JSON(t)
	}
	alive := func(tok map[string]any) bool {
		return srv.Do(t, "GET", "/v1/me", nil, bearer(tok["access_token"])...).Status == 200
	}
	a, b, c := login(), login(), login()
	if r := srv.Do(t, "POST", "/v1/auth/logout", map[string]string{"scope": "others"}, bearer(a["access_token"])...); r.Status != 204 {
		t.Fatalf("logout others: %d %s", r.Status, r.Body)
	}
	if !alive(a) || alive(b) || alive(c) {
		t.Fatalf("after others: a=%v b=%v c=%v", alive(a), alive(b), alive(c))
	}
	d := login()
	if r := srv.Do(t, "POST", "/v1/auth/logout", map[string]string{"scope": "global"}, bearer(d["access_token"])...); r.Status != 204 {
		t.Fatalf("logout global: %d", r.Status)
	}
	if alive(a) || alive(d) {
		t.Fatal("sessions alive after global logout")
	}
	e := login()
	if r := srv.Do(t, "POST", "/v1/auth/logout", map[string]string{"scope": "everything"}, bearer(e["access_token"])...); r.Status != 400 {
		t.Errorf("bad scope: %d", r.Status)
	}
	if r := srv.Do(t, "POST", "/v1/auth/logout", nil, bearer(e["access_token"])...); r.Status != 204 || alive(e) {
		t.Errorf("logout without a body (local): %d", r.Status)
	}
	if r := srv.Do(t, "GET", "/v1/auth/logout", nil, bearer(e["access_token"])...); r.Status != 405 {
		t.Errorf("GET logout: %d, want 405", r.Status)
	}
}

func TestSessionsListAndRevoke(t *testing.T) {
	srv := apptest.Start(t)
	first := signup(t, srv, "gina@example.com")
	second := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "gina@example.com", "password": goodPassword}, "User-Agent", "phone/1.0").JSON(t)
	list := srv.Do(t, "GET", "/v1/sessions", nil, bearer(first["access_token"])...)
	if list.Status != 200 {
		t.Fatalf("list: %d", list.Status)
	}
	sessions := list.JSON(t)["sessions"].([]any)
	if len(sessions) != 2 {
		t.Fatalf("%d sessions, want 2", len(sessions))
	}
	current := 0
	for _, s := range sessions {
		m := s.(map[string]any)
		if m["current"] == true {
			current++
			if m["id"] != first["session_id"] {
				t.Error("current marks the wrong session")
			}
		}
		if m["ip"] != "127.0.0.1" || m["created_at"] == nil || m["expires_at"] == nil || m["last_used_at"] == nil {
			t.Errorf("session fields: %v", m)
		}
	}
	if current != 1 {
		t.Errorf("%d current sessions", current)
	}
	other := signup(t, srv, "hank@example.com")
	if r := srv.Do(t, "DELETE", "/v1/sessions/"+fmt.Sprint(second["session_id"]), nil, bearer(other["access_token"])...); r.Status != 404 {
		t.Errorf("revoking another user's session: %d, want 404", r.Status)
	}
	if r := srv.Do(t, "DELETE", "/v1/sessions/"+fmt.Sprint(second["session_id"]), nil, bearer(first["access_token"])...); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if r := srv.Do(t, "GET", "/v1/me", nil, bearer(second["access_token"])...); r.Status != 401 {
		t.Errorf("revoked session still works: %d", r.Status)
	}
	if r := srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": second["refresh_token"]}); r.Status != 400 {
		t.Errorf("revoked session refreshes: %d", r.Status)
	}
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	srv := apptest.Start(t)
	a := signup(t, srv, "ivy@example.com")
	b := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "ivy@example.com", "password": goodPassword}).JSON(t)
	newPw := "a much better passphrase here"
	if r := srv.Do(t, "POST", "/v1/me/password", map[string]string{"current_password": "wrong password!!", "new_password": newPw}, bearer(a["access_token"])...); r.Status != 401 {
		t.Errorf("wrong current password: %d", r.Status)
	}
	if r := srv.Do(t, "POST", "/v1/me/password", map[string]string{"current_password": goodPassword, "new_password": "password"}, bearer(a["access_token"])...); r.Status != 422 {
		t.Errorf("weak new password: %d", r.Status)
	}
	if r := srv.Do(t, "POST", "/v1/me/password", map[string]string{"current_password": goodPassword, "new_password": newPw}, bearer(a["access_token"])...); r.Status != 204 {
		t.Fatalf("change: %d %s", r.Status, r.Body)
	}
	if r := srv.Do(t, "GET", "/v1/me", nil, bearer(a["access_token"])...); r.Status != 200 {
		t.Error("the changing session ended")
	}
	if r := srv.Do(t, "GET", "/v1/me", nil, bearer(b["access_token"])...); r.Status != 401 {
		t.Error("another session survived the password change")
	}
	if r := srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": b["refresh_token"]}); r.Status != 400 {
		t.Error("another session's refresh token survived the password change")
	}
	if r := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "ivy@example.com", "password": goodPassword}); r.Status != 401 {
		t.Error("old password still works")
	}
	if r := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "ivy@example.com", "password": newPw}); r.Status != 200 {
		t.Error("new password does not work")
	}
}

func TestProfileUpdate(t *testing.T) {
	srv := apptest.Start(t)
	a := signup(t, srv, "jack@example.com")
	r := srv.Do(t, "PATCH", "/v1/me", map[string]string{"name": "Jack"}, bearer(a["access_token"])...)
	if r.Status != 200 || r.String(t, "name") != "Jack" {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	// Mass assignment is refused (AZ-03).
	for _, body := range []string{`{"roles":["admin"]}`, `{"role":"admin"}`, `{"Name":"x","name":"y"}`, `{"email":"evil@example.com"}`} {
		r := srv.Do(t, "PATCH", "/v1/me", body, append(bearer(a["access_token"]), "Content-Type", "application/json")...)
		if r.Status != 400 {
			t.Errorf("PATCH %s: %d", body, r.Status)
		}
	}
	me := srv.Do(t, "GET", "/v1/me", nil, bearer(a["access_token"])...).JSON(t)
	if fmt.Sprint(me["roles"]) != "[user]" || me["email"] != "jack@example.com" {
		t.Errorf("me after mass assignment attempts: %v", me)
	}
	if r := srv.Do(t, "PATCH", "/v1/me", map[string]string{"name": "evil\u202Eeman"}, bearer(a["access_token"])...); r.Status != 400 {
		t.Errorf("RTL override in name: %d", r.Status)
	}
}

func TestSessionIdleAndAbsoluteTimeouts(t *testing.T) {
	srv := apptest.Start(t, "--session-idle-timeout", "2s", "--refresh-token-ttl", "4s")
	idle := signup(t, srv, "kim@example.com")
	active := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "kim@example.com", "password": goodPassword}).JSON(t)
	rt := active["refresh_token"]
	for range 3 { // keep one session busy past the idle timeout
		time.Sleep(1200 * time.Millisecond)
		r := srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": rt})
		if r.Status != 200 {
			t.Fatalf("refresh of an active session: %d %s", r.Status, r.Body)
		}
		rt = r.JSON(t)["refresh_token"]
	}
	if r := srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": idle["refresh_token"]}); r.Status != 400 {
		t.Errorf("idle session refreshed: %d", r.Status)
	}
	time.Sleep(1200 * time.Millisecond) // past the absolute lifetime, though active
	if r := srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": rt}); r.Status != 400 {
		t.Errorf("session refreshed past its absolute lifetime: %d", r.Status)
	}
}
