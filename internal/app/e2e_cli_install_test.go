package app_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/app"
	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/internal/crypt"
	"github.com/latchkey/latchkey/internal/testenv"
)

// oneLine fails unless err is a single line containing every want.
func oneLine(t *testing.T, what string, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s succeeded", what)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("%s: the error is not one line:\n%s", what, msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("%s: the error %q does not say %q", what, msg, w)
		}
	}
}

func mustNotExist(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s exists (%v)", path, err)
	}
}

// A command run where there is no installation fails with one line naming
// the path and the settings, and creates nothing: no data directory, no
// database, no master key. Only serve and migrate set one up.
func TestCommandsInTheWrongDirectoryCreateNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "latchkey-data")
	commands := [][]string{
		{"user", "list"}, {"user", "show", "a@example.com"}, {"audit", "tail"}, {"keys", "list"},
		{"apikey", "list", "--user", "a@example.com"}, {"mail", "status"},
		// Commands that write refuse too: a user created in a new, empty
		// installation is as lost as an empty list is misleading.
		{"user", "create", "--email", "a@example.com", "--password-stdin"}, {"keys", "rotate"},
		{"user", "delete", "a@example.com"}, {"apikey", "revoke", "someid"},
	}
	for _, args := range commands {
		_, errOut, err := runCLI(t, goodPassword+"\n", append(args, "--data-dir", dir)...)
		oneLine(t, strings.Join(args, " "), err, "no latchkey data found", filepath.Join(dir, "latchkey.db"), "--data-dir", "--database")
		if app.ExitCode(err) == 0 {
			t.Errorf("%v: exit code 0", args)
		}
		if errOut != "" {
			t.Errorf("%v printed %q besides the error", args, errOut)
		}
		mustNotExist(t, dir)
	}
	// An empty file where the database should be is no installation either.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "latchkey.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := runCLI(t, "", "user", "list", "--data-dir", dir)
	oneLine(t, "user list on an empty file", err, "no latchkey data found")
	mustNotExist(t, filepath.Join(dir, "master.key"))
}

// Administration commands on an installation never create a master key,
// and the read-only ones need none: a deployment whose key is mounted only
// into the servers can still list users and keys.
func TestReadOnlyCommandsNeedNoMasterKey(t *testing.T) {
	dir := t.TempDir()
	if _, errOut, err := runCLI(t, "", "migrate", "--data-dir", dir); err != nil {
		t.Fatal(err, errOut)
	}
	keyFile := filepath.Join(dir, "master.key")
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"user", "list"}, {"audit", "tail"}, {"keys", "list"}} {
		out, errOut, err := runCLI(t, "", append(args, "--data-dir", dir)...)
		if err != nil || errOut != "" {
			t.Errorf("%v without a master key: %v %s", args, err, errOut)
		}
		if strings.Contains(out, `"level"`) || strings.Contains(errOut, `"level"`) {
			t.Errorf("%v printed a JSON log line:\n%s%s", args, out, errOut)
		}
	}
	// keys rotate needs the key, and says where it looked; it does not
	// make a new one (which would seal the new signing key unreadably).
	_, _, err := runCLI(t, "", "keys", "rotate", "--data-dir", dir)
	oneLine(t, "keys rotate without the master key", err, "no master key at "+keyFile, "--master-key-file")
	mustNotExist(t, keyFile)
	// Nor does serve: the database was set up with the key that is gone.
	_, _, err = runCLI(t, "", "serve", "--addr", "127.0.0.1:0", "--data-dir", dir)
	oneLine(t, "serve without the master key", err, "no master key at "+keyFile, "latchkey migrate", "--master-key-file")
	mustNotExist(t, keyFile)
}

// A master key other than the one the database was set up with stops serve
// and keys rotate with one line that says so and where the right one is.
func TestWrongMasterKeyIsOneLine(t *testing.T) {
	dir := t.TempDir()
	if _, errOut, err := runCLI(t, "", "migrate", "--data-dir", dir); err != nil {
		t.Fatal(err, errOut)
	}
	other := filepath.Join(t.TempDir(), "other.key")
	if _, err := crypt.LoadOrCreateKeyFile(other); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"serve", "--addr", "127.0.0.1:0"}, {"keys", "rotate"}, {"migrate"}} {
		_, _, err := runCLI(t, "", append(args, "--data-dir", dir, "--master-key-file", other)...)
		oneLine(t, args[0]+" with another master key", err, "the master key "+other+" does not match the database",
			"first ran \"latchkey migrate\"", "--master-key-file")
		if strings.Contains(err.Error(), "crypt: cannot open sealed value") {
			t.Errorf("%v: the error is the cipher's, not the operator's: %v", args, err)
		}
	}
}

// The master key may live outside the data directory, as a mounted
// secret: --master-key-file or LATCHKEY_MASTER_KEY_FILE.
func TestMasterKeyFileFromASecret(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(t.TempDir(), "secrets", "latchkey-master-key")
	out, errOut, err := runCLI(t, "", "migrate", "--data-dir", dir, "--master-key-file", secret)
	if err != nil || !strings.Contains(out, "created the master key "+secret) {
		t.Fatalf("migrate: %v\n%s%s", err, out, errOut)
	}
	mustNotExist(t, filepath.Join(dir, "master.key"))
	// A second migrate has nothing to create.
	if out, _, err := runCLI(t, "", "migrate", "--data-dir", dir, "--master-key-file", secret); err != nil || strings.Contains(out, "created") {
		t.Errorf("second migrate: %v\n%s", err, out)
	}
	srv := apptest.StartEnv(t, []string{"LATCHKEY_MASTER_KEY_FILE=" + secret}, "--data-dir", dir)
	if r := srv.Do(t, "GET", "/.well-known/jwks.json", nil); r.Status != 200 {
		t.Fatalf("jwks: %d", r.Status)
	}
	mustNotExist(t, filepath.Join(dir, "master.key"))
}

