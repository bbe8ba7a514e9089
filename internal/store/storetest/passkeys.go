package storetest

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// passkeyTests are the conformance tests of the PasskeyStore.
var passkeyTests = []struct {
	name string
	fn   func(t *testing.T, s latchkey.Store)
}{
	{"Passkeys", testPasskeys},
	{"PasskeyCredentialIDIsUnique", testPasskeyCredentialIDIsUnique},
	{"PasskeyFlagsUnknown", testPasskeyFlagsUnknown},
	{"UsePasskeyCounter", testUsePasskeyCounter},
	{"UsePasskeyConcurrent", testUsePasskeyConcurrent},
	{"PasskeyChallenges", testPasskeyChallenges},
	{"PasskeyChallengeConcurrent", testPasskeyChallengeConcurrent},
	{"PasskeyChallengesExpire", testPasskeyChallengesExpire},
	{"PasskeysNeedIDs", testPasskeysNeedIDs},
	{"DeleteUserRemovesPasskeys", testDeleteUserRemovesPasskeys},
}

// newPasskey makes the n-th passkey of u; its ID sorts after every one
// with a smaller n.
func newPasskey(t *testing.T, u *latchkey.User, n int) *latchkey.Passkey {
	created := at(time.Duration(n) * time.Second)
	be, bs := true, n%2 == 0
	return &latchkey.Passkey{ID: latchkey.NewID(created), UserID: u.ID, CredentialID: randBytes(t), PublicKey: randBytes(t),
		AAGUID: randBytes(t)[:16], SignCount: uint32(n), Transports: []string{"internal", "hybrid"},
		BackupEligible: &be, BackedUp: &bs, AttestationType: "none", Name: "Key " + string(rune('A'+n)), CreatedAt: created}
}

func createPasskey(t *testing.T, s latchkey.Tx, p *latchkey.Passkey) *latchkey.Passkey {
	t.Helper()
	must(t, s.CreatePasskey(ctx(t), p))
	return p
}

func passkeyByCredential(t *testing.T, s latchkey.Store, p *latchkey.Passkey) latchkey.Passkey {
	t.Helper()
	got, err := s.PasskeyByCredentialID(ctx(t), p.CredentialID)
	must(t, err)
	return *got
}

func passkeyIDs(ps []latchkey.Passkey) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

func testPasskeys(t *testing.T, s latchkey.Store) {
	u, other := createUser(t, s, 1), createUser(t, s, 2)
	p1 := createPasskey(t, s, newPasskey(t, u, 1))
	p2 := createPasskey(t, s, newPasskey(t, u, 2))
	theirs := createPasskey(t, s, newPasskey(t, other, 3))

	equal(t, "read back", passkeyByCredential(t, s, p1), *p1)
	_, err := s.PasskeyByCredentialID(ctx(t), randBytes(t))
	mustCode(t, err, latchkey.ENotFound)
	_, err = s.PasskeyByCredentialID(ctx(t), nil)
	mustCode(t, err, latchkey.ENotFound)

	list, err := s.ListPasskeys(ctx(t), u.ID)
	must(t, err)
	equal(t, "newest first, only the user's", passkeyIDs(list), []string{p2.ID, p1.ID})
	equal(t, "listed as stored", list[1], *p1)

	must(t, s.RenamePasskey(ctx(t), u.ID, p1.ID, "Laptop"))
	mustCode(t, s.RenamePasskey(ctx(t), u.ID, theirs.ID, "Mine now"), latchkey.ENotFound)
	mustCode(t, s.RenamePasskey(ctx(t), u.ID, "nope", "x"), latchkey.ENotFound)
	p1.Name = "Laptop"
	equal(t, "renamed", passkeyByCredential(t, s, p1), *p1)
	equal(t, "another user's name", passkeyByCredential(t, s, theirs).Name, theirs.Name)

	mustCode(t, s.DeletePasskey(ctx(t), u.ID, theirs.ID), latchkey.ENotFound)
	must(t, s.DeletePasskey(ctx(t), u.ID, p2.ID))
	mustCode(t, s.DeletePasskey(ctx(t), u.ID, p2.ID), latchkey.ENotFound)
	list, err = s.ListPasskeys(ctx(t), u.ID)
	must(t, err)
	equal(t, "after the delete", passkeyIDs(list), []string{p1.ID})
	passkeyByCredential(t, s, theirs)

	ghost := newPasskey(t, u, 4)
	ghost.UserID = "ghost"
	mustCode(t, s.CreatePasskey(ctx(t), ghost), latchkey.ENotFound)
}

