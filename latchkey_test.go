package latchkey

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestNewIDSortsByTimeAndIsUnique(t *testing.T) {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	seen := map[string]bool{}
	prev := ""
	for i := range 1000 {
		id := NewID(base.Add(time.Duration(i) * time.Millisecond))
		if len(id) != 26 {
			t.Fatalf("len(%q) = %d, want 26", id, len(id))
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
		if id <= prev {
			t.Fatalf("id %q does not sort after %q", id, prev)
		}
		prev = id
	}
}

func TestErrorCodeMapsUnknownToInternal(t *testing.T) {
	if got := ErrorCode(errors.New("boom")); got != EInternal {
		t.Errorf("ErrorCode(plain) = %q", got)
	}
	wrapped := fmt.Errorf("outer: %w", Errorf(ENotFound, "user not found"))
	if got := ErrorCode(wrapped); got != ENotFound {
		t.Errorf("ErrorCode(wrapped) = %q", got)
	}
	if got := ErrorMessage(errors.New("db password=hunter2")); strings.Contains(got, "hunter2") {
		t.Errorf("ErrorMessage leaked detail: %q", got)
	}
	if got := ErrorMessage(WrapError(EInternal, "x", errors.New("secret"))); strings.Contains(got, "secret") {
		t.Errorf("ErrorMessage leaked internal detail: %q", got)
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("lk_supersecret")
	var sb strings.Builder
	slog.New(slog.NewJSONHandler(&sb, nil)).Info("x", "token", s)
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, s, s, s), sb.String()} {
		if strings.Contains(out, "supersecret") {
			t.Fatalf("secret printed: %s", out)
		}
	}
	if s.Reveal() != "lk_supersecret" {
		t.Fatal("Reveal lost the value")
	}
}

func TestSessionActive(t *testing.T) {
	now := time.Now()
	s := Session{LastUsedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour)}
	if !s.Active(now, 2*time.Hour) {
		t.Error("want active")
	}
	if s.Active(now, 30*time.Minute) {
		t.Error("want idle-expired")
	}
	s.ExpiresAt = now
	if s.Active(now, 0) {
		t.Error("want absolutely expired")
	}
}