// On PostgreSQL the data directory holds only the master key. An instance
// started with its own, empty data directory against a database another
// instance set up refuses to start — it leaves no stray key and no empty
// directory behind — and an administration command needs no data
// directory at all.
func TestSecondInstanceWithoutTheMasterKey(t *testing.T) {
	dsn := testenv.PostgresSchema(t)
	first := t.TempDir()
	if _, errOut, err := runCLI(t, "", "migrate", "--data-dir", first, "--database", dsn); err != nil {
		t.Fatal(err, errOut)
	}
	second := filepath.Join(t.TempDir(), "latchkey-data")
	_, _, err := runCLI(t, "", "serve", "--addr", "127.0.0.1:0", "--data-dir", second, "--database", dsn)
	oneLine(t, "a second instance without the key", err, "no master key at "+filepath.Join(second, "master.key"), "--master-key-file")
	mustNotExist(t, second)

	elsewhere := filepath.Join(t.TempDir(), "nothing-here")
	if out, errOut, err := runCLI(t, "", "user", "list", "--data-dir", elsewhere, "--database", dsn); err != nil || !strings.Contains(out, "EMAIL") {
		t.Errorf("user list on PostgreSQL: %v\n%s%s", err, out, errOut)
	}
	mustNotExist(t, elsewhere)

	// An empty schema is no installation.
	_, _, err = runCLI(t, "", "user", "list", "--database", testenv.PostgresSchema(t))
	oneLine(t, "user list on an empty schema", err, "no latchkey installation found in the database", "--database", "latchkey migrate")
}

// A start that fails leaves no empty data directory behind, and a database
// that cannot be reached is one line, not the client's message and the
// driver's lines one after the other.
func TestFailedStartLeavesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "latchkey-data")
	for _, cmd := range []string{"serve", "migrate"} {
		_, _, err := runCLI(t, "", cmd, "--addr", "127.0.0.1:0", "--data-dir", dir,
			"--database", "postgres://latchkey:hunter2@127.0.0.1:1/latchkey?sslmode=disable&connect_timeout=2")
		oneLine(t, cmd+" with an unreachable database", err, "the database postgres://latchkey:xxxxx@127.0.0.1:1/latchkey", "is unavailable", "connection refused")
		if msg := err.Error(); strings.Contains(msg, "The database is unavailable.") || strings.Contains(msg, "hunter2") {
			t.Errorf("%s: %q", cmd, msg)
		}
		mustNotExist(t, dir)
	}
	// A listen address in use fails before anything is created.
	srv := apptest.Start(t)
	_, _, err := runCLI(t, "", "serve", "--addr", strings.TrimPrefix(srv.URL, "http://"), "--data-dir", dir)
	oneLine(t, "serve on a used port", err, "--addr")
	mustNotExist(t, dir)
}

// Settings work before the command as well as after it.
func TestSettingsBeforeTheCommand(t *testing.T) {
	dir := t.TempDir()
	if _, errOut, err := runCLI(t, "", "--data-dir", dir, "migrate"); err != nil {
		t.Fatal(err, errOut)
	}
	args := append([]string{"--data-dir=" + dir}, apptest.FastHashing...)
	args = append(args, "user", "create", "--email", "early@example.com", "--password-stdin")
	if _, errOut, err := runCLI(t, goodPassword+"\n", args...); err != nil {
		t.Fatal(err, errOut)
	}
	for _, args := range [][]string{
		{"--data-dir", dir, "user", "list"},
		{"--data-dir", dir, "user", "show", "early@example.com"},
		{"--log-level", "error", "--data-dir", dir, "user", "list", "--query", "early"},
		{"user", "list", "--data-dir", dir},
	} {
		out, errOut, err := runCLI(t, "", args...)
		if err != nil || !strings.Contains(out, "early@example.com") {
			t.Errorf("%v: %v\n%s%s", args, err, out, errOut)
		}
	}
	if _, _, err := runCLI(t, "", "--bogus", "user", "list", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "unknown flag --bogus") {
		t.Errorf("an unknown flag before the command: %v", err)
	}
}

// Test-only switches are not flags of the binary: an operator cannot turn
// rate limiting off or scale it by accident. Tests set them through
// RunWith, which checks them.
func TestTestHooksAreNotFlags(t *testing.T) {
	for _, flag := range []string{"--disable-rate-limits", "--rate-limit-scale=0.1"} {
		_, errOut, err := runCLI(t, "", "serve", "--data-dir", t.TempDir(), flag)
		oneLine(t, flag, err, "unknown flag", `"latchkey serve -h" lists the settings`)
		if errOut != "" {
			t.Errorf("%s printed the usage:\n%s", flag, errOut)
		}
	}
	err := app.RunWith(context.Background(), []string{"version"}, nil, nil, &strings.Builder{}, &strings.Builder{},
		app.TestHooks{RateLimitScale: 2})
	oneLine(t, "a scale above 1", err, "RateLimitScale")
}