// A credential ID belongs to one account (PK-03): whoever registers it
// second, the same user or another, in a transaction or not, is refused.
func testPasskeyCredentialIDIsUnique(t *testing.T, s latchkey.Store) {
	u, other := createUser(t, s, 1), createUser(t, s, 2)
	first := createPasskey(t, s, newPasskey(t, u, 1))
	for _, owner := range []*latchkey.User{u, other} {
		again := newPasskey(t, owner, 2)
		again.CredentialID = first.CredentialID
		mustCode(t, s.CreatePasskey(ctx(t), again), latchkey.EConflict)
		mustCode(t, s.InTx(ctx(t), func(tx latchkey.Tx) error { return tx.CreatePasskey(ctx(t), again) }), latchkey.EConflict)
	}
	equal(t, "the first owner keeps it", passkeyByCredential(t, s, first).UserID, u.ID)
	list, err := s.ListPasskeys(ctx(t), other.ID)
	must(t, err)
	equal(t, "the other user's passkeys", len(list), 0)
}

// A credential stored without flags (registered before they were kept)
// reads back without them, and its next use records them.
func testPasskeyFlagsUnknown(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	p := newPasskey(t, u, 1)
	p.BackupEligible, p.BackedUp, p.Transports = nil, nil, nil
	createPasskey(t, s, p)
	equal(t, "read back", passkeyByCredential(t, s, p), *p)
	must(t, s.UsePasskey(ctx(t), p.ID, latchkey.PasskeyUse{SignCount: 5, BackupEligible: true, BackedUp: false, At: at(time.Hour)}))
	got := passkeyByCredential(t, s, p)
	if got.BackupEligible == nil || !*got.BackupEligible || got.BackedUp == nil || *got.BackedUp {
		t.Fatalf("flags after the use: %v %v", got.BackupEligible, got.BackedUp)
	}
	equal(t, "counter", got.SignCount, uint32(5))
	equal(t, "last used", got.LastUsedAt, ptr(at(time.Hour)))
}

// The counter moves forward or the use is refused: equal and lower
// counters are refused (when either is non-zero) and change nothing;
// an authenticator that always says 0 is used any number of times.
func testUsePasskeyCounter(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	p := newPasskey(t, u, 1)
	p.SignCount = 10
	createPasskey(t, s, p)
	use := func(n uint32, be, bs bool, d time.Duration) error {
		return s.UsePasskey(ctx(t), p.ID, latchkey.PasskeyUse{SignCount: n, BackupEligible: be, BackedUp: bs, At: at(d)})
	}
	for _, n := range []uint32{10, 9, 0} {
		mustCode(t, use(n, false, false, time.Hour), latchkey.EConflict)
	}
	equal(t, "unchanged by the refusals", passkeyByCredential(t, s, p), *p)
	must(t, use(11, true, true, time.Minute))
	got := passkeyByCredential(t, s, p)
	equal(t, "counter", got.SignCount, uint32(11))
	equal(t, "flags", [2]bool{*got.BackupEligible, *got.BackedUp}, [2]bool{true, true})
	equal(t, "last used", got.LastUsedAt, ptr(at(time.Minute)))
	must(t, use(1<<32-1, true, false, 2*time.Minute)) // the largest counter there is
	equal(t, "largest counter", passkeyByCredential(t, s, p).SignCount, uint32(1<<32-1))
	mustCode(t, s.UsePasskey(ctx(t), "nope", latchkey.PasskeyUse{SignCount: 1, At: t0}), latchkey.ENotFound)

	zero := newPasskey(t, u, 2)
	zero.SignCount = 0
	createPasskey(t, s, zero)
	for i := range 3 {
		must(t, s.UsePasskey(ctx(t), zero.ID, latchkey.PasskeyUse{At: at(time.Duration(i) * time.Second)}))
	}
	// Once it counts, it may not go back to 0.
	must(t, s.UsePasskey(ctx(t), zero.ID, latchkey.PasskeyUse{SignCount: 1, At: at(time.Hour)}))
	mustCode(t, s.UsePasskey(ctx(t), zero.ID, latchkey.PasskeyUse{At: at(time.Hour)}), latchkey.EConflict)
}

