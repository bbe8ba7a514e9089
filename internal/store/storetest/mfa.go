package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// totpFactor makes the n-th unconfirmed factor of u, lapsing an hour after t0.
func totpFactor(t *testing.T, u *latchkey.User, n int) *latchkey.TOTPFactor {
	created := at(time.Duration(n) * time.Millisecond)
	return &latchkey.TOTPFactor{ID: latchkey.NewID(created), UserID: u.ID, Name: "phone", SealedSecret: randBytes(t),
		CreatedAt: created, ExpiresAt: ptr(at(time.Hour))}
}

func createTOTPFactor(t *testing.T, s latchkey.Store, u *latchkey.User, n int) *latchkey.TOTPFactor {
	t.Helper()
	f := totpFactor(t, u, n)
	must(t, s.CreateTOTPFactor(ctx(t), f))
	return f
}

func confirmedFactor(t *testing.T, s latchkey.Store, u *latchkey.User, n int, step int64) *latchkey.TOTPFactor {
	t.Helper()
	f := createTOTPFactor(t, s, u, n)
	must(t, s.ConfirmTOTPFactor(ctx(t), u.ID, f.ID, step, at(time.Minute)))
	f.ConfirmedAt, f.ExpiresAt, f.LastStep, f.LastUsedAt = ptr(at(time.Minute)), nil, step, ptr(at(time.Minute))
	return f
}

func testTOTPFactors(t *testing.T, s latchkey.Store) {
	u, other := createUser(t, s, 1), createUser(t, s, 2)
	f := createTOTPFactor(t, s, u, 1)
	g := createTOTPFactor(t, s, u, 2)
	got, err := s.ListTOTPFactors(ctx(t), u.ID)
	must(t, err)
	equal(t, "ListTOTPFactors, oldest first", got, []latchkey.TOTPFactor{*f, *g})
	if got[0].Confirmed() {
		t.Fatal("a new factor is confirmed")
	}
	none, err := s.ListTOTPFactors(ctx(t), other.ID)
	must(t, err)
	equal(t, "another user's factors", len(none), 0)
	mustCode(t, s.CreateTOTPFactor(ctx(t), f), latchkey.EConflict)
	ghost := totpFactor(t, &latchkey.User{ID: "ghost"}, 3)
	mustCode(t, s.CreateTOTPFactor(ctx(t), ghost), latchkey.ENotFound)

	// Confirming: only the owner, only once, only before the enrollment lapses.
	mustCode(t, s.ConfirmTOTPFactor(ctx(t), other.ID, f.ID, 100, at(time.Minute)), latchkey.ENotFound)
	mustCode(t, s.ConfirmTOTPFactor(ctx(t), u.ID, g.ID, 100, at(time.Hour)), latchkey.ENotFound)
	must(t, s.ConfirmTOTPFactor(ctx(t), u.ID, f.ID, 100, at(time.Minute)))
	mustCode(t, s.ConfirmTOTPFactor(ctx(t), u.ID, f.ID, 101, at(2*time.Minute)), latchkey.ENotFound)
	mustCode(t, s.ConfirmTOTPFactor(ctx(t), u.ID, "nope", 100, at(time.Minute)), latchkey.ENotFound)
	got, err = s.ListTOTPFactors(ctx(t), u.ID)
	must(t, err)
	f.ConfirmedAt, f.ExpiresAt, f.LastStep, f.LastUsedAt = ptr(at(time.Minute)), nil, 100, ptr(at(time.Minute))
	equal(t, "confirmed", got[0], *f)

	// The confirming step is recorded: it and earlier steps are refused.
	for _, step := range []int64{99, 100} {
		ok, err := s.UseTOTPStep(ctx(t), f.ID, step, at(3*time.Minute))
		must(t, err)
		equal(t, "UseTOTPStep of a spent step", ok, false)
	}
	ok, err := s.UseTOTPStep(ctx(t), f.ID, 101, at(3*time.Minute))
	must(t, err)
	equal(t, "UseTOTPStep of a later step", ok, true)
	ok, err = s.UseTOTPStep(ctx(t), f.ID, 101, at(4*time.Minute))
	must(t, err)
	equal(t, "UseTOTPStep again", ok, false)
	ok, err = s.UseTOTPStep(ctx(t), g.ID, 200, at(3*time.Minute))
	must(t, err)
	equal(t, "UseTOTPStep of an unconfirmed factor", ok, false)
	ok, err = s.UseTOTPStep(ctx(t), "nope", 200, at(3*time.Minute))
	must(t, err)
	equal(t, "UseTOTPStep of an unknown factor", ok, false)
	got, err = s.ListTOTPFactors(ctx(t), u.ID)
	must(t, err)
	equal(t, "after use", []any{got[0].LastStep, got[0].LastUsedAt}, []any{int64(101), ptr(at(3 * time.Minute))})

	mustCode(t, s.DeleteTOTPFactor(ctx(t), other.ID, f.ID), latchkey.ENotFound)
	must(t, s.DeleteTOTPFactor(ctx(t), u.ID, f.ID))
	mustCode(t, s.DeleteTOTPFactor(ctx(t), u.ID, f.ID), latchkey.ENotFound)
	got, err = s.ListTOTPFactors(ctx(t), u.ID)
	must(t, err)
	equal(t, "after delete", got, []latchkey.TOTPFactor{*g})

	// In a transaction the writes are seen by the next read.
	h := totpFactor(t, u, 4)
	must(t, s.InTx(ctx(t), func(tx latchkey.Tx) error {
		if err := tx.CreateTOTPFactor(ctx(t), h); err != nil {
			return err
		}
		if err := tx.ConfirmTOTPFactor(ctx(t), u.ID, h.ID, 7, at(time.Minute)); err != nil {
			return err
		}
		ok, err := tx.UseTOTPStep(ctx(t), h.ID, 8, at(2*time.Minute))
		if err != nil || !ok {
			t.Errorf("UseTOTPStep in tx: %v %v", ok, err)
		}
		l, err := tx.ListTOTPFactors(ctx(t), u.ID)
		if err != nil {
			return err
		}
		equal(t, "in tx", len(l), 2)
		equal(t, "step in tx", l[1].LastStep, int64(8))
		return nil
	}))
}

