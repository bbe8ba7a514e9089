package postgres_test

import (
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/postgres"
	"github.com/latchkey/latchkey/internal/store/storetest"
	"github.com/latchkey/latchkey/internal/testenv"
)

// freshSchema is a new schema of the test database, dropped at cleanup.
func freshSchema(t testing.TB) string { return testenv.PostgresSchema(t) }

func open(t testing.TB, dsn string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), dsn)
	return storetest.Opened(t, db, err)
}

func openMigrated(t testing.TB) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), freshSchema(t))
	return storetest.Migrated(t, db, err)
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) latchkey.Store { return openMigrated(t) })
}

func TestMigrateTwiceAndConcurrently(t *testing.T) {
	dsn := freshSchema(t)
	a, b := open(t, dsn), open(t, dsn)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, db := range []*postgres.DB{a, b} {
		wg.Go(func() { errs[i] = db.Migrate(t.Context()) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Migrate: %v", err)
		}
	}
	if err := a.Migrate(t.Context()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	// The tables are in the test's schema, not in public.
	u := &latchkey.User{ID: latchkey.NewID(storetestNow), Email: "a@example.com", CreatedAt: storetestNow, UpdatedAt: storetestNow}
	if err := a.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if _, err := b.UserByEmail(t.Context(), u.Email); err != nil {
		t.Fatal(err)
	}
}

func TestUnreachable(t *testing.T) {
	testenv.Postgres(t) // run with the PostgreSQL tests only
	// Port 1 on loopback: nothing listens there.
	db := open(t, "postgres://latchkey@127.0.0.1:1/latchkey?sslmode=disable&connect_timeout=2")
	ctx := t.Context()
	checks := map[string]error{
		"Ping":    db.Ping(ctx),
		"Migrate": db.Migrate(ctx),
		"InTx":    db.InTx(ctx, func(latchkey.Tx) error { return nil }),
	}
	_, checks["UserByID"] = db.UserByID(ctx, "x")
	_, checks["MarkRefreshTokenUsed"] = db.MarkRefreshTokenUsed(ctx, []byte("h"), storetestNow, nil)
	for name, err := range checks {
		if code := latchkey.ErrorCode(err); code != latchkey.EUnavailable {
			t.Errorf("%s: %q (%v), want unavailable", name, code, err)
		}
	}
}

func TestOpenRefusesBadDSN(t *testing.T) {
	if _, err := postgres.Open(t.Context(), "postgres://u:p@127.0.0.1:notaport/db"); err == nil {
		t.Fatal("Open accepted a bad port")
	}
}

// LATCHKEY_TEST_POSTGRES=… go test -run '^$' -bench . ./internal/store/postgres/
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, openMigrated(b))
}

// Two transactions each demote a different one of two admins and then
// count the admins left: at most one may commit, or no admin would remain.
func TestLastHolderOfARoleUnderConcurrency(t *testing.T) {
	db := openMigrated(t)
	ctx := t.Context()
	now := time.Now().UTC()
	var admins []*latchkey.User
	for _, email := range []string{"a1@example.com", "a2@example.com"} {
		u := &latchkey.User{ID: latchkey.NewID(now), Email: email, Roles: []string{"admin"}, CreatedAt: now, UpdatedAt: now}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		admins = append(admins, u)
	}
	var both sync.WaitGroup // both have demoted their admin before either counts
	both.Add(2)
	errs := make([]error, 2)
	var done sync.WaitGroup
	for i, u := range admins {
		done.Add(1)
		go func() {
			defer done.Done()
			errs[i] = db.InTx(ctx, func(tx latchkey.Tx) error {
				_, err := tx.UpdateUser(ctx, u.ID, latchkey.UserPatch{Roles: &[]string{"user"}, UpdatedAt: now})
				both.Done()
				if err != nil {
					return err
				}
				both.Wait()
				n, err := tx.CountActiveUsersWithRole(ctx, "admin")
				if err != nil {
					return err
				}
				if n == 0 {
					return latchkey.Errorf(latchkey.EConflict, "last admin")
				}
				return nil
			})
		}()
	}
	done.Wait()
	n, err := db.CountActiveUsersWithRole(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("both demotions committed (errors %v): no admin left", errs)
	}
	if errs[0] == nil && errs[1] == nil {
		t.Fatalf("both transactions committed")
	}
}
