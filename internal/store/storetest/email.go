package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// maxAttempts is the wrong-code limit the suite passes: a parameter of
// the stores, not a rule of theirs.
const maxAttempts = 5

// emailToken makes the n-th token of u for purpose, sent to u's address,
// with a code whose hash is code; it expires in an hour.
func emailToken(t *testing.T, u *latchkey.User, n int, purpose string, code []byte) *latchkey.EmailToken {
	created := at(time.Duration(n) * time.Millisecond)
	return &latchkey.EmailToken{
		ID: latchkey.NewID(created), UserID: u.ID, Purpose: purpose, Email: u.Email,
		LinkHash: randBytes(t), CodeHash: code, CreatedAt: created, ExpiresAt: created.Add(time.Hour),
	}
}

func createEmailToken(t *testing.T, s latchkey.Tx, et *latchkey.EmailToken) *latchkey.EmailToken {
	t.Helper()
	must(t, s.CreateEmailToken(ctx(t), et))
	return et
}

// consumed is et as ConsumeEmailToken* returns it.
func consumed(et *latchkey.EmailToken, now time.Time, attempts int) latchkey.EmailToken {
	c := *et
	c.ConsumedAt, c.Attempts = &now, attempts
	return c
}

func testEmailTokens(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	et := createEmailToken(t, s, emailToken(t, u, 1, latchkey.PurposeVerifyEmail, randBytes(t)))
	now := at(time.Minute)

	// Another purpose's link hash, an unknown or empty hash: not found.
	_, err := s.ConsumeEmailTokenByLink(ctx(t), latchkey.PurposePasswordReset, et.LinkHash, now)
	mustCode(t, err, latchkey.ENotFound)
	_, err = s.ConsumeEmailTokenByLink(ctx(t), latchkey.PurposeVerifyEmail, randBytes(t), now)
	mustCode(t, err, latchkey.ENotFound)
	_, err = s.ConsumeEmailTokenByLink(ctx(t), latchkey.PurposeVerifyEmail, nil, now)
	mustCode(t, err, latchkey.ENotFound)

	got, err := s.ConsumeEmailTokenByLink(ctx(t), latchkey.PurposeVerifyEmail, et.LinkHash, now)
	must(t, err)
	equal(t, "consumed token", *got, consumed(et, now, 0))
	// Single use, by link or by code.
	_, err = s.ConsumeEmailTokenByLink(ctx(t), latchkey.PurposeVerifyEmail, et.LinkHash, now)
	mustCode(t, err, latchkey.ENotFound)
	_, err = s.ConsumeEmailTokenByCode(ctx(t), latchkey.PurposeVerifyEmail, u.Email, et.CodeHash, now, maxAttempts)
	mustCode(t, err, latchkey.ENotFound)

	// Expiry: live until ExpiresAt, not at it.
	exp := createEmailToken(t, s, emailToken(t, u, 2, latchkey.PurposeVerifyEmail, nil))
	_, err = s.ConsumeEmailTokenByLink(ctx(t), latchkey.PurposeVerifyEmail, exp.LinkHash, exp.ExpiresAt)
	mustCode(t, err, latchkey.ENotFound)
	got, err = s.ConsumeEmailTokenByLink(ctx(t), latchkey.PurposeVerifyEmail, exp.LinkHash, exp.ExpiresAt.Add(-time.Microsecond))
	must(t, err)
	equal(t, "token without a code", got.CodeHash, []byte(nil))

	// A token for an unknown user is refused.
	ghost := emailToken(t, userN(9), 3, latchkey.PurposeSignIn, randBytes(t))
	mustCode(t, s.CreateEmailToken(ctx(t), ghost), latchkey.ENotFound)
	// One link hash serves one token of a purpose.
	dup := emailToken(t, createUser(t, s, 2), 4, latchkey.PurposeSignIn, nil)
	dup.LinkHash = et.LinkHash
	must(t, s.CreateEmailToken(ctx(t), dup)) // another purpose: fine
	dup2 := emailToken(t, u, 5, latchkey.PurposeSignIn, nil)
	dup2.LinkHash = et.LinkHash
	mustCode(t, s.CreateEmailToken(ctx(t), dup2), latchkey.EConflict)
}

