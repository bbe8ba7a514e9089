package app_test

import (
	"os/exec"
	"testing"

	"github.com/latchkey/latchkey/internal/testenv"
)

// python3 is Debian's interpreter, which has Debian's python3-flask and
// python3-jwt (a pyenv python3 earlier on the PATH would not).
const python3 = "/usr/bin/python3"

// TestFlaskExample runs examples/flask (Flask, PyJWT) against a real
// latchkey.
func TestFlaskExample(t *testing.T) {
	if out, err := exec.Command(python3, "-c", "import flask, jwt, cryptography").CombinedOutput(); err != nil {
		msg := python3 + " with Flask and PyJWT is not installed (apt-get install python3-flask python3-jwt)"
		if testenv.Required() {
			t.Fatalf("%s, and LATCHKEY_TEST_REQUIRE_SERVICES=1: %v\n%s", msg, err, out)
		}
		t.Skipf("%s: %v", msg, err)
	}
	dir := copyExample(t, "flask", "app.py", "latchkey_auth.py")
	exampleScenario(t, exampleAPI{
		start: func(t *testing.T, issuer string, env ...string) (string, func() string) {
			t.Helper()
			return startExampleProcess(t, dir, []string{python3, "app.py"},
				append([]string{"LATCHKEY_ISSUER=" + issuer, "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1"}, env...))
		},
		user: "user_id", session: "session_id", apiKey: "api_key_id",
	})
}
