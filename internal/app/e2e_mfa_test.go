package app_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/internal/testenv"
	"github.com/latchkey/latchkey/verify"
)

// oathtool returns the TOTP code of a base32 secret at t, from an
// implementation latchkey did not write (Debian's oathtool; .ci/run
// installs it). The server's clock is real: t is now, or a step around it.
func oathtool(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	if _, err := exec.LookPath("oathtool"); err != nil {
		if testenv.Required() {
			t.Fatal("oathtool is not installed, and LATCHKEY_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("oathtool is not installed; apt-get install oathtool")
	}
	out, err := exec.Command("oathtool", "--totp", "-b", "-N", at.UTC().Format("2006-01-02 15:04:05 UTC"), secret).Output()
	if err != nil {
		t.Fatalf("oathtool: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// step is the RFC 6238 time step of t.
func step(t time.Time) int64 { return t.Unix() / 30 }

// awaitStep sleeps until the time step is at least s.
func awaitStep(s int64) {
	for step(time.Now()) < s {
		time.Sleep(time.Until(time.Unix((step(time.Now())+1)*30, 0)) + 50*time.Millisecond)
	}
}

// enrollTOTP adds and confirms an authenticator for the session auth with
// a code of the given time; it returns the secret and the recovery codes.
func enrollTOTP(t *testing.T, srv *apptest.Instance, auth []string, at time.Time) (string, []string) {
	t.Helper()
	e := srv.Do(t, "POST", "/v1/me/mfa/totp", map[string]string{"name": "phone"}, auth...)
	if e.Status != http.StatusCreated {
		t.Fatalf("enroll: %d %s", e.Status, e.Body)
	}
	secret := e.String(t, "secret")
	c := srv.Do(t, "POST", "/v1/me/mfa/totp/"+e.String(t, "id")+"/confirm", map[string]string{"code": oathtool(t, secret, at)}, auth...)
	if c.Status != http.StatusOK {
		t.Fatalf("confirm: %d %s", c.Status, c.Body)
	}
	var codes []string
	for _, v := range c.JSON(t)["recovery_codes"].([]any) {
		codes = append(codes, v.(string))
	}
	return secret, codes
}

// mfaLogin signs in with the password and returns the mfa_token.
func mfaLogin(t *testing.T, srv *apptest.Instance, email string) string {
	t.Helper()
	r := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": email, "password": goodPassword})
	m := r.JSON(t)
	if r.Status != http.StatusOK || m["mfa_required"] != true || m["access_token"] != nil || m["refresh_token"] != nil ||
		r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("login of an MFA user: %d %v %s", r.Status, r.Header, r.Body)
	}
	return m["mfa_token"].(string)
}

func mfaVerify(t *testing.T, srv *apptest.Instance, token string, proof map[string]string) *apptest.Response {
	t.Helper()
	body := map[string]string{"mfa_token": token}
	for k, v := range proof {
		body[k] = v
	}
	return srv.Do(t, "POST", "/v1/auth/mfa/verify", body)
}

// TestMFAOverHTTP walks the whole of two-step sign-in against the real
// server with codes from oathtool, on SQLite and PostgreSQL: enrollment,
// replay (MF-01), drift (MF-02), the challenge's limits (MF-02, MF-04),
// recovery codes under concurrency (MF-03), step-up, and acr/amr enforced
// by /v1/verify, introspection and the verify package (MF-06).
func TestMFAOverHTTP(t *testing.T) { forEachStore(t, mfaScenario) }

func mfaScenario(t *testing.T, db []string) {
	t.Parallel()
	srv := apptest.Start(t, db...)

	// Bob enrolls with a code one step old (accepted: drift), so that once
	// the clock moves on, the step before it is one nobody used.
	bobTok := signup(t, srv, "mfa-bob@example.com")
	bobSecret, _ := enrollTOTP(t, srv, bearer(bobTok["access_token"]), time.Now().Add(-30*time.Second))
	bobEnrolled := step(time.Now())

	alice := signup(t, srv, "mfa-alice@example.com")
	aal1 := bearer(alice["access_token"])
	e := srv.Do(t, "POST", "/v1/me/mfa/totp", nil, aal1...)
	if e.Status != http.StatusCreated || e.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("enroll: %d %s", e.Status, e.Body)
	}
	secret := e.String(t, "secret")
	png, err := base64.StdEncoding.DecodeString(e.String(t, "qr_png"))
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) || !strings.HasPrefix(e.String(t, "qr_svg"), "<svg") ||
		!strings.Contains(e.String(t, "otpauth_uri"), "secret="+secret) || len(secret) != 32 {
		t.Errorf("enrollment: %s", e.Body)
	}
	confirm := "/v1/me/mfa/totp/" + e.String(t, "id") + "/confirm"
	now := time.Now()
	wrong := wrongTOTP(t, secret, now)
	wantProblem(t, "a wrong first code", srv.Do(t, "POST", confirm, map[string]string{"code": wrong}, aal1...), 401, "invalid_mfa_code")
	enrollCode := oathtool(t, secret, now)
	c := srv.Do(t, "POST", confirm, map[string]string{"code": enrollCode}, aal1...)
	if c.Status != http.StatusOK || c.JSON(t)["confirmed"] != true || len(c.JSON(t)["recovery_codes"].([]any)) != 10 {
		t.Fatalf("confirm: %d %s", c.Status, c.Body)
	}
	var recovery []string
	for _, v := range c.JSON(t)["recovery_codes"].([]any) {
		recovery = append(recovery, v.(string))
	}
	if l := srv.Do(t, "GET", "/v1/me/mfa", nil, aal1...).JSON(t); l["enabled"] != true || l["recovery_codes_left"] != float64(10) ||
		strings.Contains(fmt.Sprint(l), secret) {
		t.Errorf("list: %v", l)
	}

	// MF-01: the enrollment code cannot sign in; a later one can, once.
	token := mfaLogin(t, srv, "mfa-alice@example.com")
	wantProblem(t, "the enrollment code at sign-in", mfaVerify(t, srv, token, map[string]string{"code": enrollCode}), 401, "invalid_mfa_code")
	next := oathtool(t, secret, now.Add(30*time.Second)) // one step ahead: within the drift
	r := mfaVerify(t, srv, token, map[string]string{"code": next})
	if r.Status != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	aal2Tok := r.JSON(t)
	claims := jwtPart(t, aal2Tok["access_token"], 1)
	if claims["acr"] != "aal2" || fmt.Sprint(claims["amr"]) != "[pwd otp mfa]" {
		t.Errorf("claims after the second step: %v", claims)
	}
	aal2 := bearer(aal2Tok["access_token"])
	wantProblem(t, "the mfa_token twice", mfaVerify(t, srv, token, map[string]string{"code": next}), 400, "invalid_grant")
	wantProblem(t, "the code on a new sign-in", mfaVerify(t, srv, mfaLogin(t, srv, "mfa-alice@example.com"),
		map[string]string{"code": next}), 401, "invalid_mfa_code")

	// A refresh keeps aal2.
	rr := srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": aal2Tok["refresh_token"]})
	if rr.Status != 200 || jwtPart(t, rr.JSON(t)["access_token"], 1)["acr"] != "aal2" {
		t.Errorf("refresh: %d %s", rr.Status, rr.Body)
	}

	// MF-06: /v1/verify, introspection and the verify package.
	if r := srv.Do(t, "GET", "/v1/verify?acr=aal2", nil, aal2...); r.Status != 200 || r.Header.Get("X-Auth-Acr") != "aal2" ||
		r.Header.Get("X-Auth-Amr") != "pwd,otp,mfa" {
		t.Errorf("verify aal2: %d %v", r.Status, r.Header)
	}
	wantProblem(t, "verify aal2 with an aal1 session", srv.Do(t, "GET", "/v1/verify?acr=aal2", nil, aal1...), 403, "insufficient_authentication")
	key := createKey(t, srv, aal2, map[string]any{"name": "rs", "scopes": []string{"introspect"}})["key"].(string)
	in := srv.Do(t, "POST", "/v1/introspect", map[string]any{"token": aal2Tok["access_token"]}, "X-API-Key", key).JSON(t)
	if in["acr"] != "aal2" || fmt.Sprint(in["amr"]) != "[pwd otp mfa]" {
		t.Errorf("introspection: %v", in)
	}
	v, err := verify.New(verify.Config{Issuer: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	guarded := v.Middleware(verify.RequireAAL2()(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })))
	for name, want := range map[string]int{fmt.Sprint(aal2Tok["access_token"]): 204, fmt.Sprint(alice["access_token"]): 403} {
		w := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/orders", nil)
		req.Header.Set("Authorization", "Bearer "+name)
		guarded.ServeHTTP(w, req)
		if w.Code != want || (want == 403 && !strings.Contains(w.Header().Get("WWW-Authenticate"), `acr_values="aal2"`)) {
			t.Errorf("verify.RequireAAL2: %d %v %s, want %d", w.Code, w.Header(), w.Body, want)
		}
	}

	// MF-02: five wrong codes, then the challenge is dead, even for the
	// right code.
	token = mfaLogin(t, srv, "mfa-alice@example.com")
	for i := range 5 {
		r := mfaVerify(t, srv, token, map[string]string{"code": wrongTOTP(t, secret, time.Now())})
		wantProblem(t, fmt.Sprintf("wrong code %d", i+1), r, 401, "invalid_mfa_code")
	}
	wantProblem(t, "the sixth code", mfaVerify(t, srv, token, map[string]string{"recovery_code": recovery[9]}), 400, "invalid_grant")

	// MF-03: one recovery code sent on eight sign-ins at once signs in once.
	tokens := make([]string, 8)
	for i := range tokens {
		tokens[i] = mfaLogin(t, srv, "mfa-alice@example.com")
	}
	var wg sync.WaitGroup
	statuses := make([]int, len(tokens))
	for i, tk := range tokens {
		wg.Go(func() { statuses[i] = mfaVerify(t, srv, tk, map[string]string{"recovery_code": recovery[0]}).Status })
	}
	wg.Wait()
	won, refused := 0, 0
	for _, st := range statuses {
		switch st {
		case 200:
			won++
		case 401:
			refused++
		}
	}
	if won != 1 || refused != len(statuses)-1 {
		t.Errorf("concurrent uses of one recovery code: %v, want one 200 and 401s", statuses)
	}

	// Step-up: the aal1 session from sign-up proves a factor (a recovery
	// code: the TOTP steps of now are spent) and gets an aal2 token.
	wantProblem(t, "a step-up with a wrong code", srv.Do(t, "POST", "/v1/auth/mfa/verify", map[string]string{"code": "000000x"}, aal1...),
		401, "invalid_mfa_code")
	up := srv.Do(t, "POST", "/v1/auth/mfa/verify", map[string]string{"recovery_code": recovery[1]}, aal1...)
	if up.Status != 200 || up.JSON(t)["acr"] != "aal2" || up.JSON(t)["session_id"] != alice["session_id"] ||
		jwtPart(t, up.JSON(t)["access_token"], 1)["acr"] != "aal2" {
		t.Fatalf("step-up: %d %s", up.Status, up.Body)
	}
	if r := srv.Do(t, "GET", "/v1/verify?acr=aal2", nil, aal1...); r.Status != 200 {
		t.Errorf("the stepped-up session's old token at /v1/verify?acr=aal2: %d (the session is aal2 now)", r.Status)
	}

	// MF-02: a code one step old is accepted once (Bob's, a step after his
	// enrollment).
	awaitStep(bobEnrolled + 1)
	old := oathtool(t, bobSecret, time.Now().Add(-30*time.Second))
	if r := mfaVerify(t, srv, mfaLogin(t, srv, "mfa-bob@example.com"), map[string]string{"code": old}); r.Status != 200 {
		t.Errorf("a code one step old: %d %s", r.Status, r.Body)
	}
	wantProblem(t, "the one-step-old code again", mfaVerify(t, srv, mfaLogin(t, srv, "mfa-bob@example.com"),
		map[string]string{"code": old}), 401, "invalid_mfa_code")
}

// wrongTOTP is a 6-digit code that no step around at matches.
func wrongTOTP(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	near := []string{oathtool(t, secret, at.Add(-30*time.Second)), oathtool(t, secret, at), oathtool(t, secret, at.Add(30*time.Second))}
	for _, c := range []string{"000000", "111111", "222222"} {
		if !slices.Contains(near, c) {
			return c
		}
	}
	t.Fatal("unreachable")
	return ""
}

// TestMFAPolicyOverHTTP: --mfa-required-roles keeps an administrator out
// of the admin API until they enrolled and proved a factor; an
// administrator's reset removes a user's factors and ends their sessions;
// a password reset by mail keeps MFA (MF-05); a recovery code is mailed
// about. On SQLite and PostgreSQL.
func TestMFAPolicyOverHTTP(t *testing.T) { forEachStore(t, mfaPolicyScenario) }

func mfaPolicyScenario(t *testing.T, db []string) {
	t.Parallel()
	srv, _ := startWithAdmin(t, append([]string{"--mfa-required-roles", "admin", "--public-url", publicURL}, db...))
	box := &mailbox{srv: srv}
	adm := loginJSON(t, srv, "root@example.com", adminPassword)
	admAuth := bearer(adm["access_token"])
	wantProblem(t, "an admin without a factor", srv.Do(t, "GET", "/v1/admin/users", nil, admAuth...), 403, "mfa_required")
	wantProblem(t, "an API key from an admin without a factor", srv.Do(t, "POST", "/v1/api-keys", map[string]string{"name": "k"}, admAuth...),
		403, "mfa_required")
	if r := srv.Do(t, "GET", "/v1/me", nil, admAuth...); r.Status != 200 {
		t.Errorf("an admin acting as themself: %d", r.Status)
	}
	now := time.Now()
	secret, _ := enrollTOTP(t, srv, admAuth, now)
	wantProblem(t, "the session that enrolled", srv.Do(t, "GET", "/v1/admin/users", nil, admAuth...), 403, "insufficient_authentication")
	up := srv.Do(t, "POST", "/v1/auth/mfa/verify", map[string]string{"code": oathtool(t, secret, now.Add(30*time.Second))}, admAuth...)
	if up.Status != 200 {
		t.Fatalf("step-up: %d %s", up.Status, up.Body)
	}
	admAuth = bearer(up.JSON(t)["access_token"])
	if r := srv.Do(t, "GET", "/v1/admin/users", nil, admAuth...); r.Status != 200 {
		t.Fatalf("an admin at aal2: %d %s", r.Status, r.Body)
	}

	// A password reset by mail changes the password, not the factors.
	carol := signup(t, srv, "mfa-carol@example.com")
	_, recovery := enrollTOTP(t, srv, bearer(carol["access_token"]), time.Now())
	wantAccepted(t, "forgot", srv.Do(t, "POST", "/v1/auth/password/forgot", map[string]string{"email": "mfa-carol@example.com"}))
	_, token, _ := box.await(t, "password-reset", "mfa-carol@example.com")
	newPassword := "another good passphrase"
	if r := srv.Do(t, "POST", "/v1/auth/password/reset", map[string]string{"token": token, "new_password": newPassword}); r.Status != 204 {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}
	r := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "mfa-carol@example.com", "password": newPassword})
	if r.Status != 200 || r.JSON(t)["mfa_required"] != true {
		t.Fatalf("login after a reset: %d %s", r.Status, r.Body)
	}
	// A recovery code signs in, and the owner is told.
	in := mfaVerify(t, srv, r.String(t, "mfa_token"), map[string]string{"recovery_code": strings.ToUpper(recovery[3])})
	if in.Status != 200 {
		t.Fatalf("recovery code: %d %s", in.Status, in.Body)
	}
	if link, _, _ := box.await(t, "recovery-code-used", "mfa-carol@example.com"); link != publicURL+"/account" {
		t.Errorf("notice link %q", link)
	}

	// An administrator's reset: factors gone, sessions ended, audited.
	carolAuth := bearer(in.JSON(t)["access_token"])
	wantProblem(t, "a user resetting someone", srv.Do(t, "DELETE", "/v1/admin/users/"+userID(adm)+"/mfa", nil, carolAuth...), 403, "forbidden")
	if r := srv.Do(t, "DELETE", "/v1/admin/users/"+userID(carol)+"/mfa", nil, admAuth...); r.Status != 204 {
		t.Fatalf("admin reset: %d %s", r.Status, r.Body)
	}
	if r := srv.Do(t, "GET", "/v1/me", nil, carolAuth...); r.Status != 401 {
		t.Errorf("a session after the reset: %d", r.Status)
	}
	after := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "mfa-carol@example.com", "password": newPassword})
	if after.Status != 200 || after.JSON(t)["access_token"] == nil {
		t.Errorf("login after the reset: %d %s", after.Status, after.Body)
	}
	if events := adminAudit(t, srv, admAuth, "mfa.reset"); len(events) != 1 || events[0]["user_id"] != userID(carol) {
		t.Errorf("audit: %v", events)
	}
	wantProblem(t, "reset of an unknown user", srv.Do(t, "DELETE", "/v1/admin/users/nope/mfa", nil, admAuth...), 404, "not_found")
}

