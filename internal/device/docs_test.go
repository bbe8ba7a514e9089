package device

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestDocDescribesTheCookie keeps docs/rate-limits.md, which tells operators
// what the device cookie is, in step with the constants here.
func TestDocDescribesTheCookie(t *testing.T) {
	b, err := os.ReadFile("../../docs/rate-limits.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Join(strings.Fields(string(b)), " ")
	for _, want := range []string{
		"`" + SecureCookieName + "`",
		"`" + CookieName + "`",
		"`" + KeyPurpose + "`",
		fmt.Sprintf("valid %d days", DefaultTTL/(24*time.Hour)),
		fmt.Sprintf("%d random bits", 8*randomLen),
		"`SameSite=Strict`",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("docs/rate-limits.md does not say %q", want)
		}
	}
}
