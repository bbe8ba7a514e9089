package app_test

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/internal/server"
)

// consoleRoutes are the admin console's routes from the route table, with
// their wildcards filled in with id.
func consoleRoutes(t *testing.T, id string) [][2]string {
	t.Helper()
	routes, err := server.RouteTable()
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	for _, rt := range routes {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		if path == "/admin" || strings.HasPrefix(path, "/admin/") {
			out = append(out, [2]string{method, strings.ReplaceAll(path, "{id}", id)})
		}
	}
	if len(out) < 15 {
		t.Fatalf("only %d console routes: %v", len(out), out)
	}
	return out
}

var formType = []string{"Content-Type", "application/x-www-form-urlencoded"}

// TestConsoleRefusesNonAdmins (AZ-01): every console URL, read or form,
// answers a signed-in user without the admin role with a 403 page and
// does nothing; without a session it asks to sign in; a bearer token or
// API key, even an administrator's, is no way in.
func TestConsoleRefusesNonAdmins(t *testing.T) {
	srv, _ := startWithAdmin(t, nil)
	bob := signup(t, srv, "console-bob@example.com")
	cookie := webLogin(t, srv, "console-bob@example.com")
	adm := loginJSON(t, srv, "root@example.com", adminPassword)
	adminKey := createKey(t, srv, bearer(adm["access_token"]), map[string]any{"name": "ops", "scopes": []string{"admin"}})["key"].(string)
	fields := url.Values{"confirm": {"x"}, "role": {"admin"}, "password": {goodPassword}}.Encode()

	for _, rt := range consoleRoutes(t, userID(bob)) {
		method, path := rt[0], rt[1]
		var body any
		if method == http.MethodPost {
			body = strings.Replace(fields, "confirm=x", "confirm="+path[strings.LastIndex(path, "/")+1:], 1)
		}
		r := srv.Do(t, method, path, body, withCookie(cookie, formType...)...)
		if r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), "Forbidden") {
			t.Errorf("%s %s as a user: %d %s, want a 403 page", method, path, r.Status, r.Body)
		}
		checkPageHeaders(t, method+" "+path, r)
		for name, h := range map[string][]string{"no credential": nil, "an admin's bearer token": bearer(adm["access_token"]),
			"an admin's admin-scoped key": {"X-API-Key", adminKey}} {
			r := srv.Do(t, method, path, body, append(slices.Clone(formType), h...)...)
			if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login?return_to=") {
				t.Errorf("%s %s with %s: %d %s, want 303 to /login", method, path, name, r.Status, r.Header.Get("Location"))
			}
		}
	}
	// Nothing happened to anyone.
	if r := srv.Do(t, "GET", "/v1/me", nil, bearer(bob["access_token"])...); r.Status != http.StatusOK || !slices.Equal(roles(t, r.JSON(t)), []string{"user"}) {
		t.Errorf("bob after the refusals: %d %s", r.Status, r.Body)
	}
	for _, typ := range []string{latchkey.AuditUserUpdated, latchkey.AuditUserDeleted, latchkey.AuditSessionRevoked, latchkey.AuditKeysRotated} {
		if events := adminAudit(t, srv, bearer(adm["access_token"]), typ); len(events) != 0 {
			t.Errorf("%s events after the refusals: %v", typ, events)
		}
	}
}

func roles(t *testing.T, user map[string]any) []string {
	t.Helper()
	var out []string
	for _, r := range user["roles"].([]any) {
		out = append(out, r.(string))
	}
	return out
}

// TestConsoleCrossSiteFormsRefused (SES-04): a form of another site,
// posted with an administrator's session cookie, is refused and changes
// nothing.
func TestConsoleCrossSiteFormsRefused(t *testing.T) {
	srv, _ := startWithAdmin(t, nil)
	bob := signup(t, srv, "csrf-bob@example.com")
	adminCookie := webLoginAs(t, srv, "root@example.com", adminPassword)
	id := userID(bob)
	for _, c := range []struct{ path, form string }{
		{"/admin/users/" + id + "/disable", "confirm=disable"},
		{"/admin/users/" + id + "/grant-role", "role=admin"},
		{"/admin/users/" + id + "/end-sessions", "confirm=end-sessions"},
		{"/admin/keys/rotate", ""},
	} {
		for _, site := range [][]string{{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Site", "same-site"},
			{"Origin", "https://evil.example"}} {
			r := srv.Do(t, "POST", c.path, c.form, withCookie(adminCookie, append(slices.Clone(formType), site...)...)...)
			if r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), "Cross-site requests are not allowed") {
				t.Errorf("POST %s from %v: %d %s", c.path, site, r.Status, r.Body)
			}
		}
	}
	if r := srv.Do(t, "GET", "/v1/me", nil, bearer(bob["access_token"])...); r.Status != http.StatusOK || len(roles(t, r.JSON(t))) != 1 {
		t.Errorf("bob after the forged forms: %d %s", r.Status, r.Body)
	}
	// The same forms from the console itself work.
	r := postForm(t, srv, "/admin/users/"+id+"/grant-role", url.Values{"role": {"support"}}, withCookie(adminCookie, "Origin", srv.URL,
		"Sec-Fetch-Site", "same-origin")...)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin/users/"+id+"?done=grant-role" {
		t.Errorf("the console's own form: %d %v %s", r.Status, r.Header, r.Body)
	}
}

