package loadtest

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// contractServer answers the endpoints the load test uses with the shapes
// of the public contract, in memory. Like latchkey, it accepts a refresh
// token once: presenting a used one revokes the whole session.
type contractServer struct {
	mu        sync.Mutex
	users     map[string]string // email → password
	sessions  map[string]*fakeSession
	refresh   map[string]string // refresh token → session id
	used      map[string]bool   // refresh tokens already exchanged
	access    map[string]string // access token → session id
	apiKeys   map[string]string // key → email
	reuses    atomic.Int64      // refresh tokens presented twice
	healthzN  atomic.Int64
	failEvery int64 // every n-th /healthz answers 503
	dropEvery int64 // every n-th /healthz drops the connection
}

type fakeSession struct {
	email   string
	revoked bool
}

func newContractServer(t *testing.T, without ...string) (*contractServer, *httptest.Server) {
	cs := &contractServer{
		users: map[string]string{}, sessions: map[string]*fakeSession{}, refresh: map[string]string{},
		used: map[string]bool{}, access: map[string]string{}, apiKeys: map[string]string{},
	}
	mux := http.NewServeMux()
	for pattern, h := range map[string]http.HandlerFunc{
		"POST /v1/auth/signup":  cs.signup,
		"POST /v1/auth/login":   cs.login,
		"POST /v1/auth/refresh": cs.refreshToken,
		"GET /v1/me":            cs.me,
		"POST /v1/api-keys":     cs.createKey,
		"GET /v1/verify":        cs.verify,
		"GET /healthz":          cs.healthz,
	} {
		if !slices.Contains(without, pattern) {
			mux.HandleFunc(pattern, h)
		}
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return cs, srv
}

func problem(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "status": status, "code": code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func decodeStrict(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.Header.Get("Content-Type") != "application/json" {
		problem(w, http.StatusUnsupportedMediaType, "unsupported_media_type")
		return false
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		problem(w, http.StatusBadRequest, "invalid_request")
		return false
	}
	return true
}

// issue starts or continues a session; the caller holds mu.
func (cs *contractServer) issue(sid string) map[string]any {
	at, rt := rand.Text(), rand.Text()
	cs.access[at] = sid
	cs.refresh[rt] = sid
	return map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": 900,
		"refresh_token": rt, "refresh_expires_in": 604800, "session_id": sid,
		"user": map[string]any{"id": cs.sessions[sid].email}}
}

func (cs *contractServer) newSession(email string) map[string]any {
	sid := rand.Text()
	cs.sessions[sid] = &fakeSession{email: email}
	return cs.issue(sid)
}

func (cs *contractServer) signup(w http.ResponseWriter, r *http.Request) {
	var in struct{ Email, Password, Name string }
	if !decodeStrict(w, r, &in) {
		return
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if _, ok := cs.users[in.Email]; ok || in.Email == "" || len(in.Password) < 8 {
		problem(w, http.StatusConflict, "conflict")
		return
	}
	cs.users[in.Email] = in.Password
	writeJSON(w, http.StatusCreated, cs.newSession(in.Email))
}

func (cs *contractServer) login(w http.ResponseWriter, r *http.Request) {
	var in struct{ Email, Password string }
	if !decodeStrict(w, r, &in) {
		return
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if pw, ok := cs.users[in.Email]; !ok || pw != in.Password {
		problem(w, http.StatusUnauthorized, "invalid_credentials")
		return
	}
	writeJSON(w, http.StatusOK, cs.newSession(in.Email))
}

func (cs *contractServer) refreshToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		RefreshToken string `json:"refresh_token"`
	}
	if !decodeStrict(w, r, &in) {
		return
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	sid, ok := cs.refresh[in.RefreshToken]
	switch {
	case !ok:
		problem(w, http.StatusUnauthorized, "invalid_token")
	case cs.used[in.RefreshToken]:
		cs.reuses.Add(1)
		cs.sessions[sid].revoked = true
		problem(w, http.StatusUnauthorized, "invalid_token")
	case cs.sessions[sid].revoked:
		problem(w, http.StatusUnauthorized, "invalid_token")
	default:
		cs.used[in.RefreshToken] = true
		writeJSON(w, http.StatusOK, cs.issue(sid))
	}
}

// caller resolves a bearer access token to its email.
func (cs *contractServer) caller(r *http.Request) (string, bool) {
	at, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return "", false
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	sid, ok := cs.access[at]
	if !ok || cs.sessions[sid].revoked {
		return "", false
	}
	return cs.sessions[sid].email, true
}

func (cs *contractServer) me(w http.ResponseWriter, r *http.Request) {
	if key := r.Header.Get("X-API-Key"); key != "" {
		cs.mu.Lock()
		email, ok := cs.apiKeys[key]
		cs.mu.Unlock()
		if !ok {
			problem(w, http.StatusUnauthorized, "invalid_api_key")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": email, "email": email, "api_key": map[string]any{"name": "load"}})
		return
	}
	email, ok := cs.caller(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		problem(w, http.StatusUnauthorized, "invalid_token")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": email, "email": email})
}

func (cs *contractServer) createKey(w http.ResponseWriter, r *http.Request) {
	email, ok := cs.caller(r)
	if !ok {
		problem(w, http.StatusUnauthorized, "invalid_token")
		return
	}
	var in struct{ Name string }
	if !decodeStrict(w, r, &in) {
		return
	}
	if in.Name != "load" {
		problem(w, http.StatusBadRequest, "invalid_request")
		return
	}
	key := "lk_" + rand.Text()
	cs.mu.Lock()
	cs.apiKeys[key] = email
	cs.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"id": rand.Text(), "name": in.Name, "key": key, "prefix": key[:8]})
}

func (cs *contractServer) verify(w http.ResponseWriter, r *http.Request) {
	email, ok := cs.caller(r)
	if !ok {
		problem(w, http.StatusUnauthorized, "invalid_token")
		return
	}
	w.Header().Set("X-Auth-User-Id", email)
	w.WriteHeader(http.StatusOK)
}

func (cs *contractServer) healthz(w http.ResponseWriter, r *http.Request) {
	n := cs.healthzN.Add(1)
	if cs.dropEvery > 0 && n%cs.dropEvery == 0 {
		// A response cut off mid-body: unlike a connection closed before
		// any answer, the client cannot silently retry it.
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"status\""))
			conn.Close()
		}
		return
	}
	if cs.failEvery > 0 && n%cs.failEvery == 0 {
		problem(w, http.StatusServiceUnavailable, "unavailable")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
