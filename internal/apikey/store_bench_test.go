package apikey_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/apikey"
	"github.com/latchkey/latchkey/internal/store"
	"github.com/latchkey/latchkey/internal/testenv"
)

// Uncached verification against the real stores: the cost of a key this
// instance has not seen in the last 30 s (parse, hash, one indexed lookup,
// the owner's row, constant-time compare).
//
//	LATCHKEY_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test -run '^$' -bench VerifyUncachedStore -benchmem ./internal/apikey/
func BenchmarkVerifyUncachedStore(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		benchUncached(b, filepath.Join(b.TempDir(), "latchkey.db"))
	})
	b.Run("postgres", func(b *testing.B) {
		benchUncached(b, testenv.PostgresSchema(b))
	})
}

func benchUncached(b *testing.B, database string) {
	ctx := b.Context()
	st, err := store.Open(ctx, database)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	u := &latchkey.User{ID: latchkey.NewID(now), Email: "bench@example.com", Roles: []string{"user"}, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	key, prefix, hash, err := apikey.Generate()
	if err != nil {
		b.Fatal(err)
	}
	if err := st.CreateAPIKey(ctx, &latchkey.APIKey{ID: latchkey.NewID(now), UserID: u.ID, Name: "bench",
		Prefix: prefix, Hash: hash[:], CreatedAt: now}); err != nil {
		b.Fatal(err)
	}
	v := apikey.NewVerifier(st, time.Now, apikey.Options{CacheTTL: -1}) // no cache: every call reads the store
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Verify(ctx, key.Reveal()); err != nil {
			b.Fatal(err)
		}
	}
}