// TestConsoleConfirmsAndAsksForTheSignIn: an action that ends access goes
// through its confirmation page, and a sign-in older than --reauth-window
// is asked for the password first, after which the administrator is back
// where they were.
func TestConsoleConfirmsAndAsksForTheSignIn(t *testing.T) {
	srv, _ := startWithAdmin(t, []string{"--reauth-window", reauthWindow.String()})
	bob := signup(t, srv, "confirm-bob@example.com")
	id := userID(bob)
	admin := webLoginAs(t, srv, "root@example.com", adminPassword)

	// Without the confirmation page's field, the form leads to that page.
	r := postForm(t, srv, "/admin/users/"+id+"/disable", url.Values{}, withCookie(admin)...)
	confirm := "/admin/users/" + id + "/confirm?action=disable"
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != confirm {
		t.Fatalf("disable without confirming: %d %v", r.Status, r.Header)
	}
	page := srv.Do(t, "GET", confirm, nil, withCookie(admin)...)
	if page.Status != http.StatusOK || !strings.Contains(string(page.Body), `name="confirm" value="disable"`) || strings.Contains(string(page.Body), "reauth-password") {
		t.Fatalf("the confirmation page: %d %s", page.Status, page.Body)
	}
	checkPageHeaders(t, "confirmation page", page)
	if r := srv.Do(t, "GET", "/v1/me", nil, bearer(bob["access_token"])...); r.Status != http.StatusOK {
		t.Fatalf("bob was disabled without confirming: %d", r.Status)
	}
	for _, bad := range []string{"?action=enable", "?action=nothing", "?action=revoke-role"} {
		if r := srv.Do(t, "GET", "/admin/users/"+id+"/confirm"+bad, nil, withCookie(admin)...); r.Status == http.StatusOK {
			t.Errorf("confirmation page %s: %d", bad, r.Status)
		}
	}

	time.Sleep(reauthWindow + 200*time.Millisecond)
	// Stale: the confirmation page asks for the password, and so does the form.
	page = srv.Do(t, "GET", confirm, nil, withCookie(admin)...)
	if !strings.Contains(string(page.Body), "reauth-password") || strings.Contains(string(page.Body), `name="confirm"`) {
		t.Fatalf("stale confirmation page: %s", page.Body)
	}
	r = postForm(t, srv, "/admin/users/"+id+"/disable", url.Values{"confirm": {"disable"}}, withCookie(admin)...)
	back := "/admin/reauthenticate?" + url.Values{"done": {"reauth-needed"}, "return_to": {"/admin/users/" + id}}.Encode()
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != back {
		t.Fatalf("a stale disable: %d %v", r.Status, r.Header)
	}
	if r := srv.Do(t, "GET", back, nil, withCookie(admin)...); r.Status != http.StatusOK ||
		!strings.Contains(string(r.Body), `name="return_to" value="/admin/users/`+id+`"`) {
		t.Fatalf("the password prompt: %d %s", r.Status, r.Body)
	}
	// A wrong password is refused on the page; the right one leads back.
	r = postForm(t, srv, "/admin/reauthenticate", url.Values{"password": {"not it at all"}, "return_to": {confirm}}, withCookie(admin)...)
	if r.Status != http.StatusUnauthorized || !strings.Contains(string(r.Body), "reauth-password") {
		t.Fatalf("a wrong password: %d %s", r.Status, r.Body)
	}
	for _, evil := range []string{"//evil.example/admin", "https://evil.example/admin", "/account", "/admin\\@evil.example"} {
		r = postForm(t, srv, "/admin/reauthenticate", url.Values{"password": {adminPassword}, "return_to": {evil}}, withCookie(admin)...)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin?done=reauthenticated" {
			t.Errorf("return_to %q: %d %v", evil, r.Status, r.Header.Get("Location"))
		}
	}
	r = postForm(t, srv, "/admin/reauthenticate", url.Values{"password": {adminPassword}, "return_to": {confirm}}, withCookie(admin)...)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != confirm {
		t.Fatalf("the right password: %d %v", r.Status, r.Header)
	}
	r = postForm(t, srv, "/admin/users/"+id+"/disable", url.Values{"confirm": {"disable"}}, withCookie(admin)...)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin/users/"+id+"?done=disable" {
		t.Fatalf("disable after confirming: %d %v %s", r.Status, r.Header, r.Body)
	}
	if r := srv.Do(t, "GET", "/v1/me", nil, bearer(bob["access_token"])...); r.Status != http.StatusUnauthorized {
		t.Errorf("the disabled user's token: %d", r.Status)
	}
	// Refusals of the use case are shown on the user's page.
	r = postForm(t, srv, "/admin/users/"+id+"/grant-role", url.Values{"role": {"Not A Role"}}, withCookie(admin)...)
	if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "A role is 1 to 64 characters") || !strings.Contains(string(r.Body), `id="user-email"`) {
		t.Errorf("a bad role: %d %s", r.Status, r.Body)
	}
	rootID := srv.Do(t, "GET", "/v1/me", nil, withCookie(admin)...).String(t, "id")
	r = postForm(t, srv, "/admin/users/"+rootID+"/revoke-role", url.Values{"role": {"admin"}, "confirm": {"revoke-role"}}, withCookie(admin)...)
	if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "A user needs between 1 and") {
		t.Errorf("revoke the only role: %d %s", r.Status, r.Body)
	}
	if r := postForm(t, srv, "/admin/users/"+rootID+"/grant-role", url.Values{"role": {"user"}}, withCookie(admin)...); r.Status != http.StatusSeeOther {
		t.Fatalf("grant: %d %s", r.Status, r.Body)
	}
	r = postForm(t, srv, "/admin/users/"+rootID+"/revoke-role", url.Values{"role": {"admin"}, "confirm": {"revoke-role"}}, withCookie(admin)...)
	if r.Status != http.StatusConflict || !strings.Contains(string(r.Body), "no enabled administrator") {
		t.Errorf("the last admin revokes their own role: %d %s", r.Status, r.Body)
	}
}

