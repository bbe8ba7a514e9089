package auth

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

// TestScopeDocMatchesCode keeps docs/api-keys.md's scope table equal to
// the vocabulary the code enforces.
func TestScopeDocMatchesCode(t *testing.T) {
	doc, err := os.ReadFile("../../docs/api-keys.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "<!-- scopes:begin -->\n")
	table, _, ok2 := strings.Cut(rest, "<!-- scopes:end -->")
	if !ok || !ok2 {
		t.Fatal("docs/api-keys.md lacks its scopes section")
	}
	var want strings.Builder
	want.WriteString("| scope | allows | carried by a key without scopes |\n|---|---|---|\n")
	for _, s := range Scopes {
		carried := "no"
		if s.Unscoped {
			carried = "yes"
		}
		fmt.Fprintf(&want, "| `%s` | %s | %s |\n", s.Name, s.Allows, carried)
	}
	if table != want.String() {
		t.Errorf("docs/api-keys.md scope table:\n%s\nwant:\n%s", table, want.String())
	}
}

func TestPrincipalAllows(t *testing.T) {
	key := &latchkey.APIKey{ID: "k"}
	for _, c := range []struct {
		name  string
		p     Principal
		scope string
		want  bool
	}{
		{"session, admin", Principal{Via: "bearer"}, ScopeAdmin, true},
		{"unscoped key, admin", Principal{APIKey: key, Via: "api_key"}, ScopeAdmin, false},
		{"unscoped key, apikeys:write", Principal{APIKey: key, Via: "api_key"}, ScopeAPIKeysWrite, false},
		{"unscoped key, introspect", Principal{APIKey: key, Via: "api_key"}, ScopeIntrospect, false},
		{"unscoped key, profile:write", Principal{APIKey: key, Via: "api_key"}, ScopeProfileWrite, true},
		{"scoped key without it", Principal{APIKey: key, Scopes: []string{"reports:read"}, Via: "api_key"}, ScopeAdmin, false},
		{"scoped key with it", Principal{APIKey: key, Scopes: []string{ScopeAdmin}, Via: "api_key"}, ScopeAdmin, true},
		{"scoped key, profile", Principal{APIKey: key, Scopes: []string{"reports:read"}, Via: "api_key"}, ScopeProfileWrite, false},
		{"scoped token", Principal{Scopes: []string{"x"}, Via: "bearer"}, ScopeAdmin, false},
	} {
		if got := c.p.Allows(c.scope); got != c.want {
			t.Errorf("%s: Allows(%s) = %v, want %v", c.name, c.scope, got, c.want)
		}
	}
}