// TestMFAWrongCodesBackOff: wrong codes count against the account's
// back-off like wrong passwords (MF-02): after the free failures, the
// account's next sign-in waits (a right password alone does not clear
// the count: only a completed sign-in does).
func TestMFAWrongCodesBackOff(t *testing.T) {
	t.Parallel()
	srv := apptest.StartWith(t, apptest.Options{RateLimits: true})
	tok := signup(t, srv, "mfa-dave@example.com")
	secret, _ := enrollTOTP(t, srv, bearer(tok["access_token"]), time.Now())
	token := mfaLogin(t, srv, "mfa-dave@example.com")
	for i := range 5 {
		wantProblem(t, fmt.Sprintf("wrong code %d", i+1), mfaVerify(t, srv, token, map[string]string{"code": wrongTOTP(t, secret, time.Now())}),
			401, "invalid_mfa_code")
	}
	// Five failures are free (docs/rate-limits.md); the sixth, on a new
	// challenge, locks the account.
	wantProblem(t, "wrong code 6", mfaVerify(t, srv, mfaLogin(t, srv, "mfa-dave@example.com"),
		map[string]string{"code": wrongTOTP(t, secret, time.Now())}), 401, "invalid_mfa_code")
	r := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "mfa-dave@example.com", "password": goodPassword})
	if retry := checkRateLimited(t, r); retry < 1 {
		t.Errorf("Retry-After %d", retry)
	}
}