// TestAdminStats: GET /v1/admin/stats counts the week's sign-ins,
// failures, refreshes and rate-limit refusals per hour from the audit log,
// for administrators only.
func TestAdminStats(t *testing.T) {
	forEachStore(t, func(t *testing.T, db []string) {
		srv, _ := startWithAdminOpts(t, apptest.Options{RateLimits: true}, db)
		admAuth := bearer(loginJSON(t, srv, "root@example.com", adminPassword)["access_token"])
		bob := signup(t, srv, "stats-bob@example.com")
		loginJSON(t, srv, "stats-bob@example.com", goodPassword)
		if r := srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": bob["refresh_token"]}); r.Status != http.StatusOK {
			t.Fatalf("refresh: %d %s", r.Status, r.Body)
		}
		failures := makeFailures(t, srv)

		r := srv.Do(t, "GET", "/v1/admin/stats", nil, admAuth...)
		if r.Status != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("stats: %d %v %s", r.Status, r.Header, r.Body)
		}
		var st stats
		if err := json.Unmarshal(r.Body, &st); err != nil {
			t.Fatal(err)
		}
		if len(st.Hours) != 168 || st.BucketSeconds != 3600 || !st.Hours[0].Start.Equal(st.From) ||
			time.Since(st.To) > time.Minute || st.To.Sub(st.Hours[167].Start) >= time.Hour || st.To.Before(st.Hours[167].Start) {
			t.Fatalf("shape: from %v to %v, %d hours of %ds, first %v, last %v", st.From, st.To, len(st.Hours), st.BucketSeconds,
				st.Hours[0].Start, st.Hours[167].Start)
		}
		var sum counts
		spikes := 0
		for i, h := range st.Hours {
			if i > 0 && h.Start.Sub(st.Hours[i-1].Start) != time.Hour {
				t.Fatalf("hour %d starts at %v after %v", i, h.Start, st.Hours[i-1].Start)
			}
			sum.SignIns, sum.Failures, sum.Refreshes, sum.RateLimited = sum.SignIns+h.SignIns, sum.Failures+h.Failures,
				sum.Refreshes+h.Refreshes, sum.RateLimited+h.RateLimited
			if h.Spike {
				spikes++
				if h.Failures < st.FailureStats.Minimum || float64(h.Failures) < st.FailureStats.Threshold {
					t.Errorf("hour %v is a spike with %d failures (threshold %v)", h.Start, h.Failures, st.FailureStats.Threshold)
				}
			}
		}
		// root and bob signed in (bob's sign-up is no sign-in); the wrong
		// passwords; one refresh; the locked account's refusal.
		want := counts{SignIns: 2, Failures: failures, Refreshes: 1, RateLimited: 1}
		if sum != st.Totals || st.Totals != want {
			t.Errorf("totals %+v, sum of the hours %+v, want %+v", st.Totals, sum, want)
		}
		if spikes == 0 || st.FailureStats.Minimum != 5 {
			t.Errorf("ten failures in an otherwise quiet week: %d spikes, %+v", spikes, st.FailureStats)
		}

		// Administrators only; a key needs the admin scope.
		unscoped := createKey(t, srv, admAuth, map[string]any{"name": "any"})["key"].(string)
		scoped := createKey(t, srv, admAuth, map[string]any{"name": "ops", "scopes": []string{"admin"}})["key"].(string)
		for name, h := range map[string][]string{"a user": bearer(bob["access_token"]), "an unscoped admin key": {"X-API-Key", unscoped}} {
			if r := srv.Do(t, "GET", "/v1/admin/stats", nil, h...); r.Status != http.StatusForbidden {
				t.Errorf("%s: %d %s", name, r.Status, r.Body)
			}
		}
		if r := srv.Do(t, "GET", "/v1/admin/stats", nil, "X-API-Key", scoped); r.Status != http.StatusOK {
			t.Errorf("an admin-scoped key: %d %s", r.Status, r.Body)
		}
	})
}