// A new token voids the user's unconsumed token of the same purpose, and
// nothing else: not other purposes, not other users, not consumed tokens.
func testEmailTokenVoidsPrevious(t *testing.T, s latchkey.Store) {
	u, other := createUser(t, s, 1), createUser(t, s, 2)
	now := at(time.Minute)
	used := createEmailToken(t, s, emailToken(t, u, 1, latchkey.PurposePasswordReset, nil))
	_, err := s.ConsumeEmailTokenByLink(ctx(t), latchkey.PurposePasswordReset, used.LinkHash, now)
	must(t, err)
	first := createEmailToken(t, s, emailToken(t, u, 2, latchkey.PurposePasswordReset, randBytes(t)))
	signIn := createEmailToken(t, s, emailToken(t, u, 3, latchkey.PurposeSignIn, nil))
	others := createEmailToken(t, s, emailToken(t, other, 4, latchkey.PurposePasswordReset, nil))
	second := createEmailToken(t, s, emailToken(t, u, 5, latchkey.PurposePasswordReset, randBytes(t)))

	_, err = s.ConsumeEmailTokenByLink(ctx(t), latchkey.PurposePasswordReset, first.LinkHash, now)
	mustCode(t, err, latchkey.ENotFound)
	_, err = s.ConsumeEmailTokenByCode(ctx(t), latchkey.PurposePasswordReset, u.Email, first.CodeHash, now, maxAttempts)
	mustCode(t, err, latchkey.ENotFound)
	for _, et := range []*latchkey.EmailToken{second, signIn, others} {
		got, err := s.ConsumeEmailTokenByLink(ctx(t), et.Purpose, et.LinkHash, now)
		must(t, err)
		equal(t, "token that outlived the new one", got.ID, et.ID)
	}
	// In a transaction, the new token replaces one the transaction made.
	var third, fourth *latchkey.EmailToken
	must(t, s.InTx(ctx(t), func(tx latchkey.Tx) error {
		third = createEmailToken(t, tx, emailToken(t, u, 6, latchkey.PurposeSignIn, nil))
		fourth = createEmailToken(t, tx, emailToken(t, u, 7, latchkey.PurposeSignIn, nil))
		return nil
	}))
	_, err = s.ConsumeEmailTokenByLink(ctx(t), latchkey.PurposeSignIn, third.LinkHash, now)
	mustCode(t, err, latchkey.ENotFound)
	_, err = s.ConsumeEmailTokenByLink(ctx(t), latchkey.PurposeSignIn, fourth.LinkHash, now)
	must(t, err)
}

// Of concurrent requests of one user for one purpose, one token remains.
func testEmailTokenCreateConcurrent(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	tokens := make([]*latchkey.EmailToken, 20)
	for i := range tokens {
		tokens[i] = emailToken(t, u, i, latchkey.PurposeSignIn, nil)
	}
	concurrently(t, len(tokens), func(i int) (bool, error) {
		if i%2 == 0 {
			return false, s.CreateEmailToken(ctx(t), tokens[i])
		}
		return false, s.InTx(ctx(t), func(tx latchkey.Tx) error { return tx.CreateEmailToken(ctx(t), tokens[i]) })
	})
	live := 0
	for _, et := range tokens {
		if _, err := s.ConsumeEmailTokenByLink(ctx(t), et.Purpose, et.LinkHash, t0); err == nil {
			live++
		} else {
			mustCode(t, err, latchkey.ENotFound)
		}
	}
	equal(t, "live tokens", live, 1)
}

