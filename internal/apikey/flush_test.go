package apikey

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/testenv"
)

func TestFlushWritesLastUseInOneBatch(t *testing.T) {
	v, st, clk := newTestVerifier(t, Options{})
	t0 := clk.Now()
	key1, k1 := st.addKey(t, "u1", t0, nil)
	key2, k2 := st.addKey(t, "u2", t0, nil)
	mustVerify(t, v, key1)
	clk.Advance(5 * time.Second)
	mustVerify(t, v, key1)
	mustVerify(t, v, key2)
	if len(st.writes()) != 0 {
		t.Fatal("Verify wrote to the store; it must only record in memory")
	}
	if err := v.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	w := st.writes()
	if len(w) != 1 {
		t.Fatalf("%d writes, want one batch", len(w))
	}
	want := t0.Add(5 * time.Second)
	if len(w[0]) != 2 || !w[0][k1.ID].Equal(want) || !w[0][k2.ID].Equal(want) {
		t.Fatalf("batch %v, want both keys at %v", w[0], want)
	}
	// Nothing new: nothing to write.
	clk.Advance(2 * time.Minute)
	if err := v.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(st.writes()) != 1 {
		t.Fatalf("a flush with nothing pending wrote %v", st.writes()[1:])
	}
}

// Every second for ten minutes a key is used and Flush is called: the store
// sees at most one write per key per minute, and the last use is not lost.
func TestFlushAtMostOncePerKeyPerMinute(t *testing.T) {
	v, st, clk := newTestVerifier(t, Options{CacheTTL: 7 * time.Second})
	key1, k1 := st.addKey(t, "u1", clk.Now(), nil)
	key2, k2 := st.addKey(t, "u1", clk.Now(), nil)
	start := clk.Now()
	for i := range 600 {
		mustVerify(t, v, key1)
		if i%3 == 0 {
			mustVerify(t, v, key2)
		}
		if err := v.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
	}
	last := map[string]time.Time{}
	writes := map[string]int{}
	for _, batch := range st.writes() {
		for id, at := range batch {
			if prev, ok := last[id]; ok && at.Sub(prev) < TouchInterval {
				t.Fatalf("key %s written at %v and again at %v", id, prev, at)
			}
			last[id] = at
			writes[id]++
		}
	}
	for _, id := range []string{k1.ID, k2.ID} {
		if writes[id] < 9 || writes[id] > 10 {
			t.Errorf("key %s written %d times in 10 minutes, want 10", id, writes[id])
		}
	}
	// The uses since the last write come out once the minute has passed.
	clk.Advance(TouchInterval)
	if err := v.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	w := st.writes()
	if got, want := w[len(w)-1][k1.ID], start.Add(599*time.Second); !got.Equal(want) {
		t.Fatalf("final last use of key 1 = %v, want %v", got, want)
	}
}

func TestFlushRetriesAfterFailure(t *testing.T) {
	v, st, clk := newTestVerifier(t, Options{})
	key, k := st.addKey(t, "u1", clk.Now(), nil)
	used := clk.Now()
	mustVerify(t, v, key)
	down := errors.New("database down")
	st.set(func() { st.touchErr = down })
	if err := v.Flush(t.Context()); !errors.Is(err, down) {
		t.Fatalf("Flush with the store down = %v", err)
	}
	st.set(func() { st.touchErr = nil })
	if err := v.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if w := st.writes(); len(w) != 1 || !w[0][k.ID].Equal(used) {
		t.Fatalf("writes after recovery: %v, want key at %v", w, used)
	}
}

// A use recorded in a cache entry survives the entry being evicted or
// invalidated before the flush.
func TestFlushKeepsUseOfDroppedEntries(t *testing.T) {
	v, st, clk := newTestVerifier(t, Options{CacheSize: 1})
	key1, k1 := st.addKey(t, "u1", clk.Now(), nil)
	key2, k2 := st.addKey(t, "u2", clk.Now(), nil)
	mustVerify(t, v, key1)
	mustVerify(t, v, key2) // evicts key1: the cache holds one key
	v.InvalidateUser("u2")
	n := 0
	v.cache.each(func(*entry) { n++ })
	if n != 0 {
		t.Fatalf("%d cached entries, want none", n)
	}
	if err := v.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if w := st.writes(); len(w) != 1 || len(w[0]) != 2 || w[0][k1.ID].IsZero() || w[0][k2.ID].IsZero() {
		t.Fatalf("writes %v, want both keys", w)
	}
}

func TestRunFlushesOnceMoreAtTheEnd(t *testing.T) {
	v, st, clk := newTestVerifier(t, Options{})
	key, k := st.addKey(t, "u1", clk.Now(), nil)
	mustVerify(t, v, key)
	if err := v.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	clk.Advance(10 * time.Second)
	mustVerify(t, v, key) // within the minute: a plain Flush would hold it back
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := v.Run(ctx); err != nil {
		t.Fatal(err)
	}
	w := st.writes()
	if len(w) != 2 || !w[1][k.ID].Equal(clk.Now()) {
		t.Fatalf("writes %v, want the last use written when Run ends", w)
	}
}

func TestFlushWithoutToucher(t *testing.T) {
	st, clk := newMemStore(), testenv.NewClock(clockStart)
	v := NewVerifier(st, clk.Now, Options{})
	key, _ := st.addKey(t, "u1", clk.Now(), nil)
	mustVerify(t, v, key)
	if err := v.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(st.writes()) != 0 {
		t.Fatal("wrote without a Toucher")
	}
}

func mustVerify(t testing.TB, v *Verifier, key string) *Result {
	t.Helper()
	res, err := v.Verify(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