// makeFailures signs in to unknown accounts with wrong passwords: five to
// one, then to another until the back-off refuses one (with rate limits on;
// audited as rate_limited). It returns how many were wrong passwords.
func makeFailures(t *testing.T, srv *apptest.Instance) int64 {
	t.Helper()
	var n int64
	for _, email := range []string{"ghost-1@example.com", "ghost-2@example.com"} {
		for i := range 10 {
			r := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": email, "password": "wrong password!"})
			if r.Status == http.StatusTooManyRequests {
				return n
			}
			if r.Status != http.StatusUnauthorized {
				t.Fatalf("a wrong password: %d %s", r.Status, r.Body)
			}
			if n++; email == "ghost-1@example.com" && i == 4 {
				break
			}
		}
	}
	t.Fatalf("%d wrong passwords and no back-off", n)
	return n
}

type counts struct {
	SignIns     int64 `json:"sign_ins"`
	Failures    int64 `json:"failures"`
	Refreshes   int64 `json:"refreshes"`
	RateLimited int64 `json:"rate_limited"`
}

type stats struct {
	From, To      time.Time
	BucketSeconds int `json:"bucket_seconds"`
	Hours         []struct {
		Start time.Time
		counts
		Spike bool `json:"failure_spike"`
	}
	Totals       counts
	FailureStats struct {
		Mean, StdDev float64
		Threshold    float64 `json:"spike_threshold"`
		Minimum      int64   `json:"spike_minimum"`
	} `json:"failures"`
}