func testUsePasskeyConcurrent(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	p := createPasskey(t, s, newPasskey(t, u, 1))
	wins := concurrently(t, 20, func(i int) (bool, error) {
		err := s.InTx(ctx(t), func(tx latchkey.Tx) error {
			return tx.UsePasskey(ctx(t), p.ID, latchkey.PasskeyUse{SignCount: 7, At: at(time.Duration(i) * time.Second)})
		})
		if latchkey.IsCode(err, latchkey.EConflict) {
			return false, nil
		}
		return err == nil, err
	})
	equal(t, "winners", wins, 1)
}

func newChallenge(t *testing.T, purpose string, u *latchkey.User, sessionID string) *latchkey.PasskeyChallenge {
	c := &latchkey.PasskeyChallenge{Hash: randBytes(t), Purpose: purpose, SessionID: sessionID, CreatedAt: t0, ExpiresAt: at(5 * time.Minute)}
	if u != nil {
		c.UserID, c.Name = u.ID, "My key"
	}
	return c
}

func testPasskeyChallenges(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	x := createSession(t, s, u, 1)
	reg := newChallenge(t, latchkey.ChallengeRegister, u, x.ID)
	in := newChallenge(t, latchkey.ChallengeSignIn, nil, "")
	must(t, s.CreatePasskeyChallenge(ctx(t), reg))
	must(t, s.InTx(ctx(t), func(tx latchkey.Tx) error { return tx.CreatePasskeyChallenge(ctx(t), in) }))
	mustCode(t, s.CreatePasskeyChallenge(ctx(t), in), latchkey.EConflict)

	// The wrong purpose finds nothing, and spends nothing.
	_, err := s.ConsumePasskeyChallenge(ctx(t), latchkey.ChallengeSignIn, reg.Hash, t0)
	mustCode(t, err, latchkey.ENotFound)
	got, err := s.ConsumePasskeyChallenge(ctx(t), latchkey.ChallengeRegister, reg.Hash, at(time.Minute))
	must(t, err)
	equal(t, "registration challenge", *got, *reg)
	_, err = s.ConsumePasskeyChallenge(ctx(t), latchkey.ChallengeRegister, reg.Hash, at(time.Minute))
	mustCode(t, err, latchkey.ENotFound)

	err = s.InTx(ctx(t), func(tx latchkey.Tx) error {
		got, err = tx.ConsumePasskeyChallenge(ctx(t), latchkey.ChallengeSignIn, in.Hash, t0)
		return err
	})
	must(t, err)
	equal(t, "sign-in challenge", *got, *in)
	_, err = s.ConsumePasskeyChallenge(ctx(t), latchkey.ChallengeSignIn, nil, t0)
	mustCode(t, err, latchkey.ENotFound)

	// An expired challenge is refused, and spent too.
	late := newChallenge(t, latchkey.ChallengeSignIn, nil, "")
	must(t, s.CreatePasskeyChallenge(ctx(t), late))
	_, err = s.ConsumePasskeyChallenge(ctx(t), latchkey.ChallengeSignIn, late.Hash, late.ExpiresAt)
	mustCode(t, err, latchkey.ENotFound)
	_, err = s.ConsumePasskeyChallenge(ctx(t), latchkey.ChallengeSignIn, late.Hash, t0)
	mustCode(t, err, latchkey.ENotFound)

	// A registration challenge goes with its user.
	ghost := newChallenge(t, latchkey.ChallengeRegister, u, x.ID)
	ghost.UserID = "ghost"
	mustCode(t, s.CreatePasskeyChallenge(ctx(t), ghost), latchkey.ENotFound)
}