// Of concurrent uses of one step (a code sent twice at once), one wins;
// of concurrent uses of rising steps, the row ends at the highest that won.
func testUseTOTPStepConcurrent(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	f := confirmedFactor(t, s, u, 1, 10)
	wins := concurrently(t, 20, func(int) (bool, error) {
		return s.UseTOTPStep(ctx(t), f.ID, 11, at(time.Hour))
	})
	equal(t, "winners of one step", wins, 1)
	// The same inside transactions, as the use cases call it.
	wins = concurrently(t, 20, func(int) (bool, error) {
		var won bool
		err := s.InTx(ctx(t), func(tx latchkey.Tx) error {
			var err error
			won, err = tx.UseTOTPStep(ctx(t), f.ID, 12, at(time.Hour))
			return err
		})
		return won, err
	})
	equal(t, "winners of one step in transactions", wins, 1)
}

func testRecoveryCodes(t *testing.T, s latchkey.Store) {
	u, other := createUser(t, s, 1), createUser(t, s, 2)
	first := [][]byte{randBytes(t), randBytes(t), randBytes(t)}
	must(t, s.ReplaceRecoveryCodes(ctx(t), u.ID, first, t0))
	n, err := s.CountRecoveryCodes(ctx(t), u.ID)
	must(t, err)
	equal(t, "count", n, 3)
	ok, err := s.UseRecoveryCode(ctx(t), other.ID, first[0], at(time.Minute))
	must(t, err)
	equal(t, "another user's code", ok, false)
	ok, err = s.UseRecoveryCode(ctx(t), u.ID, first[0], at(time.Minute))
	must(t, err)
	equal(t, "first use", ok, true)
	ok, err = s.UseRecoveryCode(ctx(t), u.ID, first[0], at(2*time.Minute))
	must(t, err)
	equal(t, "second use", ok, false)
	ok, err = s.UseRecoveryCode(ctx(t), u.ID, randBytes(t), at(time.Minute))
	must(t, err)
	equal(t, "unknown code", ok, false)
	n, err = s.CountRecoveryCodes(ctx(t), u.ID)
	must(t, err)
	equal(t, "count after use", n, 2)

	// A new set voids the old one, used and unused codes alike.
	second := [][]byte{randBytes(t), randBytes(t)}
	must(t, s.InTx(ctx(t), func(tx latchkey.Tx) error { return tx.ReplaceRecoveryCodes(ctx(t), u.ID, second, at(time.Hour)) }))
	for _, h := range first[1:] {
		ok, err := s.UseRecoveryCode(ctx(t), u.ID, h, at(2*time.Hour))
		must(t, err)
		equal(t, "a voided code", ok, false)
	}
	n, err = s.CountRecoveryCodes(ctx(t), u.ID)
	must(t, err)
	equal(t, "count of the new set", n, 2)
	must(t, s.ReplaceRecoveryCodes(ctx(t), u.ID, nil, at(time.Hour)))
	n, err = s.CountRecoveryCodes(ctx(t), u.ID)
	must(t, err)
	equal(t, "count of an empty set", n, 0)
	must(t, s.ReplaceRecoveryCodes(ctx(t), other.ID, [][]byte{first[0]}, t0)) // the same hash for another user
	n, err = s.CountRecoveryCodes(ctx(t), other.ID)
	must(t, err)
	equal(t, "another user's set", n, 1)
}