// TestConsoleAuditFiltersAndExport: the audit page filters by user (email
// or id), event type, outcome and time, and the export downloads the same
// events as CSV (safe to open in a spreadsheet) or JSON.
func TestConsoleAuditFiltersAndExport(t *testing.T) {
	srv, _ := startWithAdmin(t, nil)
	admin := webLoginAs(t, srv, "root@example.com", adminPassword)
	bob := signup(t, srv, "audit-bob@example.com")
	id := userID(bob)
	// A user agent that a spreadsheet would run as a formula.
	const formula = `=HYPERLINK("https://evil.example","click")`
	if r := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "audit-bob@example.com", "password": "wrong password!"},
		"User-Agent", formula); r.Status != http.StatusUnauthorized {
		t.Fatal(r.Status)
	}
	loginJSON(t, srv, "audit-bob@example.com", goodPassword)
	before := time.Now().UTC().Add(-time.Minute).Format("2006-01-02T15:04")
	after := time.Now().UTC().Add(2 * time.Minute).Format("2006-01-02T15:04")

	rows := func(q url.Values) (int, []string) {
		t.Helper()
		r := srv.Do(t, "GET", "/admin/audit?"+q.Encode(), nil, withCookie(admin)...)
		var types []string
		for _, part := range strings.Split(string(r.Body), `data-type="`)[1:] {
			types = append(types, part[:strings.IndexByte(part, '"')])
		}
		return r.Status, types
	}
	for _, c := range []struct {
		q    url.Values
		want []string
	}{
		{url.Values{"user": {"Audit-Bob@Example.com"}}, []string{"login.succeeded", "login.failed", "email.verification_sent", "signup"}},
		{url.Values{"user": {id}, "outcome": {"failure"}}, []string{"login.failed"}},
		{url.Values{"user": {id}, "type": {"signup"}}, []string{"signup"}},
		{url.Values{"user": {id}, "from": {before}, "to": {after}, "outcome": {"success"}}, []string{"login.succeeded", "email.verification_sent", "signup"}},
		{url.Values{"user": {id}, "to": {before}}, nil},
		{url.Values{"user": {id}, "from": {after}}, nil},
	} {
		// Events of one millisecond (signup and its mail) come in either
		// order: their IDs differ in random bits only.
		status, got := rows(c.q)
		slices.Sort(got)
		slices.Sort(c.want)
		if status != http.StatusOK || !slices.Equal(got, c.want) {
			t.Errorf("audit page %v: %d %v, want %v", c.q, status, got, c.want)
		}
	}
	for _, bad := range []url.Values{{"user": {"nobody@example.com"}}, {"type": {"login"}}, {"outcome": {"maybe"}}, {"from": {"yesterday"}},
		{"user": {strings.Repeat("x", 400)}}} {
		r := srv.Do(t, "GET", "/admin/audit?"+bad.Encode(), nil, withCookie(admin)...)
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `id="console-error"`) {
			t.Errorf("audit page %v: %d", bad, r.Status)
		}
	}

	// CSV: the same events, newest first; the formula is text.
	r := srv.Do(t, "GET", "/admin/audit/export?format=csv&user="+id, nil, withCookie(admin)...)
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(r.Header.Get("Content-Disposition"), `attachment; filename="latchkey-audit-`) || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("CSV export: %d %v", r.Status, r.Header)
	}
	records, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 5 || strings.Join(records[0], ",") != "id,time,type,outcome,user_id,session_id,api_key_id,ip,user_agent,reason" ||
		records[1][2] != "login.succeeded" || records[2][2] != "login.failed" || records[2][4] != id {
		t.Fatalf("CSV export: %q", records)
	}
	if records[2][8] != "'"+formula {
		t.Errorf("the user agent in CSV: %q, want it after an apostrophe", records[2][8])
	}
	// JSON: the admin API's shape.
	r = srv.Do(t, "GET", "/admin/audit/export?format=json&outcome=failure&user="+id, nil, withCookie(admin)...)
	var doc struct{ Events []map[string]any }
	if err := json.Unmarshal(r.Body, &doc); err != nil || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("JSON export: %v %v %s", err, r.Header, r.Body)
	}
	if len(doc.Events) != 1 || doc.Events[0]["type"] != "login.failed" || doc.Events[0]["user_agent"] != formula || doc.Events[0]["id"] != records[2][0] {
		t.Errorf("JSON export: %v", doc.Events)
	}
	// An export of more than one page of events (they are read 200 at a
	// time) holds them all, newest first.
	exported := func() []string {
		t.Helper()
		r := srv.Do(t, "GET", "/admin/audit/export?format=json", nil, withCookie(admin)...)
		var doc struct{ Events []struct{ ID string } }
		if err := json.Unmarshal(r.Body, &doc); err != nil {
			t.Fatalf("%v: %s", err, r.Body)
		}
		var ids []string
		for _, e := range doc.Events {
			ids = append(ids, e.ID)
		}
		return ids
	}
	n := len(exported())
	for range 250 {
		srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "nobody@example.com", "password": "wrong password!"})
	}
	ids := exported()
	if len(ids) != n+250 || !slices.IsSortedFunc(ids, func(a, b string) int { return strings.Compare(b, a) }) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Errorf("the whole export: %d events (want %d), newest first and each once: %v", len(ids), n+250,
			slices.IsSortedFunc(ids, func(a, b string) int { return strings.Compare(b, a) }))
	}
	for _, bad := range []string{"format=xml", "format=csv&type=nothing"} {
		if r := srv.Do(t, "GET", "/admin/audit/export?"+bad, nil, withCookie(admin)...); r.Status != http.StatusBadRequest {
			t.Errorf("export %s: %d", bad, r.Status)
		}
	}
}
