package apikey

import (
	"context"
	"testing"
	"time"
)

// go test -run '^$' -bench . -benchmem ./internal/apikey/

func BenchmarkParse(b *testing.B) {
	key := mustGenerate(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := Parse(key); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := Generate(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyCached is the hot path: a key seen before, with the real
// clock (time.Now is part of every verification).
func BenchmarkVerifyCached(b *testing.B) {
	st := newMemStore()
	v := NewVerifier(st, time.Now, Options{Toucher: st})
	key, _ := st.addKey(b, "u1", time.Now(), nil)
	ctx := context.Background()
	mustVerify(b, v, key)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
	if st.count() != 2 {
		b.Fatalf("%d store lookups, want 2: the benchmark missed the cache", st.count())
	}
}

// BenchmarkVerifyCachedParallel: many goroutines, 1 000 keys, a full-size
// cache — contention on the shard locks.
func BenchmarkVerifyCachedParallel(b *testing.B) {
	st := newMemStore()
	v := NewVerifier(st, time.Now, Options{Toucher: st})
	keys := make([]string, 1000)
	for i := range keys {
		keys[i], _ = st.addKey(b, "u1", time.Now(), nil)
		mustVerify(b, v, keys[i])
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := v.Verify(ctx, keys[i%len(keys)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkVerifyUncached: the in-memory store stands in for the database,
// so this is the verifier's own cost of a miss (hashing, lookups, building
// the result); the store benchmarks add the round trip.
func BenchmarkVerifyUncached(b *testing.B) {
	st := newMemStore()
	v := NewVerifier(st, time.Now, Options{CacheTTL: -1})
	key, _ := st.addKey(b, "u1", time.Now(), nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyMalformed(b *testing.B) {
	st := newMemStore()
	v := NewVerifier(st, time.Now, Options{})
	key := mustGenerate(b)
	bad := key[:20] + "x" + key[21:]
	if bad == key {
		bad = key[:20] + "y" + key[21:]
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, bad); err == nil {
			b.Fatal("accepted")
		}
	}
}