func testEmailTokenByCode(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	code := randBytes(t)
	et := createEmailToken(t, s, emailToken(t, u, 1, latchkey.PurposeSignIn, code))
	now := at(time.Minute)
	consume := func(purpose, email string, code []byte) (*latchkey.EmailToken, error) {
		return s.ConsumeEmailTokenByCode(ctx(t), purpose, email, code, now, maxAttempts)
	}

	// Another purpose or address does not find it, nor charge it.
	_, err := consume(latchkey.PurposeVerifyEmail, u.Email, code)
	mustCode(t, err, latchkey.ENotFound)
	_, err = consume(latchkey.PurposeSignIn, "someone@example.com", code)
	mustCode(t, err, latchkey.ENotFound)
	// Two wrong codes are charged; the right one then wins.
	for range 2 {
		_, err = consume(latchkey.PurposeSignIn, u.Email, randBytes(t))
		mustCode(t, err, latchkey.ENotFound)
	}
	got, err := consume(latchkey.PurposeSignIn, u.Email, code)
	must(t, err)
	equal(t, "consumed by code", *got, consumed(et, now, 2))
	_, err = consume(latchkey.PurposeSignIn, u.Email, code)
	mustCode(t, err, latchkey.ENotFound)

	// maxAttempts wrong codes kill the code, even the right one after them;
	// the link, which cannot be guessed, still works.
	dead := createEmailToken(t, s, emailToken(t, u, 2, latchkey.PurposeSignIn, code))
	for range maxAttempts {
		_, err = consume(latchkey.PurposeSignIn, u.Email, randBytes(t))
		mustCode(t, err, latchkey.ENotFound)
	}
	_, err = consume(latchkey.PurposeSignIn, u.Email, code)
	mustCode(t, err, latchkey.ENotFound)
	got, err = s.ConsumeEmailTokenByLink(ctx(t), latchkey.PurposeSignIn, dead.LinkHash, now)
	must(t, err)
	equal(t, "attempts of a dead code", got.Attempts, maxAttempts)

	// An expired token is not found by its code.
	exp := createEmailToken(t, s, emailToken(t, u, 3, latchkey.PurposeSignIn, code))
	_, err = s.ConsumeEmailTokenByCode(ctx(t), latchkey.PurposeSignIn, u.Email, code, exp.ExpiresAt, maxAttempts)
	mustCode(t, err, latchkey.ENotFound)
	_, err = s.ConsumeEmailTokenByCode(ctx(t), latchkey.PurposeSignIn, u.Email, nil, now, maxAttempts)
	mustCode(t, err, latchkey.ENotFound)
}

// Two accounts can wait for a code at one address (both asked to move to
// it): a code consumes only the token it matches, and a wrong code is
// charged to each, since it was tried against each.
func testEmailTokenByCodeSharedAddress(t *testing.T, s latchkey.Store) {
	a, b := createUser(t, s, 1), createUser(t, s, 2)
	const addr = "new@example.com"
	codeA, codeB := randBytes(t), randBytes(t)
	ta := emailToken(t, a, 1, latchkey.PurposeEmailChange, codeA)
	tb := emailToken(t, b, 2, latchkey.PurposeEmailChange, codeB)
	ta.Email, tb.Email = addr, addr
	createEmailToken(t, s, ta)
	createEmailToken(t, s, tb)
	now := at(time.Minute)

	_, err := s.ConsumeEmailTokenByCode(ctx(t), latchkey.PurposeEmailChange, addr, randBytes(t), now, maxAttempts)
	mustCode(t, err, latchkey.ENotFound)
	got, err := s.ConsumeEmailTokenByCode(ctx(t), latchkey.PurposeEmailChange, addr, codeB, now, maxAttempts)
	must(t, err)
	equal(t, "token of the code", *got, consumed(tb, now, 1))
	got, err = s.ConsumeEmailTokenByLink(ctx(t), latchkey.PurposeEmailChange, ta.LinkHash, now)
	must(t, err)
	equal(t, "the other token's attempts", got.Attempts, 2)
}

func testEmailTokenByLinkConcurrent(t *testing.T, s latchkey.Store) {
	et := createEmailToken(t, s, emailToken(t, createUser(t, s, 1), 1, latchkey.PurposePasswordReset, randBytes(t)))
	wins := concurrently(t, 20, func(int) (bool, error) {
		_, err := s.ConsumeEmailTokenByLink(ctx(t), et.Purpose, et.LinkHash, t0)
		if latchkey.IsCode(err, latchkey.ENotFound) {
			return false, nil
		}
		return err == nil, err
	})
	equal(t, "winners", wins, 1)
}

func testEmailTokenByCodeConcurrent(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	code := randBytes(t)
	et := createEmailToken(t, s, emailToken(t, u, 1, latchkey.PurposeSignIn, code))
	wins := concurrently(t, 20, func(int) (bool, error) {
		_, err := s.ConsumeEmailTokenByCode(ctx(t), et.Purpose, et.Email, code, t0, maxAttempts)
		if latchkey.IsCode(err, latchkey.ENotFound) {
			return false, nil
		}
		return err == nil, err
	})
	equal(t, "winners", wins, 1)
}

