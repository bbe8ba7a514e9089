package ratelimit

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// docs/rate-limits.md promises operators every limit latchkey applies. These
// tests hold it to the code: its rule table must list exactly the rules of
// Defaults(), with their numbers, and name only endpoints the server serves;
// its back-off table must give DefaultBackoff's numbers.
const (
	docPath = "../../docs/rate-limits.md"
	// routesPath holds the route table generated from the server's routes
	// (internal/server's TestSecurityDocListsEveryRoutePolicy keeps it equal
	// to the code), so routes built from constants count too.
	routesPath = "../../docs/security.md"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDocListsEveryRule(t *testing.T) {
	for _, p := range checkRuleDoc(readFile(t, docPath), readFile(t, routesPath), Defaults().All()) {
		t.Errorf("%s: %s", docPath, p)
	}
}

func TestDocBackoff(t *testing.T) {
	for _, p := range checkBackoffDoc(readFile(t, docPath), DefaultBackoff()) {
		t.Errorf("%s: %s", docPath, p)
	}
}

// TestDocChecksCatchDrift changes the real document in the ways it could
// drift from the code, and expects each change to be reported.
func TestDocChecksCatchDrift(t *testing.T) {
	doc, routes := readFile(t, docPath), readFile(t, routesPath)
	rules := Defaults().All()
	if p := checkRuleDoc(doc, routes, rules); len(p) != 0 {
		t.Fatalf("the document does not pass to begin with: %v", p)
	}
	row := func(name string) string {
		for line := range strings.Lines(doc) {
			if strings.HasPrefix(line, "| `"+name+"` |") {
				return line
			}
		}
		t.Fatalf("no row for %s", name)
		return ""
	}
	login := row("login-ip")
	for _, tc := range []struct {
		name, old, new, want string
		rules                []Rule
	}{
		{"row removed", login, "", "login-ip", rules},
		{"rule only in the doc", login, login + strings.Replace(login, "login-ip", "refresh-account", 1), "refresh-account", rules},
		{"other burst", login, strings.Replace(login, "| 30 | 10 min |", "| 31 | 10 min |", 1), "login-ip", rules},
		{"other period", login, strings.Replace(login, "| 30 | 10 min |", "| 30 | 1 h |", 1), "login-ip", rules},
		{"other steady rate", login, strings.Replace(login, "1 per 20 s", "1 per 2 s", 1), "login-ip", rules},
		{"listed twice", login, login + login, "login-ip", rules},
		{"wrong key", login, strings.Replace(login, "| IP |", "| account |", 1), "login-ip", rules},
		{"endpoint that does not exist", login, strings.Replace(login, "`POST /login`", "`POST /v1/auth/password-reset`", 1), "password-reset", rules},
		{"no endpoint", login, strings.Replace(login, "`POST /v1/auth/login`, `POST /login`", "", 1), "login-ip", rules},
		{"rule only in the code", "", "", "extra-ip", append(rules[:len(rules):len(rules)], Rule{"extra-ip", 1, time.Minute})},
		{"rule only in the text", "## Rules\n", "## Rules\n\nSee also `password-reset-account`.\n", "password-reset-account", rules},
	} {
		changed := strings.Replace(doc, tc.old, tc.new, 1)
		problems := checkRuleDoc(changed, routes, tc.rules)
		if !strings.Contains(strings.Join(problems, "\n"), tc.want) {
			t.Errorf("%s: problems %q do not mention %s", tc.name, problems, tc.want)
		}
	}
	if p := checkBackoffDoc(doc, BackoffConfig{FreeFailures: 5, BaseLock: 20 * time.Second, MaxLock: 15 * time.Minute, ForgetAfter: time.Hour}); len(p) < 2 {
		t.Errorf("another first lock gave %q, want the first lock and the growth reported", p)
	}
	if p := checkBackoffDoc(strings.Replace(doc, "| free failures | 5 |", "| free failures | 6 |", 1), DefaultBackoff()); len(p) == 0 {
		t.Error("another number of free failures was not reported")
	}
}

// checkRuleDoc compares the table under "## Rules" with rules and the route table.
func checkRuleDoc(doc, routes string, rules []Rule) (problems []string) {
	rows, err := tableAfter(doc, "## Rules")
	if err != nil {
		return []string{err.Error()}
	}
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	byName := map[string]Rule{}
	for _, r := range rules {
		byName[r.Name] = r
	}
	seen, listed := map[string]bool{}, map[string]bool{}
	for _, row := range rows {
		name := strings.Trim(row["Rule"], "`")
		listed[name] = true
		r, ok := byName[name]
		switch {
		case seen[name]:
			bad("rule %q is listed twice", name)
			continue
		case !ok:
			bad("rule %q is documented but the code has no such rule", name)
			continue
		}
		seen[name] = true
		if limit, err := strconv.Atoi(row["Burst (q)"]); err != nil || limit != r.Limit {
			bad("rule %q: burst %q, the code says %d", name, row["Burst (q)"], r.Limit)
		}
		if period, err := parseDocDuration(row["Period (w)"]); err != nil || period != r.Period {
			bad("rule %q: period %q, the code says %s", name, row["Period (w)"], r.Period)
		}
		if every, err := parseSteadyRate(row["Steady rate"]); err != nil || every != r.interval() {
			bad("rule %q: steady rate %q, the code gives one request every %s", name, row["Steady rate"], r.interval())
		}
		if want := keyKind(name); !strings.HasPrefix(row["Key"], want) {
			bad("rule %q: key %q, want %q (from the rule's name)", name, row["Key"], want)
		}
		problems = append(problems, checkEndpoints(name, row["Applied to"], routes)...)
	}
	for _, r := range rules {
		if !seen[r.Name] {
			bad("rule %q (%d per %s) is missing", r.Name, r.Limit, r.Period)
		}
	}
	// The prose must not speak of rules that do not exist either (those
	// listed in the table are reported above).
	for _, m := range codeSpan.FindAllStringSubmatch(doc, -1) {
		if _, ok := byName[m[1]]; ruleName.MatchString(m[1]) && !ok && !listed[m[1]] {
			bad("the text names rule %q, which the code does not have", m[1])
		}
	}
	return problems
}

// keyKind is what a rule's name says it is keyed by.
func keyKind(name string) string {
	switch {
	case strings.HasSuffix(name, "-ip"):
		return "IP"
	case strings.HasSuffix(name, "-account"):
		return "account"
	case strings.HasSuffix(name, "-prefix"):
		return "key prefix"
	case strings.HasSuffix(name, "-key"):
		return "API key"
	}
	return "?"
}

var (
	codeSpan = regexp.MustCompile("`([^`]*)`")
	endpoint = regexp.MustCompile(`^(?:(?:GET|HEAD|POST|PUT|PATCH|DELETE) )?/`)
	ruleName = regexp.MustCompile(`^[a-z]+(?:-[a-z]+)*-(?:ip|account|prefix|key)$`)
)

// checkEndpoints requires at least one entry under "Applied to", and that
// every endpoint it names in code spans is a route of the route table.
func checkEndpoints(rule, applied, routes string) (problems []string) {
	if strings.TrimSpace(applied) == "" {
		return []string{fmt.Sprintf("rule %q: no endpoint under Applied to", rule)}
	}
	for _, m := range codeSpan.FindAllStringSubmatch(applied, -1) {
		if e := m[1]; endpoint.MatchString(e) && !strings.Contains(routes, "| `"+e+"` |") {
			problems = append(problems, fmt.Sprintf("rule %q: endpoint %q is not a route in %s", rule, e, routesPath))
		}
	}
	return problems
}

// checkBackoffDoc compares the table under "## Failure back-off" with c.
func checkBackoffDoc(doc string, c BackoffConfig) (problems []string) {
	rows, err := tableAfter(doc, "## Failure back-off")
	if err != nil {
		return []string{err.Error()}
	}
	got := map[string]string{}
	for _, row := range rows {
		got[row["Setting"]] = row["Default"]
	}
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if n, err := strconv.Atoi(got["free failures"]); err != nil || n != c.FreeFailures {
		bad("back-off: free failures %q, the code says %d", got["free failures"], c.FreeFailures)
	}
	for setting, want := range map[string]time.Duration{"first lock": c.BaseLock, "longest lock": c.MaxLock, "forgotten after": c.ForgetAfter} {
		// Only the leading duration counts ("1 h without a failure (…)").
		f := strings.Fields(got[setting])
		if d, err := parseDocDuration(strings.Join(f[:min(2, len(f))], " ")); err != nil || d != want {
			bad("back-off: %s %q, the code says %s", setting, got[setting], want)
		}
	}
	// "doubles with each further failure: 30 s, 1 min, …, 15 min, …"
	_, schedule, _ := strings.Cut(got["growth"], ":")
	var locks []string
	for part := range strings.SplitSeq(schedule, ",") {
		if part = strings.TrimSpace(part); part != "…" && part != "" {
			locks = append(locks, part)
		}
	}
	if len(locks) == 0 {
		bad("back-off: growth %q lists no locks", got["growth"])
	}
	for i, s := range locks {
		n := c.FreeFailures + 1 + i
		if d, err := parseDocDuration(s); err != nil || d != c.lockFor(n) {
			bad("back-off: growth: lock %d is %q, the code says %s after failure %d", i+1, s, c.lockFor(n), n)
		}
	}
	return problems
}

// tableAfter returns the rows of the first table after the line heading
// and before the next heading of the same level, each as a map from
// column title to trimmed cell text.
func tableAfter(doc, heading string) ([]map[string]string, error) {
	lines := strings.Split(doc, "\n")
	i := 0
	for i < len(lines) && !strings.HasPrefix(lines[i], heading) {
		i++
	}
	if i == len(lines) {
		return nil, fmt.Errorf("no %q section", heading)
	}
	for i++; i < len(lines) && !strings.HasPrefix(lines[i], "|"); i++ {
		if strings.HasPrefix(lines[i], "## ") {
			return nil, fmt.Errorf("no table in the %q section", heading)
		}
	}
	if i+1 >= len(lines) {
		return nil, fmt.Errorf("no table in the %q section", heading)
	}
	titles := cells(lines[i])
	var rows []map[string]string
	for _, line := range lines[i+2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		c := cells(line)
		if len(c) != len(titles) {
			return nil, fmt.Errorf("%q: %d cells, the table has %d columns", line, len(c), len(titles))
		}
		row := map[string]string{}
		for j, title := range titles {
			row[title] = c[j]
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func cells(line string) []string {
	parts := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return parts
}

// parseDocDuration reads the document's way of writing times: "30 s",
// "10 min", "1 h", "2 d"; a bare unit ("s") is one of it.
func parseDocDuration(s string) (time.Duration, error) {
	f := strings.Fields(s)
	if len(f) == 1 {
		f = []string{"1", f[0]}
	}
	if len(f) != 2 {
		return 0, fmt.Errorf("%q is not a duration", s)
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a duration", s)
	}
	unit, ok := map[string]time.Duration{"s": time.Second, "min": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[f[1]]
	if !ok {
		return 0, fmt.Errorf("%q: unknown unit %q", s, f[1])
	}
	return time.Duration(n) * unit, nil
}

// parseSteadyRate reads "1 per 20 s" or "2 per s" and returns the time
// between two requests.
func parseSteadyRate(s string) (time.Duration, error) {
	count, per, ok := strings.Cut(s, " per ")
	n, err := strconv.Atoi(count)
	if !ok || err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a rate", s)
	}
	d, err := parseDocDuration(per)
	if err != nil {
		return 0, err
	}
	return d / time.Duration(n), nil
}
