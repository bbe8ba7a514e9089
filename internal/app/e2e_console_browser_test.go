package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/internal/store/sqlite"
)

// cspWatch collects what the browser reports about Content-Security-Policy
// violations: a style or script the page's policy blocked.
type cspWatch struct {
	mu   sync.Mutex
	seen []string
}

func watchCSP(t *testing.T, ctx context.Context) *cspWatch {
	t.Helper()
	w := &cspWatch{}
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*cdplog.EventEntryAdded); ok && strings.Contains(e.Entry.Text, "Content Security Policy") {
			w.mu.Lock()
			w.seen = append(w.seen, e.Entry.Text)
			w.mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	return w
}

// take returns the violations reported so far and forgets them.
func (w *cspWatch) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.seen
	w.seen = nil
	return out
}

// a11yScript lists what keeps a console page from working with a keyboard
// and a screen reader, or at phone width: unlabelled fields, tables
// without caption or header scopes, charts without a text name, nameless
// links and buttons, duplicate ids, no skip link, text below 4.5:1
// contrast, inline styles or scripts, and a page wider than the window.
const a11yScript = `(() => {
  const problems = [];
  const name = el => el.outerHTML.slice(0, 80);
  for (const el of document.querySelectorAll('input:not([type=hidden]):not([hidden]), select, textarea'))
    if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby')) problems.push('unlabelled field ' + name(el));
  for (const t of document.querySelectorAll('table')) {
    if (!t.caption || !t.caption.textContent.trim()) problems.push('table without a caption ' + t.id);
    for (const th of t.querySelectorAll('thead th')) if (th.getAttribute('scope') !== 'col') problems.push('column header without scope in ' + t.id);
  }
  for (const svg of document.querySelectorAll('svg[role=img]')) {
    const ids = (svg.getAttribute('aria-labelledby') || '').split(' ').filter(Boolean);
    if (!ids.length || ids.some(id => !document.getElementById(id) || !document.getElementById(id).textContent.trim())) problems.push('a chart without a name');
  }
  for (const el of document.querySelectorAll('a[href], button'))
    if (!el.textContent.trim() && !el.getAttribute('aria-label')) problems.push('nameless ' + name(el));
  const ids = new Set();
  for (const el of document.querySelectorAll('[id]')) { if (ids.has(el.id)) problems.push('duplicate id ' + el.id); ids.add(el.id); }
  if (!document.querySelector('a.skip[href="#main"]') || !document.getElementById('main')) problems.push('no skip link');
  if (document.querySelectorAll('h1').length !== 1) problems.push('not one h1');
  for (const el of document.querySelectorAll('[style], script')) problems.push('inline style or script ' + name(el));
  const rgb = s => (s.match(/[\d.]+/g) || []).map(Number);
  const lum = c => { const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const background = el => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor); if (c.length === 3 || c[3] > 0) return c; } return [255, 255, 255]; };
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('svg') || !el.offsetParent) continue;
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const fg = lum(rgb(getComputedStyle(el).color)), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) problems.push('contrast ' + ratio.toFixed(2) + ' ' + name(el));
  }
  if (document.documentElement.scrollWidth > window.innerWidth + 1) problems.push('the page is wider than the window: ' + document.documentElement.scrollWidth);
  return problems;
})()`

// checkA11y runs a11yScript on the page at desktop and phone width, and
// checks that the browser blocked nothing of it.
func checkA11y(t *testing.T, ctx context.Context, csp *cspWatch, page string) {
	t.Helper()
	for _, v := range []struct{ w, h int64 }{{390, 844}, {1280, 800}} {
		run(t, ctx, "viewport", chromedp.EmulateViewport(v.w, v.h))
		if problems := get(t, ctx, "a11y "+page, chromedp.Evaluate[[]string](a11yScript)); len(problems) > 0 {
			t.Errorf("%s at %dpx: %q", page, v.w, problems)
		}
	}
	if seen := csp.take(); len(seen) > 0 {
		t.Errorf("%s: the browser reported Content-Security-Policy violations: %q", page, seen)
	}
}

