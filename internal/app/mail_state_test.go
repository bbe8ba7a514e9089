package app

import (
	"testing"
	"time"
)

// The outbox is stuck when a mail has waited more than 5m for a sender.
func TestOutboxState(t *testing.T) {
	for _, c := range []struct {
		due    int
		oldest time.Duration
		want   string
	}{
		{0, 0, "ok"},
		{3, 5 * time.Second, "ok"},
		{3, 5 * time.Minute, "ok"},
		{7, 6*time.Minute + 300*time.Millisecond, "stuck: 7 mails due, the oldest for 6m0s (more than 5m0s)"},
	} {
		if got := outboxState(c.due, c.oldest); got != c.want {
			t.Errorf("%d due, oldest %s: %q, want %q", c.due, c.oldest, got, c.want)
		}
	}
}
