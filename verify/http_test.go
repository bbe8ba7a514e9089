package verify_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/latchkey/latchkey/internal/jwttest"
	"github.com/latchkey/latchkey/internal/testenv"
	"github.com/latchkey/latchkey/verify"
)

func TestMiddleware(t *testing.T) {
	es := jwttest.NewKey(t, "ES256", "k-es")
	is := newIssuer(t, es)
	key, scopedKey := apiKey("A"), apiKey("S")
	is.apiKeys[key] = map[string]any{"active": true, "sub": "user-7", "token_type": "api_key", "roles": []string{"user"}, "api_key_id": "key-7"}
	is.apiKeys[scopedKey] = map[string]any{"active": true, "sub": "user-8", "token_type": "api_key", "roles": []string{"admin"}, "scope": "read", "api_key_id": "key-8"}
	v := newVerifier(t, is, testenv.NewClock(t0), nil)

	whoami := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := verify.FromContext(r.Context())
		if !ok {
			t.Error("no identity in the context")
			return
		}
		fmt.Fprintf(w, "%s %s %s", id.Kind, id.UserID, id.SessionID+id.APIKeyID)
	})
	mux := http.NewServeMux()
	mux.Handle("/any", whoami)
	mux.Handle("/admin", verify.RequireRole("admin")(whoami))
	mux.Handle("/write", verify.RequireScope("write")(whoami))
	mux.Handle("/mfa", verify.RequireAAL2()(whoami))
	mux.Handle("/aal1", verify.RequireACR(verify.AAL1)(whoami))
	mux.Handle("/aal9", verify.RequireACR("aal9")(whoami))
	h := v.Middleware(mux)

	userToken := es.Mint(t, es.Header(), claims(is.URL, t0))
	adminCl := claims(is.URL, t0)
	adminCl["roles"], adminCl["scope"] = []string{"user", "admin"}, "read"
	scopedAdminToken := es.Mint(t, es.Header(), adminCl)
	pwdCl := claims(is.URL, t0)
	pwdCl["amr"], pwdCl["acr"] = []string{"pwd"}, "aal1"
	pwdToken := es.Mint(t, es.Header(), pwdCl)
	mfaCl := claims(is.URL, t0)
	mfaCl["amr"], mfaCl["acr"] = []string{"pwd", "otp", "mfa"}, "aal2"
	mfaToken := es.Mint(t, es.Header(), mfaCl)
	const stepUp = `Bearer error="insufficient_user_authentication", acr_values="aal2"`

	type want struct {
		status    int
		challenge string
		code      string
		body      string
	}
	tests := []struct {
		name, path string
		hdr        map[string]string
		want       want
	}{
		{"no credentials", "/any", nil, want{401, "Bearer", "token_required", ""}},
		{"basic auth", "/any", map[string]string{"Authorization": "Basic dXNlcjpwYXNz"}, want{401, "Bearer", "token_required", ""}},
		{"bad token", "/any", map[string]string{"Authorization": "Bearer abc.def.ghi"}, want{401, `Bearer error="invalid_token"`, "invalid_token", ""}},
		{"token", "/any", map[string]string{"Authorization": "Bearer " + userToken}, want{200, "", "", "access_token user-1 sess-1"}},
		{"lower-case scheme", "/any", map[string]string{"Authorization": "bearer " + userToken}, want{200, "", "", "access_token user-1 sess-1"}},
		{"api key header", "/any", map[string]string{"X-API-Key": key}, want{200, "", "", "api_key user-7 key-7"}},
		{"api key bearer", "/any", map[string]string{"Authorization": "Bearer " + key}, want{200, "", "", "api_key user-7 key-7"}},
		{"both credentials", "/any", map[string]string{"Authorization": "Bearer " + userToken, "X-API-Key": key}, want{400, `Bearer error="invalid_request"`, "invalid_request", ""}},
		{"role missing", "/admin", map[string]string{"Authorization": "Bearer " + userToken}, want{403, `Bearer error="insufficient_scope"`, "forbidden", ""}},
		{"role present", "/admin", map[string]string{"Authorization": "Bearer " + scopedAdminToken}, want{200, "", "", "access_token user-1 sess-1"}},
		{"unscoped token has every scope", "/write", map[string]string{"Authorization": "Bearer " + userToken}, want{200, "", "", "access_token user-1 sess-1"}},
		{"scoped token lacks scope", "/write", map[string]string{"Authorization": "Bearer " + scopedAdminToken}, want{403, `Bearer error="insufficient_scope", scope="write"`, "forbidden", ""}},
		{"unscoped key has every scope", "/write", map[string]string{"X-API-Key": key}, want{200, "", "", "api_key user-7 key-7"}},
		{"scoped key lacks scope", "/write", map[string]string{"X-API-Key": scopedKey}, want{403, `Bearer error="insufficient_scope", scope="write"`, "forbidden", ""}},
		{"scoped key role", "/admin", map[string]string{"X-API-Key": scopedKey}, want{200, "", "", "api_key user-8 key-8"}},
		// MF-06: a service can require aal2.
		{"aal2 token", "/mfa", map[string]string{"Authorization": "Bearer " + mfaToken}, want{200, "", "", "access_token user-1 sess-1"}},
		{"aal1 token", "/mfa", map[string]string{"Authorization": "Bearer " + pwdToken}, want{403, stepUp, "insufficient_authentication", ""}},
		{"token without acr", "/mfa", map[string]string{"Authorization": "Bearer " + userToken}, want{403, stepUp, "insufficient_authentication", ""}},
		{"api key never aal2", "/mfa", map[string]string{"X-API-Key": key}, want{403, stepUp, "insufficient_authentication", ""}},
		{"aal1 met by aal1", "/aal1", map[string]string{"Authorization": "Bearer " + pwdToken}, want{200, "", "", "access_token user-1 sess-1"}},
		{"aal1 met by aal2", "/aal1", map[string]string{"Authorization": "Bearer " + mfaToken}, want{200, "", "", "access_token user-1 sess-1"}},
		{"unknown level never met", "/aal9", map[string]string{"Authorization": "Bearer " + mfaToken}, want{403, `Bearer error="insufficient_user_authentication", acr_values="aal9"`, "insufficient_authentication", ""}},
		{"token in query ignored", "/any?access_token=" + userToken, nil, want{401, "Bearer", "token_required", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.path, nil)
			for k, val := range tt.hdr {
				r.Header.Set(k, val)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want.status {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.want.status, w.Body)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.want.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.want.challenge)
			}
			if tt.want.status == 200 {
				if w.Body.String() != tt.want.body {
					t.Errorf("body = %q, want %q", w.Body, tt.want.body)
				}
				return
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q", ct)
			}
			var p map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if p["type"] != "about:blank" || p["code"] != tt.want.code || p["status"] != float64(tt.want.status) || p["title"] == "" {
				t.Errorf("problem = %v", p)
			}
		})
	}
}

func TestRequireWithoutMiddleware(t *testing.T) {
	h := verify.RequireRole("admin")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("reached the handler without an identity")
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 401 {
		t.Fatalf("status = %d, want 401", w.Code)
	}
}

func TestNewNeedsIssuer(t *testing.T) {
	if _, err := verify.New(verify.Config{}); err == nil {
		t.Fatal("New accepted a config without an issuer")
	}
}
