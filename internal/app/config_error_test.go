package app_test

import (
	"testing"

	"github.com/latchkey/latchkey/internal/app"
)

// A bad configuration stops every command before it touches anything, with
// one line per bad setting after the program's "latchkey: " prefix.
func TestConfigErrorsOneLineEach(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"migrate", "--data-dir", dir, "--log-level", "loud"},
			`invalid --log-level: "loud" is not debug, info, warn or error`},
		{[]string{"migrate", "--data-dir", dir, "--addr", "nope", "--metrics-allow", "not-a-cidr"},
			"invalid configuration:\n" +
				`  invalid --addr: "nope" is not host:port` + "\n" +
				`  invalid --metrics-allow: "not-a-cidr" is not a CIDR (e.g. 10.0.0.0/8)`},
	}
	for _, c := range cases {
		_, _, err := runCLI(t, "", c.args...)
		if err == nil || err.Error() != c.want || app.ExitCode(err) != 2 {
			t.Errorf("%v:\ngot  %q (exit %d)\nwant %q", c.args[3:], err, app.ExitCode(err), c.want)
		}
	}
}
