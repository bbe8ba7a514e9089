// Package testenv holds what tests across latchkey share: where the
// external services they need are, a clock that moves only when told to
// (Clock), and a log sink safe for concurrent writes (LogBuffer).
//
// A test that needs PostgreSQL or Redis calls Postgres(t) or Redis(t). When
// the service's address is not set the test is skipped, except when
// LATCHKEY_TEST_REQUIRE_SERVICES=1 (as in CI), where it fails: CI must never
// pass by skipping.
package testenv

import (
	"os"
	"testing"
)

// Postgres returns the URL of a PostgreSQL database for tests
// (LATCHKEY_TEST_POSTGRES).
func Postgres(t testing.TB) string { return need(t, "LATCHKEY_TEST_POSTGRES") }

// Redis returns the URL of a Redis server for tests (LATCHKEY_TEST_REDIS).
func Redis(t testing.TB) string { return need(t, "LATCHKEY_TEST_REDIS") }

// Required reports whether missing services must fail tests.
func Required() bool { return os.Getenv("LATCHKEY_TEST_REQUIRE_SERVICES") == "1" }

func need(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	if Required() {
		t.Fatalf("%s is not set, and LATCHKEY_TEST_REQUIRE_SERVICES=1", name)
	}
	t.Skipf("%s is not set; run ./scripts/test for the full suite", name)
	return ""
}
