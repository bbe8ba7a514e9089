package sqlstore

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
)

func TestReason(t *testing.T) {
	tests := []struct {
		name, in string
		wantLen  int
	}{
		{"short", "451 try later", 13},
		{"exactly the limit", strings.Repeat("a", MaxReason), MaxReason},
		{"cut at a character boundary", strings.Repeat("€", MaxReason), MaxReason - MaxReason%3},
		{"invalid UTF-8 replaced", "bad \xff byte", len("bad \uFFFD byte")},
	}
	for _, tc := range tests {
		got := Reason(tc.in)
		if len(got) != tc.wantLen || !utf8.ValidString(got) {
			t.Errorf("%s: %d bytes (valid %v), want %d", tc.name, len(got), utf8.ValidString(got), tc.wantLen)
		}
	}
}

func TestConsumed(t *testing.T) {
	now := time.Now()
	ts := []latchkey.EmailToken{{ID: "b"}, {ID: "a", ConsumedAt: &now}, {ID: "c", ConsumedAt: &now}, {ID: "d"}}
	got, err := Consumed(ts)
	if err != nil || got.ID != "c" {
		t.Fatalf("Consumed = %+v, %v; want the newest consumed, c", got, err)
	}
	if _, err := Consumed(ts[:1]); !latchkey.IsCode(err, latchkey.ENotFound) {
		t.Fatalf("none consumed: %v", err)
	}
	if _, err := Consumed(nil); !latchkey.IsCode(err, latchkey.ENotFound) {
		t.Fatalf("no tokens: %v", err)
	}
}
