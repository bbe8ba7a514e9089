package web

import (
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

func week(fill func(i int, h *ActivityHour)) Activity {
	start := time.Date(2031, 3, 7, 16, 0, 0, 0, time.UTC)
	a := Activity{Threshold: 5, Rule: "the rule"}
	for i := range 168 {
		h := ActivityHour{Start: start.Add(time.Duration(i) * time.Hour)}
		if fill != nil {
			fill(i, &h)
		}
		a.Hours = append(a.Hours, h)
	}
	return a
}

// The charts: one bar per hour with events, on a scale that fits the
// busiest hour (and, for failures, the threshold); a marker above each
// spike; a line at every UTC midnight.
func TestCharts(t *testing.T) {
	a := week(func(i int, h *ActivityHour) {
		switch i {
		case 0:
			h.SignIns = 3
		case 100:
			h.Failures, h.Spike = 40, true
		case 101:
			h.Failures = 2
		case 167:
			h.Refreshes = 120
		}
	})
	a.Threshold = 12.5
	charts := Charts(a)
	if len(charts) != 4 {
		t.Fatalf("%d charts", len(charts))
	}
	signIns, failures, refreshes, limited := charts[0], charts[1], charts[2], charts[3]
	if len(signIns.Bars) != 1 || signIns.Bars[0].X != "46" || signIns.Bars[0].H != "63" || signIns.Bars[0].Fill != colourSignIns ||
		signIns.Bars[0].Label != "Fri 7 Mar 16:00 UTC: 3 sign-ins" {
		t.Errorf("sign-in bars: %+v", signIns.Bars) // 3 on a scale of 4 is 63 of 84 units
	}
	if labels := ticks(signIns.Grid); labels != "0 2 4" {
		t.Errorf("sign-in grid: %s", labels)
	}
	if len(failures.Bars) != 2 || failures.Bars[0].Fill != colourSpike || failures.Bars[1].Fill != colourFailures ||
		len(failures.Markers) != 1 || !strings.Contains(failures.Markers[0].Label, "40 failed sign-ins (a spike)") {
		t.Errorf("failure bars %+v, markers %+v", failures.Bars, failures.Markers)
	}
	if failures.Threshold == nil || failures.Threshold.Y1 != "79" || ticks(failures.Grid) != "0 25 50" {
		t.Errorf("failure threshold %+v, grid %s", failures.Threshold, ticks(failures.Grid)) // 12.5 of 50: 21 units above the bottom (100)
	}
	if signIns.Threshold != nil || refreshes.Threshold != nil || len(refreshes.Markers) != 0 {
		t.Error("a threshold or marker outside the failures chart")
	}
	if ticks(refreshes.Grid) != "0 100 200" || refreshes.Bars[0].X != "881" {
		t.Errorf("refreshes: grid %s, bar %+v", ticks(refreshes.Grid), refreshes.Bars[0])
	}
	if len(limited.Bars) != 0 || limited.Total != 0 || !strings.HasPrefix(limited.Summary, "Rate-limit refusals: 0 in the last 7 days.") {
		t.Errorf("an empty series: %+v", limited)
	}
	// The first hour, then each midnight: Sat 8 … Fri 14.
	if len(signIns.Days) != 8 || signIns.Days[0].Label != "Fri 7" || signIns.Days[1].Label != "Sat 8" || signIns.Days[7].Label != "Fri 14" {
		t.Errorf("days: %+v", signIns.Days)
	}
	want := "Failed sign-ins: 42 in the last 7 days, most in the hour from Tue 11 Mar 20:00 UTC (40); 1 hour above the spike threshold of 12.5 an hour."
	if failures.Summary != want {
		t.Errorf("summary:\n%s\nwant\n%s", failures.Summary, want)
	}
	// A single event is at least one unit tall.
	one := Charts(week(func(i int, h *ActivityHour) {
		if i == 5 {
			h.Refreshes = 1
		} else {
			h.Refreshes = 100000
		}
	}))[2]
	if one.Bars[5].H != "1" {
		t.Errorf("one refresh among many: %+v", one.Bars[5])
	}
}

func ticks(l []ChartTick) string {
	var out []string
	for _, t := range l {
		out = append(out, t.Label)
	}
	return strings.Join(out, " ")
}

func TestNiceCeiling(t *testing.T) {
	for v, want := range map[float64]int64{0: 4, 3: 4, 4: 4, 4.5: 5, 5: 5, 6: 10, 11: 20, 20: 20, 21: 50, 51: 100, 12345: 20000} {
		if got := niceCeiling(v); got != want {
			t.Errorf("niceCeiling(%v) = %d, want %d", v, got, want)
		}
	}
}

// The activity page's per-day totals and spikes, with a link to each
// spike's failures in the audit log.
func TestActivityPage(t *testing.T) {
	a := week(func(i int, h *ActivityHour) {
		h.SignIns = 1
		if i == 30 {
			h.Failures, h.Spike = 9, true
		}
	})
	v := NewActivityPage(Console{}, a, a.Hours[167].Start.Add(10*time.Minute))
	if len(v.Days) != 8 || v.Days[0].SignIns != 8 || v.Days[1].SignIns != 24 || v.Days[7].SignIns != 16 || v.Days[1].Failures != 9 {
		t.Errorf("days: %+v", v.Days)
	}
	if len(v.Spikes) != 1 || v.Spikes[0].Failures != 9 ||
		v.Spikes[0].AuditURL != "/admin/audit?from=2031-03-08T22%3A00&outcome=failure&to=2031-03-08T23%3A00" {
		t.Errorf("spikes: %+v", v.Spikes)
	}
}

// The console's pages render with what they are given, and carry no
// inline style or script: the CSP would block them.
func TestConsolePagesRender(t *testing.T) {
	p, err := NewPages()
	if err != nil {
		t.Fatal(err)
	}
	c := Console{AdminEmail: "root@example.test", Notice: "done <b>", Error: "refused"}
	user := UserRow{ID: "u1", Email: "a@example.test", Roles: []string{"user", "admin"}, Created: time.Unix(0, 0)}
	when := time.Date(2031, 3, 14, 15, 0, 0, 0, time.UTC)
	a := week(func(i int, h *ActivityHour) { h.SignIns, h.Failures, h.Spike = int64(i%7), int64(i%3)*10, i%3 == 2 })
	pages := map[string]func(w *httptest.ResponseRecorder) error{
		"activity": func(w *httptest.ResponseRecorder) error { return p.ConsoleActivity(w, NewActivityPage(c, a, when)) },
		"users": func(w *httptest.ResponseRecorder) error {
			return p.ConsoleUsers(w, 200, UsersPage{Console: c, Query: `"><script>`, Users: []UserRow{user, {ID: "u2", Email: "b@example.test", MFA: true}}, NextPage: "/admin/users?cursor=x", Paged: true})
		},
		"user": func(w *httptest.ResponseRecorder) error {
			return p.ConsoleUser(w, 200, UserPage{Console: c, User: user, Self: true,
				Sessions:   []SessionView{{ID: "s1", UserAgent: "UA", IP: "192.0.2.1", Created: when, LastUsed: when, Current: true}},
				APIKeys:    []ConsoleKeyView{{APIKeyView: APIKeyView{ID: "k1", Name: "ci", Prefix: "lk_abc", Created: when}, Scopes: []string{"admin"}}},
				Identities: []IdentityView{{ID: "i1", Label: "GitHub", Email: "a@example.test", Created: when}},
				MFA: ConsoleMFAView{Enabled: true, RecoveryCodesLeft: 3, Factors: []FactorView{{ID: "f1", Name: "Phone <b>", Created: when, LastUsed: when,
					Confirmed: true}, {ID: "f2", Name: "Tablet", Created: when}}},
				Actions: []ConsoleAction{{Name: "disable", Label: "Disable", URL: "/admin/users/u1/confirm?action=disable", Confirm: true, Danger: true}, {Name: "enable", Label: "Enable", URL: "/admin/users/u1/enable"}}})
		},
		"confirm": func(w *httptest.ResponseRecorder) error {
			return p.ConsoleConfirm(w, ConfirmPage{Console: c, User: user, Role: "admin", Action: ConsoleAction{Name: "revoke-role", Label: "Revoke the role",
				URL: "/admin/users/u1/revoke-role"}, Explanation: "why", NeedsReauth: true, ReturnTo: "/admin/users/u1/confirm?action=revoke-role&role=admin"})
		},
		"reauth": func(w *httptest.ResponseRecorder) error {
			return p.ConsoleReauth(w, 200, ReauthPage{Console: c, ReturnTo: "/admin"})
		},
		"audit": func(w *httptest.ResponseRecorder) error {
			return p.ConsoleAudit(w, 200, AuditPage{Console: c, Types: []string{"signup", "login.failed"}, Filter: AuditFilterView{Type: "login.failed"},
				Events:    []AuditRow{{ID: "e1", Type: "login.failed", Outcome: "failure", UserID: "u1", UserAgent: "=cmd()", Time: when}},
				ExportCSV: "/admin/audit/export?format=csv", ExportJSON: "/admin/audit/export?format=json"})
		},
		"keys": func(w *httptest.ResponseRecorder) error {
			return p.ConsoleKeys(w, KeysPage{Console: c, Keys: []SigningKeyView{{KID: "k1", Alg: "ES256", State: "current", Created: when, Activated: &when}}})
		},
	}
	inline := regexp.MustCompile(`(?i)<script|\sstyle=|\son[a-z]+=`)
	for name, want := range map[string][]string{
		"users": {`<span class="tag" data-mfa>two-step</span>`},
		"user":  {`data-factor="f1"`, "Phone &lt;b&gt;", `Tablet <span class="tag">not confirmed</span>`, "3 unused recovery codes", "On: signing in asks"},
	} {
		w := httptest.NewRecorder()
		if err := pages[name](w); err != nil {
			t.Fatal(err)
		}
		for _, s := range want {
			if !strings.Contains(w.Body.String(), s) {
				t.Errorf("%s page lacks %q", name, s)
			}
		}
	}
	for name, render := range pages {
		w := httptest.NewRecorder()
		if err := render(w); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		body := w.Body.String()
		if m := inline.FindString(body); m != "" {
			t.Errorf("%s: inline %q", name, m)
		}
		if w.Header().Get("Content-Security-Policy") != ContentSecurityPolicy || !strings.Contains(body, `aria-label="Admin console"`) ||
			!strings.Contains(body, `<main id="main" tabindex="-1" class="wide">`) || !strings.Contains(body, "done &lt;b&gt;") {
			t.Errorf("%s: headers %v, body\n%s", name, w.Header(), body)
		}
	}
}

// The page that stops an administrator without two-step sign-in says what
// to do: add an authenticator on the account page, or enter a code here
// (a form that comes back to the console page).
func TestConsoleMFAPage(t *testing.T) {
	p, err := NewPages()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		v         ConsoleMFAPage
		want, not []string
	}{
		{ConsoleMFAPage{NoFactor: true, ReturnTo: "/admin"}, []string{`href="/account#mfa" id="add-authenticator"`}, []string{"<form"}},
		{ConsoleMFAPage{ReturnTo: "/admin/users?q=a&b", Error: "The code is incorrect."}, []string{`<form method="post" action="/account/mfa/verify"`,
			`name="return_to" value="/admin/users?q=a&amp;b"`, `id="mfa-error">The code is incorrect.`, `href="/account#mfa"`}, []string{"add-authenticator"}},
	} {
		w := httptest.NewRecorder()
		if err := p.ConsoleMFA(w, 403, c.v); err != nil {
			t.Fatal(err)
		}
		body := w.Body.String()
		if w.Code != 403 || w.Header().Get("Content-Security-Policy") != ContentSecurityPolicy || strings.Contains(body, `aria-label="Admin console"`) {
			t.Errorf("%+v: %d %v", c.v, w.Code, w.Header())
		}
		for _, s := range c.want {
			if !strings.Contains(body, s) {
				t.Errorf("%+v: lacks %q in\n%s", c.v, s, body)
			}
		}
		for _, s := range c.not {
			if strings.Contains(body, s) {
				t.Errorf("%+v: has %q", c.v, s)
			}
		}
	}
}