// Of concurrent guesses, at most maxAttempts are tested against a code:
// each is charged before the next is tested.
func testEmailTokenGuessesConcurrent(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	code := randBytes(t)
	et := createEmailToken(t, s, emailToken(t, u, 1, latchkey.PurposeSignIn, code))
	concurrently(t, 20, func(int) (bool, error) {
		_, err := s.ConsumeEmailTokenByCode(ctx(t), et.Purpose, et.Email, randBytes(t), t0, maxAttempts)
		if !latchkey.IsCode(err, latchkey.ENotFound) {
			return false, errors.Join(errors.New("a wrong code did not fail as not found"), err)
		}
		return false, nil
	})
	_, err := s.ConsumeEmailTokenByCode(ctx(t), et.Purpose, et.Email, code, t0, maxAttempts)
	mustCode(t, err, latchkey.ENotFound)
	got, err := s.ConsumeEmailTokenByLink(ctx(t), et.Purpose, et.LinkHash, t0)
	must(t, err)
	equal(t, "attempts charged", got.Attempts, maxAttempts)

	// The right code among concurrent wrong ones wins only while attempts
	// were left.
	et = createEmailToken(t, s, emailToken(t, u, 2, latchkey.PurposeSignIn, code))
	wins := concurrently(t, 20, func(i int) (bool, error) {
		guess := randBytes(t)
		if i == 10 {
			guess = code
		}
		got, err := s.ConsumeEmailTokenByCode(ctx(t), et.Purpose, et.Email, guess, t0, maxAttempts)
		if latchkey.IsCode(err, latchkey.ENotFound) {
			return false, nil
		}
		if err == nil && got.Attempts >= maxAttempts {
			return true, errors.New("the right code won after the wrong-code limit")
		}
		return err == nil, err
	})
	if wins > 1 {
		t.Fatalf("%d winners", wins)
	}
}

func testVoidEmailTokens(t *testing.T, s latchkey.Store) {
	u, other := createUser(t, s, 1), createUser(t, s, 2)
	now := at(time.Minute)
	used := createEmailToken(t, s, emailToken(t, u, 1, latchkey.PurposeVerifyEmail, nil))
	_, err := s.ConsumeEmailTokenByLink(ctx(t), used.Purpose, used.LinkHash, now)
	must(t, err)
	reset := createEmailToken(t, s, emailToken(t, u, 2, latchkey.PurposePasswordReset, nil))
	signIn := createEmailToken(t, s, emailToken(t, u, 3, latchkey.PurposeSignIn, nil))
	change := createEmailToken(t, s, emailToken(t, u, 4, latchkey.PurposeEmailChange, nil))
	verify := createEmailToken(t, s, emailToken(t, u, 5, latchkey.PurposeVerifyEmail, nil))
	others := createEmailToken(t, s, emailToken(t, other, 6, latchkey.PurposeSignIn, nil))

	n, err := s.VoidEmailTokens(ctx(t), u.ID, latchkey.PurposeSignIn, latchkey.PurposeEmailChange)
	must(t, err)
	equal(t, "voided", n, 2)
	for _, et := range []*latchkey.EmailToken{signIn, change} {
		_, err := s.ConsumeEmailTokenByLink(ctx(t), et.Purpose, et.LinkHash, now)
		mustCode(t, err, latchkey.ENotFound)
	}
	_, err = s.ConsumeEmailTokenByLink(ctx(t), reset.Purpose, reset.LinkHash, now)
	must(t, err)
	// No purposes: all of the user's unconsumed tokens.
	n, err = s.VoidEmailTokens(ctx(t), u.ID)
	must(t, err)
	equal(t, "voided", n, 1)
	_, err = s.ConsumeEmailTokenByLink(ctx(t), verify.Purpose, verify.LinkHash, now)
	mustCode(t, err, latchkey.ENotFound)
	_, err = s.ConsumeEmailTokenByLink(ctx(t), others.Purpose, others.LinkHash, now)
	must(t, err)
	n, err = s.VoidEmailTokens(ctx(t), "nobody")
	must(t, err)
	equal(t, "voided for an unknown user", n, 0)
}
