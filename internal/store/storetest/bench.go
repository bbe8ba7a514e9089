package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// Bench runs the hot-path benchmarks on s (an empty, migrated store):
// session and API-key lookups, and the refresh-rotation transaction
// sequentially and from parallel clients.
func Bench(b *testing.B, s latchkey.Store) {
	ctx := context.Background()
	u := userN(1)
	if err := s.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	x := newSession(u, 1)
	if err := s.CreateSession(ctx, x); err != nil {
		b.Fatal(err)
	}
	k := &latchkey.APIKey{ID: latchkey.NewID(t0), UserID: u.ID, Name: "bench", Prefix: "lk_bench", Hash: hashOf(0, 0), Scopes: []string{"read"}, CreatedAt: t0}
	if err := s.CreateAPIKey(ctx, k); err != nil {
		b.Fatal(err)
	}

	b.Run("SessionByID", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.SessionByID(ctx, x.ID); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("APIKeyByHash", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.APIKeyByHash(ctx, k.Hash); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	var chains atomic.Uint64
	rotate := func(b *testing.B, next func() bool) {
		chain := chains.Add(1)
		sess := newSession(u, int(chain))
		sess.ID = latchkey.NewID(time.Now())
		if err := s.CreateSession(ctx, sess); err != nil {
			b.Error(err)
			return
		}
		cur := &latchkey.RefreshToken{Hash: hashOf(chain, 0), SessionID: sess.ID, UserID: u.ID, CreatedAt: t0, ExpiresAt: sess.ExpiresAt}
		if err := s.CreateRefreshToken(ctx, cur); err != nil {
			b.Error(err)
			return
		}
		for i := uint64(1); next(); i++ {
			now := t0.Add(time.Duration(i) * time.Millisecond)
			nextHash := hashOf(chain, i)
			err := s.InTx(ctx, func(tx latchkey.Tx) error {
				t, err := tx.RefreshTokenByHash(ctx, cur.Hash)
				if err != nil {
					return err
				}
				if ok, err := tx.MarkRefreshTokenUsed(ctx, t.Hash, now, nextHash); err != nil || !ok {
					return err
				}
				n := &latchkey.RefreshToken{Hash: nextHash, SessionID: t.SessionID, UserID: t.UserID, CreatedAt: now, ExpiresAt: t.ExpiresAt}
				if err := tx.CreateRefreshToken(ctx, n); err != nil {
					return err
				}
				if err := tx.TouchSession(ctx, t.SessionID, now); err != nil {
					return err
				}
				cur = n
				return tx.AppendAudit(ctx, &latchkey.AuditEvent{ID: latchkey.NewID(now), Time: now, Type: latchkey.AuditRefresh,
					UserID: t.UserID, SessionID: t.SessionID, IP: "192.0.2.1", UserAgent: "bench", Outcome: latchkey.OutcomeSuccess})
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	}
	b.Run("RefreshRotation", func(b *testing.B) {
		rotate(b, b.Loop)
	})
	b.Run("RefreshRotationParallel", func(b *testing.B) {
		b.SetParallelism(4) // clients per GOMAXPROCS, as an HTTP server has
		b.RunParallel(func(pb *testing.PB) { rotate(b, pb.Next) })
	})
}

// hashOf makes a distinct 32-byte token hash for (chain, i).
func hashOf(chain, i uint64) []byte {
	var in [16]byte
	binary.BigEndian.PutUint64(in[:8], chain)
	binary.BigEndian.PutUint64(in[8:], i)
	h := sha256.Sum256(in[:])
	return h[:]
}