func testPasskeyChallengeConcurrent(t *testing.T, s latchkey.Store) {
	c := newChallenge(t, latchkey.ChallengeSignIn, nil, "")
	must(t, s.CreatePasskeyChallenge(ctx(t), c))
	wins := concurrently(t, 20, func(int) (bool, error) {
		_, err := s.ConsumePasskeyChallenge(ctx(t), c.Purpose, c.Hash, t0)
		if latchkey.IsCode(err, latchkey.ENotFound) {
			return false, nil
		}
		return err == nil, err
	})
	equal(t, "winners", wins, 1)
}

// The janitor removes challenges that expired before its cut-off, and
// no other.
func testPasskeyChallengesExpire(t *testing.T, s latchkey.Store) {
	old := newChallenge(t, latchkey.ChallengeSignIn, nil, "")
	old.ExpiresAt = at(time.Minute)
	live := newChallenge(t, latchkey.ChallengeSignIn, nil, "")
	live.ExpiresAt = at(time.Hour)
	must(t, s.CreatePasskeyChallenge(ctx(t), old))
	must(t, s.CreatePasskeyChallenge(ctx(t), live))
	n, err := s.DeleteExpired(ctx(t), at(30*time.Minute), t0)
	must(t, err)
	equal(t, "rows removed", n, int64(1))
	_, err = s.ConsumePasskeyChallenge(ctx(t), live.Purpose, live.Hash, t0)
	must(t, err)
	_, err = s.ConsumePasskeyChallenge(ctx(t), old.Purpose, old.Hash, t0)
	mustCode(t, err, latchkey.ENotFound)
}

// A passkey without an ID, or a challenge without a hash, is refused and
// nothing is stored.
func testPasskeysNeedIDs(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	p := newPasskey(t, u, 1)
	p.ID = ""
	c := newChallenge(t, latchkey.ChallengeSignIn, nil, "")
	c.Hash = nil
	mustCode(t, s.CreatePasskey(ctx(t), p), latchkey.EInternal)
	mustCode(t, s.InTx(ctx(t), func(tx latchkey.Tx) error { return tx.CreatePasskey(ctx(t), p) }), latchkey.EInternal)
	mustCode(t, s.CreatePasskeyChallenge(ctx(t), c), latchkey.EInternal)
	_, err := s.PasskeyByCredentialID(ctx(t), p.CredentialID)
	mustCode(t, err, latchkey.ENotFound)
}

func testDeleteUserRemovesPasskeys(t *testing.T, s latchkey.Store) {
	u, keep := createUser(t, s, 1), createUser(t, s, 2)
	p := createPasskey(t, s, newPasskey(t, u, 1))
	kept := createPasskey(t, s, newPasskey(t, keep, 2))
	x := createSession(t, s, u, 1)
	c := newChallenge(t, latchkey.ChallengeRegister, u, x.ID)
	must(t, s.CreatePasskeyChallenge(ctx(t), c))
	must(t, s.DeleteUser(ctx(t), u.ID))
	_, err := s.PasskeyByCredentialID(ctx(t), p.CredentialID)
	mustCode(t, err, latchkey.ENotFound)
	_, err = s.ConsumePasskeyChallenge(ctx(t), c.Purpose, c.Hash, t0)
	mustCode(t, err, latchkey.ENotFound)
	passkeyByCredential(t, s, kept)
}
