package app_test

import (
	"context"
	"os/exec"
	"testing"
	"time"
)

// TestNodeExpressExample installs examples/node-express (jose, express) at
// the versions of its package-lock.json and runs it against a real latchkey.
func TestNodeExpressExample(t *testing.T) {
	node := needTool(t, "node")
	npm := needTool(t, "npm")
	dir := copyExample(t, "node-express", "package.json", "package-lock.json", "server.js")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm ci (is examples/node-express/package-lock.json in step with package.json?): %v\n%s", err, out)
	}
	exampleScenario(t, exampleAPI{
		start: func(t *testing.T, issuer string, env ...string) (string, func() string) {
			t.Helper()
			return startExampleProcess(t, dir, []string{node, "server.js"}, append([]string{"LATCHKEY_ISSUER=" + issuer}, env...))
		},
		user: "userId", session: "sessionId", apiKey: "apiKeyId",
	})
}