// js evaluates a JavaScript expression on the page.
func js[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	return get(t, ctx, expr, chromedp.Evaluate[T](expr))
}

// weekOfActivity writes a week of audit events before the hour under way
// into the installation's SQLite database, as a busy service would have
// them: sign-ins by the time of day, three refreshes each, a few failures,
// and one attack: many failures in one hour, two days ago. It returns the
// totals and the attack's hour and failures.
func weekOfActivity(t *testing.T, dir string) (total [4]int64, attack time.Time, attackFailures int64) {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(dir, "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	perHour := [24]int64{2, 1, 1, 1, 1, 2, 4, 8, 14, 20, 24, 26, 25, 24, 26, 27, 25, 22, 16, 11, 8, 6, 4, 3}
	now := time.Now().UTC().Truncate(time.Hour)
	attack = now.Add(-48 * time.Hour)
	err = db.InTx(t.Context(), func(tx latchkey.Tx) error {
		// Not the week's first hour: should the hour turn while the test
		// runs, the chart's week moves on, and still holds every event.
		for h := 166; h >= 1; h-- {
			start := now.Add(-time.Duration(h) * time.Hour)
			signIns := perHour[start.Hour()]
			if wd := start.Weekday(); wd == time.Saturday || wd == time.Sunday {
				signIns /= 2
			}
			failures, limited := signIns/10+int64(h%3), int64(0)
			if start.Equal(attack) {
				failures, limited, attackFailures = failures+60, 4, failures+60
			}
			n := 0
			for _, c := range []struct {
				typ, outcome string
				count        int64
			}{{latchkey.AuditLoginSucceeded, latchkey.OutcomeSuccess, signIns}, {latchkey.AuditLoginFailed, latchkey.OutcomeFailure, failures},
				{latchkey.AuditRefresh, latchkey.OutcomeSuccess, 3 * signIns}, {latchkey.AuditRateLimited, latchkey.OutcomeFailure, limited}} {
				for range c.count {
					n++
					tm := start.Add(time.Duration(n) * time.Second)
					if err := tx.AppendAudit(t.Context(), &latchkey.AuditEvent{ID: latchkey.NewID(tm), Time: tm, Type: c.typ, Outcome: c.outcome,
						IP: "192.0.2.10", UserAgent: "seed"}); err != nil {
						return err
					}
				}
			}
			total[0], total[1], total[2], total[3] = total[0]+signIns, total[1]+failures, total[2]+3*signIns, total[3]+limited
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return total, attack, attackFailures
}

// TestBrowserAdminConsole: an administrator reads the activity chart,
// finds a user, disables them (the user's next request is refused),
// enables them again, grants a role (in the user's next token), ends their
// sessions and reads the audit entry of each action; a form from another
// site is refused; a user without the role gets 403 everywhere. Every page
// passes the accessibility checks at phone and desktop width, with the
// strict CSP blocking nothing.
func TestBrowserAdminConsole(t *testing.T) {
	srv, dir := startWithAdminOpts(t, apptest.Options{RateLimits: true}, nil)
	ctx := chromium(t)
	csp := watchCSP(t, ctx)
	week, attack, attackFailures := weekOfActivity(t, dir)
	bob := signup(t, srv, "bob@example.com")
	bobID := userID(bob)
	bobKey := createKey(t, srv, bearer(bob["access_token"]), map[string]any{"name": "deploy"})["key"].(string)
	failures := makeFailures(t, srv)

	// The CSP watch sees a blocked inline style (so that its silence below
	// means something).
	strict := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "style-src 'self'")
		_, _ = w.Write([]byte(`<!doctype html><p style="color: red">inline</p>`))
	}))
	defer strict.Close()
	run(t, ctx, "a page with an inline style", chromedp.Navigate(strict.URL), chromedp.WaitVisible(chromedp.CSS("p")))
	waitFor(t, 10*time.Second, "the CSP violation report", func() bool { csp.mu.Lock(); defer csp.mu.Unlock(); return len(csp.seen) > 0 })
	csp.take()
	// And the accessibility checks find what that page lacks.
	if problems := js[[]string](t, ctx, a11yScript); !slices.Contains(problems, "no skip link") || !slices.Contains(problems, "not one h1") {
		t.Fatalf("the accessibility checks on a bare page: %q", problems)
	}

	// Sign in; the console opens on the activity charts.
	run(t, ctx, "sign in", chromedp.Navigate(srv.URL+"/login?return_to=%2Fadmin"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "root@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), adminPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#chart-failures")))
	if loc := get(t, ctx, "location", chromedp.Location()); loc != srv.URL+"/admin" {
		t.Fatalf("after signing in: %s", loc)
	}
	// The chart is drawn, coloured by its presentation attributes, and the
	// failures' spike is marked.
	if n := js[int](t, ctx, `document.querySelectorAll('#chart-failures rect').length`); n == 0 {
		t.Error("no failure bars")
	}
	if fill := js[string](t, ctx, `getComputedStyle(document.querySelector('#chart-sign-ins rect')).fill`); fill != "rgb(36, 80, 216)" {
		t.Errorf("a sign-in bar is filled with %q", fill)
	}
	if w := js[float64](t, ctx, `document.querySelector('#chart-failures svg').getBoundingClientRect().width`); w < 600 {
		t.Errorf("the failures chart is %.0fpx wide", w)
	}
	// The attack two days ago is marked (the live failures of this hour
	// may be too, depending on how the week looks).
	attackTip := fmt.Sprintf("%s: %d failed sign-ins (a spike)", attack.Format("Mon 2 Jan 15:04 UTC"), attackFailures)
	if tips := js[[]string](t, ctx, `[...document.querySelectorAll('#chart-failures polygon.spike title')].map(t => t.textContent)`); !slices.Contains(tips, attackTip) {
		t.Errorf("the spike markers: %q, want %q", tips, attackTip)
	}
	for id, want := range map[string]string{
		"chart-failures-summary":     fmt.Sprintf("Failed sign-ins: %d in the last 7 days", week[1]+failures),
		"chart-rate-limited-summary": fmt.Sprintf("Rate-limit refusals: %d in the last 7 days", week[3]+1),
		"chart-sign-ins-summary":     fmt.Sprintf("Sign-ins: %d in the last 7 days", week[0]+1),
		"chart-refreshes-summary":    fmt.Sprintf("Token refreshes: %d in the last 7 days", week[2]),
		"spikes":                     fmt.Sprintf("%s: %d failed sign-ins", attack.Format("Mon 2 Jan 15:04 UTC"), attackFailures),
	} {
		if text := get(t, ctx, id, chromedp.Text(chromedp.ID(id))); !strings.Contains(text, want) {
			t.Errorf("#%s: %q, want %q", id, text, want)
		}
	}
	checkA11y(t, ctx, csp, "activity")
	screenshots(t, ctx, "admin-activity")

	// The keyboard: the first Tab reaches the skip link, which shows its
	// focus and leads to the content.
	run(t, ctx, "tab", chromedp.Navigate(srv.URL+"/admin/users"), chromedp.WaitVisible(chromedp.CSS("#q")), chromedp.KeyEvent(kb.Tab))
	if focus := js[string](t, ctx, `document.activeElement.className + ' ' + getComputedStyle(document.activeElement).outlineStyle`); focus != "skip solid" {
		t.Errorf("after the first Tab: %q, want the skip link with a visible outline", focus)
	}
	run(t, ctx, "follow the skip link", chromedp.KeyEvent(kb.Enter))
	waitFor(t, 5*time.Second, "focus on the content", func() bool { return js[string](t, ctx, `document.activeElement.id`) == "main" })

	// Find bob.
	run(t, ctx, "search", chromedp.SendKeys(chromedp.CSS("#q"), "bob@"), chromedp.Click(chromedp.CSS("#search")))
	waitForLocation(t, ctx, "q=bob%40")
	run(t, ctx, "the search's answer", chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf("tr[data-user=%q]", bobID))))
	if rows := js[int](t, ctx, `document.querySelectorAll('#users tbody tr').length`); rows != 1 {
		t.Errorf("the search found %d users", rows)
	}
	checkA11y(t, ctx, csp, "users")
	screenshots(t, ctx, "admin-users")
	run(t, ctx, "open bob", chromedp.Click(chromedp.CSS(fmt.Sprintf("tr[data-user=%q] a", bobID))), chromedp.WaitVisible(chromedp.CSS("#user-email")))
	checkA11y(t, ctx, csp, "user")

	// Disable, after the confirmation page; bob's next requests are refused.
	run(t, ctx, "disable…", chromedp.Click(chromedp.CSS("#action-disable")), chromedp.WaitVisible(chromedp.CSS("#confirm")))
	checkA11y(t, ctx, csp, "confirmation")
	screenshots(t, ctx, "admin-confirm")
	run(t, ctx, "confirm", chromedp.Click(chromedp.CSS("#confirm")))
	waitForLocation(t, ctx, "done=disable")
	if status := get(t, ctx, "status", chromedp.Text(chromedp.ID("user-status"))); status != "disabled" {
		t.Errorf("status after disabling: %q", status)
	}
	for name, h := range map[string][]string{"access token": bearer(bob["access_token"]), "API key": {"X-API-Key", bobKey}} {
		if r := srv.Do(t, "GET", "/v1/me", nil, h...); r.Status != http.StatusUnauthorized {
			t.Errorf("bob's %s after disabling: %d", name, r.Status)
		}
	}
	if r := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "bob@example.com", "password": goodPassword}); r.Status != http.StatusUnauthorized {
		t.Errorf("bob signs in while disabled: %d", r.Status)
	}

	// Enable: bob signs in again.
	run(t, ctx, "enable", chromedp.Click(chromedp.CSS("#action-enable")))
	waitForLocation(t, ctx, "done=enable")
	tok := loginJSON(t, srv, "bob@example.com", goodPassword)
	createKey(t, srv, bearer(tok["access_token"]), map[string]any{"name": "nightly report", "scopes": []string{"reports:read"}})

	// Grant a role: in bob's next token.
	run(t, ctx, "grant a role", chromedp.SendKeys(chromedp.CSS("#grant-role"), "reports"), chromedp.Click(chromedp.CSS("#grant-role-submit")))
	waitForLocation(t, ctx, "done=grant-role")
	run(t, ctx, "the role is listed", chromedp.WaitVisible(chromedp.CSS(`li[data-role="reports"]`)))
	r := srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": tok["refresh_token"]})
	if r.Status != http.StatusOK {
		t.Fatalf("bob's refresh: %d %s", r.Status, r.Body)
	}
	tok = r.JSON(t)
	if claims := jwtPart(t, tok["access_token"], 1); !strings.Contains(fmt.Sprint(claims["roles"]), "reports") {
		t.Errorf("bob's next token: roles %v", claims["roles"])
	}
	screenshots(t, ctx, "admin-user")

	// A form from another site, with the administrator's cookie: refused.
	evil := attackerSite(t, srv.URL+"/admin/users/"+bobID+"/end-sessions", url.Values{"confirm": {"end-sessions"}})
	run(t, ctx, "cross-site form", chromedp.Navigate(evil), chromedp.WaitVisible(chromedp.CSS("#error-title")))
	if title := get(t, ctx, "title", chromedp.Text(chromedp.CSS("#error-title"))); title != "Forbidden" {
		t.Errorf("the cross-site form: %q", title)
	}
	if r := srv.Do(t, "GET", "/v1/me", nil, bearer(tok["access_token"])...); r.Status != http.StatusOK {
		t.Fatalf("bob after the cross-site form: %d", r.Status)
	}
	csp.take() // the attacker's page has its own policy

	// End every session: bob's token and refresh token stop working.
	run(t, ctx, "end sessions…", chromedp.Navigate(srv.URL+"/admin/users/"+bobID), chromedp.WaitVisible(chromedp.CSS("#action-end-sessions")),
		chromedp.Click(chromedp.CSS("#action-end-sessions")), chromedp.WaitVisible(chromedp.CSS("#confirm")),
		chromedp.Click(chromedp.CSS("#confirm")))
	waitForLocation(t, ctx, "done=end-sessions")
	if r := srv.Do(t, "GET", "/v1/me", nil, bearer(tok["access_token"])...); r.Status != http.StatusUnauthorized {
		t.Errorf("bob's token after ending his sessions: %d", r.Status)
	}
	if r := srv.Do(t, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": tok["refresh_token"]}); r.Status == http.StatusOK {
		t.Errorf("bob's refresh after ending his sessions: %d", r.Status)
	}

	// Reset two-step sign-in: bob's page lists his authenticator (never its
	// secret); the reset ends his session, and he signs in with his
	// password alone.
	tok = loginJSON(t, srv, "bob@example.com", goodPassword)
	bobSecret, _ := enrollTOTP(t, srv, bearer(tok["access_token"]), time.Now())
	run(t, ctx, "bob's factors", chromedp.Navigate(srv.URL+"/admin/users/"+bobID), chromedp.WaitVisible(chromedp.CSS("#mfa-factors")))
	checkA11y(t, ctx, csp, "user with a second factor")
	if text := get(t, ctx, "two-step sign-in", chromedp.Text(chromedp.ID("mfa"))); !strings.Contains(text, "phone") ||
		!strings.Contains(text, "10 unused recovery codes") || strings.Contains(text, bobSecret) {
		t.Errorf("bob's second factors: %q", text)
	}
	run(t, ctx, "reset two-step sign-in…", chromedp.Click(chromedp.CSS("#action-reset-mfa")), chromedp.WaitVisible(chromedp.CSS("#confirm")),
		chromedp.Click(chromedp.CSS("#confirm")))
	waitForLocation(t, ctx, "done=reset-mfa")
	if r := srv.Do(t, "GET", "/v1/me", nil, bearer(tok["access_token"])...); r.Status != http.StatusUnauthorized {
		t.Errorf("bob's token after the reset: %d", r.Status)
	}
	if in := loginJSON(t, srv, "bob@example.com", goodPassword); in["access_token"] == nil {
		t.Errorf("bob's sign-in after the reset asks for more: %v", in)
	}

	// The audit log of bob: one entry per action, naming the administrator.
	run(t, ctx, "bob's audit log", chromedp.Click(chromedp.CSS("#user-audit")), chromedp.WaitVisible(chromedp.CSS("#audit")))
	rows := js[[]string](t, ctx, `[...document.querySelectorAll('#audit tbody tr')].map(r => r.dataset.type + ' | ' + r.querySelector('.details').textContent)`)
	for _, want := range []string{
		"user.updated | changed disabled; disabled: 1 sessions and every API key ended; by admin ",
		"user.updated | changed disabled; by admin ",
		"user.updated | changed roles; by admin ",
		"session.revoked | revoked by admin ",
		"mfa.reset | by admin ",
		"session.revoked | mfa reset by admin ",
	} {
		if !containsPrefix(rows, want) {
			t.Errorf("bob's audit log lacks %q: %q", want, rows)
		}
	}
	checkA11y(t, ctx, csp, "audit")
	screenshots(t, ctx, "admin-audit")
	// Filter by type with the form: the sessions ended, then the reset.
	run(t, ctx, "filter", chromedp.SetValue(chromedp.CSS("#f-type"), "session.revoked"), chromedp.Click(chromedp.CSS("#filter")))
	waitForLocation(t, ctx, "type=session.revoked")
	if types := js[[]string](t, ctx, `[...document.querySelectorAll('#audit tbody tr')].map(r => r.dataset.type)`); len(types) != 2 || types[0] != "session.revoked" || types[1] != "session.revoked" {
		t.Errorf("filtered by session.revoked: %q", types)
	}

	// The signing keys: rotate.
	run(t, ctx, "keys", chromedp.Click(chromedp.CSS(`.console-nav a[href="/admin/keys"]`)), chromedp.WaitVisible(chromedp.CSS("#rotate")))
	current := js[string](t, ctx, `document.querySelector('tr[data-state=current]').dataset.kid`)
	checkA11y(t, ctx, csp, "keys")
	screenshots(t, ctx, "admin-keys")
	run(t, ctx, "rotate", chromedp.Click(chromedp.CSS("#rotate")))
	waitForLocation(t, ctx, "done=rotate")
	if now := js[string](t, ctx, `document.querySelector('tr[data-state=current]').dataset.kid`); now == current || now == "" {
		t.Errorf("the current key after rotating: %q (before: %q)", now, current)
	}
	rotations := adminAudit(t, srv, bearer(loginJSON(t, srv, "root@example.com", adminPassword)["access_token"]), latchkey.AuditKeysRotated)
	if len(rotations) != 1 || rotations[0]["user_id"] == "" || rotations[0]["session_id"] == "" {
		t.Errorf("keys.rotated events: %v, want one naming the administrator and their session", rotations)
	}

	// OAuth clients: create one with the form; its secret is on the next
	// page, and the client's page does not show it.
	run(t, ctx, "clients", chromedp.Click(chromedp.CSS(`.console-nav a[href="/admin/clients"]`)), chromedp.WaitVisible(chromedp.CSS("#create")))
	checkA11y(t, ctx, csp, "clients")
	screenshots(t, ctx, "admin-clients")
	run(t, ctx, "create a client", chromedp.SendKeys(chromedp.CSS("#client-name"), "Intranet"),
		chromedp.SendKeys(chromedp.CSS("#client-redirects"), "https://intranet.example/cb"), chromedp.Click(chromedp.CSS("#create")),
		chromedp.WaitVisible(chromedp.CSS("#client-secret")))
	checkA11y(t, ctx, csp, "client created")
	clientSecret := get(t, ctx, "the secret", chromedp.Value(chromedp.CSS("#client-secret")))
	if len(clientSecret) < 43 {
		t.Errorf("the new client's secret: %q", clientSecret)
	}
	run(t, ctx, "the client's page", chromedp.Click(chromedp.CSS("a.button.primary")), chromedp.WaitVisible(chromedp.CSS("#client-facts")))
	checkA11y(t, ctx, csp, "client")
	if body := get(t, ctx, "the client's page", chromedp.OuterHTML(chromedp.CSS("html"))); strings.Contains(body, clientSecret) {
		t.Error("the client's page shows the secret")
	}

	// Bob, signed in, is no administrator: 403 on the console.
	run(t, ctx, "sign out", chromedp.Click(chromedp.CSS("#sign-out")), chromedp.WaitVisible(chromedp.CSS("#email")))
	run(t, ctx, "bob signs in", chromedp.SendKeys(chromedp.CSS("#email"), "bob@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), goodPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS("#account-email")))
	for _, path := range []string{"/admin", "/admin/users", "/admin/users/" + bobID, "/admin/audit", "/admin/keys", "/admin/clients"} {
		run(t, ctx, "bob opens "+path, chromedp.Navigate(srv.URL+path), chromedp.WaitVisible(chromedp.CSS("#error-title")))
		if title := get(t, ctx, "title", chromedp.Text(chromedp.CSS("#error-title"))); title != "Forbidden" {
			t.Errorf("bob at %s: %q", path, title)
		}
	}
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}