// One recovery code spent from many places at once is spent once.
func testUseRecoveryCodeConcurrent(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	codes := [][]byte{randBytes(t), randBytes(t)}
	must(t, s.ReplaceRecoveryCodes(ctx(t), u.ID, codes, t0))
	wins := concurrently(t, 20, func(int) (bool, error) {
		var won bool
		err := s.InTx(ctx(t), func(tx latchkey.Tx) error {
			var err error
			won, err = tx.UseRecoveryCode(ctx(t), u.ID, codes[1], at(time.Minute))
			return err
		})
		return won, err
	})
	equal(t, "winners", wins, 1)
}

func testDeleteMFA(t *testing.T, s latchkey.Store) {
	u, keep := createUser(t, s, 1), createUser(t, s, 2)
	confirmedFactor(t, s, u, 1, 5)
	createTOTPFactor(t, s, u, 2)
	kept := confirmedFactor(t, s, keep, 3, 5)
	must(t, s.ReplaceRecoveryCodes(ctx(t), u.ID, [][]byte{randBytes(t)}, t0))
	must(t, s.ReplaceRecoveryCodes(ctx(t), keep.ID, [][]byte{randBytes(t)}, t0))
	c := challenge(t, u, 1)
	must(t, s.CreateMFAChallenge(ctx(t), c))
	kc := challenge(t, keep, 2)
	must(t, s.CreateMFAChallenge(ctx(t), kc))

	var n int
	must(t, s.InTx(ctx(t), func(tx latchkey.Tx) error {
		var err error
		n, err = tx.DeleteMFA(ctx(t), u.ID)
		return err
	}))
	equal(t, "factors removed", n, 2)
	l, err := s.ListTOTPFactors(ctx(t), u.ID)
	must(t, err)
	equal(t, "factors left", len(l), 0)
	cnt, err := s.CountRecoveryCodes(ctx(t), u.ID)
	must(t, err)
	equal(t, "codes left", cnt, 0)
	_, err = s.MFAChallengeByHash(ctx(t), c.Hash)
	mustCode(t, err, latchkey.ENotFound)

	l, err = s.ListTOTPFactors(ctx(t), keep.ID)
	must(t, err)
	equal(t, "another user's factors", l, []latchkey.TOTPFactor{*kept})
	cnt, err = s.CountRecoveryCodes(ctx(t), keep.ID)
	must(t, err)
	equal(t, "another user's codes", cnt, 1)
	_, err = s.MFAChallengeByHash(ctx(t), kc.Hash)
	must(t, err)
	n, err = s.DeleteMFA(ctx(t), u.ID)
	must(t, err)
	equal(t, "nothing left to remove", n, 0)
}

// challenge makes the n-th challenge of u, live for five minutes after t0.
func challenge(t *testing.T, u *latchkey.User, n int) *latchkey.MFAChallenge {
	created := at(time.Duration(n) * time.Millisecond)
	return &latchkey.MFAChallenge{ID: latchkey.NewID(created), Hash: randBytes(t), UserID: u.ID, AMR: []string{"pwd"},
		Audit: latchkey.AuditLoginSucceeded, CreatedAt: created, ExpiresAt: at(5 * time.Minute)}
}

