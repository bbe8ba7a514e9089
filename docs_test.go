package latchkey_test

// The documentation checks that concern the whole repository: the threat
// model against the code and its tests, the README's package map against
// the packages.

import (
	"bufio"
	"errors"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// threatID is the shape of the IDs code comments cite: two to five capital
// letters, a dash and two digits.
var threatID = regexp.MustCompile(`\b[A-Z]{2,5}-[0-9]{2}\b`)

// threatTest is one test a row of docs/threat-model.md names:
// "`TestName` in `package/path`".
var threatTest = regexp.MustCompile("`((?:Test|Fuzz)[A-Za-z0-9_]*)` in `([^`]+)`")

// threatRow is one row of a table in docs/threat-model.md.
type threatRow struct {
	line  int
	id    string
	tests [][2]string // test name, package directory
}

// parseThreatModel reads the rows of the tables: lines starting with "| ID |".
func parseThreatModel(doc string) []threatRow {
	var rows []threatRow
	for i, line := range strings.Split(doc, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 || !strings.HasPrefix(line, "|") {
			continue
		}
		id := strings.TrimSpace(cells[1])
		if !threatID.MatchString(id) || threatID.FindString(id) != id {
			continue
		}
		r := threatRow{line: i + 1, id: id}
		for _, m := range threatTest.FindAllStringSubmatch(cells[len(cells)-2], -1) {
			r.tests = append(r.tests, [2]string{m[1], m[2]})
		}
		rows = append(rows, r)
	}
	return rows
}

// checkThreatModel returns one message per disagreement between the rows,
// the IDs the code cites (ID → where), and the tests that exist (package
// directory → names).
func checkThreatModel(rows []threatRow, cited map[string]string, tests map[string][]string) []string {
	var problems []string
	listed := map[string]bool{}
	for _, r := range rows {
		if listed[r.id] {
			problems = append(problems, "docs/threat-model.md:"+strconv.Itoa(r.line)+": "+r.id+" has two rows")
		}
		listed[r.id] = true
		if len(r.tests) == 0 {
			problems = append(problems, "docs/threat-model.md:"+strconv.Itoa(r.line)+": "+r.id+" names no test (`TestName` in `package/path`)")
		}
		for _, tt := range r.tests {
			if !slices.Contains(tests[tt[1]], tt[0]) {
				problems = append(problems, "docs/threat-model.md:"+strconv.Itoa(r.line)+": "+r.id+" names "+tt[0]+" in "+tt[1]+", which does not exist")
			}
		}
	}
	for _, id := range sortedKeys(cited) {
		if !listed[id] {
			problems = append(problems, cited[id]+" cites "+id+", which docs/threat-model.md does not list")
		}
	}
	return problems
}

// TestThreatModel checks that every ID cited anywhere in the repository is a
// row of docs/threat-model.md, and that every test a row names exists in the
// package it names.
func TestThreatModel(t *testing.T) {
	doc, err := os.ReadFile("docs/threat-model.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := parseThreatModel(string(doc))
	if len(rows) < 50 {
		t.Fatalf("docs/threat-model.md: only %d rows found; is the table format still `| ID | … | tests |`?", len(rows))
	}
	cited := map[string]string{}
	tests := map[string][]string{}
	err = walkRepo(func(path string) error {
		if path == filepath.Join("docs", "threat-model.md") || !citesIDs(path) {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(data), "\n") {
			for _, id := range threatID.FindAllString(line, -1) {
				if _, ok := cited[id]; !ok {
					cited[id] = path + ":" + strconv.Itoa(i+1)
				}
			}
		}
		if strings.HasSuffix(path, "_test.go") {
			names, err := testFuncs(path)
			if err != nil {
				return err
			}
			dir := filepath.ToSlash(filepath.Dir(path))
			tests[dir] = append(tests[dir], names...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(cited) == 0 || len(tests["internal/token"]) == 0 {
		t.Fatalf("found %d cited IDs and %d tests in internal/token: is the test running in the repository root?", len(cited), len(tests["internal/token"]))
	}
	for _, p := range checkThreatModel(rows, cited, tests) {
		t.Error(p)
	}
}

// TestThreatModelCheckCatchesDrift proves the check above can fail: an ID
// cited but not listed, a test that does not exist, a row without a test.
func TestThreatModelCheckCatchesDrift(t *testing.T) {
	a, b := "QQ-"+"01", "QQ-"+"02"
	doc := "| ID | Threat | Defence | Test |\n|---|---|---|---|\n" +
		"| " + a + " | x | y | `TestReal` in `pkg`; `TestGone` in `pkg` |\n" +
		"| " + b + " | x | y | none |\n"
	rows := parseThreatModel(doc)
	if len(rows) != 2 || len(rows[0].tests) != 2 || rows[0].tests[1] != [2]string{"TestGone", "pkg"} {
		t.Fatalf("rows = %+v", rows)
	}
	got := checkThreatModel(rows, map[string]string{a: "x.go:1", "QQ-" + "03": "y.go:2"}, map[string][]string{"pkg": {"TestReal"}})
	want := []string{"TestGone in pkg, which does not exist", b + " names no test", "y.go:2 cites QQ-" + "03"}
	if len(got) != len(want) {
		t.Fatalf("problems = %q, want %d", got, len(want))
	}
	for i, w := range want {
		if !strings.Contains(got[i], w) {
			t.Errorf("problem %d = %q, want it to contain %q", i, got[i], w)
		}
	}
}

// citesIDs reports whether path is a text file whose IDs count as cited.
func citesIDs(path string) bool {
	switch filepath.Ext(path) {
	case ".go", ".md", ".yaml", ".yml", ".js", ".sql", ".sh", ".conf":
		return true
	}
	return false
}

// testFuncs lists the Test and Fuzz functions of a _test.go file.
func testFuncs(path string) ([]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if ok && fn.Recv == nil && (strings.HasPrefix(fn.Name.Name, "Test") || strings.HasPrefix(fn.Name.Name, "Fuzz")) {
			names = append(names, fn.Name.Name)
		}
	}
	return names, nil
}

// walkRepo calls fn for every file of the repository, relative to its root,
// skipping version control, installed dependencies and test data.
func walkRepo(fn func(path string) error) error {
	return filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != "." && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		return fn(path)
	})
}

// goPackages returns the directories that hold a Go package (as go list ./...
// sees them: buildable non-test files), with each package's doc synopsis.
func goPackages(t *testing.T) map[string]string {
	t.Helper()
	pkgs := map[string]string{}
	dirs := map[string]bool{}
	err := walkRepo(func(path string) error {
		if strings.HasSuffix(path, ".go") {
			dirs[filepath.Dir(path)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for dir := range dirs {
		p, err := build.Default.ImportDir(dir, 0)
		var noGo *build.NoGoError
		if errors.As(err, &noGo) {
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		pkgs[filepath.ToSlash(dir)] = p.Doc
	}
	return pkgs
}

// readmeLayout returns the paths the README's "## Layout" block lists, one
// per line (continuation lines are indented): a directory, or Go files of
// the root package ("latchkey.go, store.go, …" stands for ".").
func readmeLayout(t *testing.T) map[string]int {
	t.Helper()
	f, err := os.Open("README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	listed := map[string]int{}
	section, inBlock := false, false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			section = line == "## Layout"
		case section && strings.HasPrefix(line, "```"):
			if inBlock {
				return listed
			}
			inBlock = true
		case inBlock && line != "" && !strings.HasPrefix(line, " "):
			first := strings.TrimSuffix(strings.Fields(line)[0], ",")
			if strings.HasSuffix(first, ".go") {
				if _, err := os.Stat(first); err != nil {
					t.Errorf("README.md:%d: the layout names %s, which does not exist", n, first)
				}
				first = filepath.Dir(first)
			}
			listed[strings.TrimSuffix(filepath.ToSlash(filepath.Clean(first)), "/")] = n
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Fatal("README.md has no ## Layout section with a code block")
	return nil
}

// TestReadmeLayoutListsEveryPackage keeps the README's package map equal to
// the packages of the module, and checks that every package says what it is.
func TestReadmeLayoutListsEveryPackage(t *testing.T) {
	pkgs := goPackages(t)
	if _, ok := pkgs["internal/server"]; !ok {
		t.Fatalf("packages found: %v; is the test running in the repository root?", sortedKeys(pkgs))
	}
	listed := readmeLayout(t)
	for _, dir := range sortedKeys(pkgs) {
		if _, ok := listed[dir]; !ok {
			t.Errorf("README.md's layout does not list the package %s", dir)
		}
		if pkgs[dir] == "" {
			t.Errorf("package %s has no doc comment (add a doc.go: // Package %s …)", dir, filepath.Base(dir))
		}
	}
	for _, dir := range sortedKeys(listed) {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			t.Errorf("README.md:%d: the layout lists %s, which is not a directory of the repository", listed[dir], dir)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