func testMFAChallenges(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	c := challenge(t, u, 1)
	must(t, s.CreateMFAChallenge(ctx(t), c))
	mustCode(t, s.CreateMFAChallenge(ctx(t), c), latchkey.EConflict)
	mustCode(t, s.CreateMFAChallenge(ctx(t), challenge(t, &latchkey.User{ID: "ghost"}, 2)), latchkey.ENotFound)
	got, err := s.MFAChallengeByHash(ctx(t), c.Hash)
	must(t, err)
	equal(t, "MFAChallengeByHash", got, c)
	_, err = s.MFAChallengeByHash(ctx(t), randBytes(t))
	mustCode(t, err, latchkey.ENotFound)
	_, err = s.MFAChallengeByHash(ctx(t), nil)
	mustCode(t, err, latchkey.ENotFound)

	// Each attempt is charged; at the limit the challenge is dead.
	for i := 1; i <= 3; i++ {
		got, err := s.AttemptMFAChallenge(ctx(t), c.Hash, at(time.Minute), 3)
		must(t, err)
		equal(t, "attempts", got.Attempts, i)
	}
	_, err = s.AttemptMFAChallenge(ctx(t), c.Hash, at(time.Minute), 3)
	mustCode(t, err, latchkey.ENotFound)
	got, err = s.MFAChallengeByHash(ctx(t), c.Hash)
	must(t, err)
	equal(t, "attempts after the limit", got.Attempts, 3)

	// Expired: no attempt. Consumed: no attempt, and consumed once.
	d := challenge(t, u, 2)
	must(t, s.CreateMFAChallenge(ctx(t), d))
	_, err = s.AttemptMFAChallenge(ctx(t), d.Hash, at(5*time.Minute), 5)
	mustCode(t, err, latchkey.ENotFound)
	_, err = s.AttemptMFAChallenge(ctx(t), nil, t0, 5)
	mustCode(t, err, latchkey.ENotFound)
	e := challenge(t, u, 3)
	must(t, s.CreateMFAChallenge(ctx(t), e))
	attempted, err := s.AttemptMFAChallenge(ctx(t), e.Hash, at(time.Minute), 5)
	must(t, err)
	equal(t, "the charged challenge", attempted.ID, e.ID)
	ok, err := s.ConsumeMFAChallenge(ctx(t), e.ID, at(time.Minute))
	must(t, err)
	equal(t, "consume", ok, true)
	ok, err = s.ConsumeMFAChallenge(ctx(t), e.ID, at(2*time.Minute))
	must(t, err)
	equal(t, "consume again", ok, false)
	ok, err = s.ConsumeMFAChallenge(ctx(t), "nope", at(2*time.Minute))
	must(t, err)
	equal(t, "consume unknown", ok, false)
	_, err = s.AttemptMFAChallenge(ctx(t), e.Hash, at(time.Minute), 5)
	mustCode(t, err, latchkey.ENotFound)
	got, err = s.MFAChallengeByHash(ctx(t), e.Hash)
	must(t, err)
	equal(t, "consumed at", got.ConsumedAt, ptr(at(time.Minute)))
}

// Concurrent attempts never test more codes than the limit allows, and a
// challenge is consumed once.
func testMFAChallengeConcurrent(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	c := challenge(t, u, 1)
	must(t, s.CreateMFAChallenge(ctx(t), c))
	wins := concurrently(t, 20, func(int) (bool, error) {
		_, err := s.AttemptMFAChallenge(ctx(t), c.Hash, at(time.Minute), 5)
		if latchkey.IsCode(err, latchkey.ENotFound) {
			return false, nil
		}
		return err == nil, err
	})
	equal(t, "attempts admitted", wins, 5)
	d := challenge(t, u, 2)
	must(t, s.CreateMFAChallenge(ctx(t), d))
	wins = concurrently(t, 20, func(int) (bool, error) {
		var won bool
		err := s.InTx(ctx(t), func(tx latchkey.Tx) error {
			var err error
			won, err = tx.ConsumeMFAChallenge(ctx(t), d.ID, at(time.Minute))
			return err
		})
		return won, err
	})
	equal(t, "consumers", wins, 1)
}

// testUsersWithMFA: of the IDs asked about, those with a confirmed factor,
// each once; a pending factor or recovery codes alone do not count.
func testUsersWithMFA(t *testing.T, s latchkey.Store) {
	two, pending, codes, none, other := createUser(t, s, 1), createUser(t, s, 2), createUser(t, s, 3), createUser(t, s, 4), createUser(t, s, 5)
	confirmedFactor(t, s, two, 1, 5)
	confirmedFactor(t, s, two, 2, 5)
	createTOTPFactor(t, s, pending, 3)
	must(t, s.ReplaceRecoveryCodes(ctx(t), codes.ID, [][]byte{randBytes(t)}, t0))
	confirmedFactor(t, s, other, 4, 5)

	got, err := s.UsersWithMFA(ctx(t), []string{two.ID, pending.ID, codes.ID, none.ID, "ghost"})
	must(t, err)
	equal(t, "users with a confirmed factor", got, []string{two.ID})
	got, err = s.UsersWithMFA(ctx(t), []string{none.ID, other.ID, two.ID})
	must(t, err)
	slices.Sort(got)
	want := []string{two.ID, other.ID}
	slices.Sort(want)
	equal(t, "two of three", got, want)
	got, err = s.UsersWithMFA(ctx(t), nil)
	must(t, err)
	equal(t, "none asked", len(got), 0)

	// A page of 200 IDs is one query.
	many := make([]string, 200)
	for i := range many {
		many[i] = latchkey.NewID(t0)
	}
	many[150] = other.ID
	got, err = s.UsersWithMFA(ctx(t), many)
	must(t, err)
	equal(t, "a full page", got, []string{other.ID})
}
