package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func testSessions(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	x := newSession(u, 1)
	x.CookieHash = randBytes(t)
	must(t, s.CreateSession(ctx(t), x))
	got, err := s.SessionByID(ctx(t), x.ID)
	must(t, err)
	equal(t, "SessionByID", got, x)
	got, err = s.SessionByCookieHash(ctx(t), x.CookieHash)
	must(t, err)
	equal(t, "SessionByCookieHash", got, x)

	// A bearer-only session has no cookie, and two such sessions coexist.
	b1, b2 := createSession(t, s, u, 2), createSession(t, s, u, 3)
	got, err = s.SessionByID(ctx(t), b1.ID)
	must(t, err)
	equal(t, "bearer session", got, b1)
	_, err = s.SessionByCookieHash(ctx(t), nil)
	mustCode(t, err, latchkey.ENotFound)

	must(t, s.TouchSession(ctx(t), x.ID, at(time.Hour)))
	newHash := randBytes(t)
	must(t, s.SetSessionCookieHash(ctx(t), x.ID, newHash))
	got, err = s.SessionByID(ctx(t), x.ID)
	must(t, err)
	x.LastUsedAt, x.CookieHash = at(time.Hour), newHash
	equal(t, "touched session", got, x)
	_, err = s.SessionByCookieHash(ctx(t), randBytes(t))
	mustCode(t, err, latchkey.ENotFound)
	mustCode(t, s.SetSessionCookieHash(ctx(t), b2.ID, newHash), latchkey.EConflict)

	must(t, s.RevokeSession(ctx(t), b1.ID, at(2*time.Hour)))
	must(t, s.RevokeSession(ctx(t), b1.ID, at(3*time.Hour))) // not an error; keeps the first time
	got, err = s.SessionByID(ctx(t), b1.ID)
	must(t, err)
	equal(t, "revoked at", got.RevokedAt, ptr(at(2*time.Hour)))

	for name, err := range map[string]error{
		"SessionByID":          func() error { _, err := s.SessionByID(ctx(t), "nope"); return err }(),
		"TouchSession":         s.TouchSession(ctx(t), "nope", t0),
		"SetSessionCookieHash": s.SetSessionCookieHash(ctx(t), "nope", randBytes(t)),
		"RevokeSession":        s.RevokeSession(ctx(t), "nope", t0),
		"CreateSession":        s.CreateSession(ctx(t), &latchkey.Session{ID: "s-ghost", UserID: "ghost", CreatedAt: t0, LastUsedAt: t0, ExpiresAt: t0, AuthTime: t0}),
	} {
		if latchkey.ErrorCode(err) != latchkey.ENotFound {
			t.Errorf("%s of an unknown id: %v, want not_found", name, err)
		}
	}
	mustCode(t, s.CreateSession(ctx(t), x), latchkey.EConflict)
}

func testSessionAuth(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	x := newSession(u, 1)
	x.AuthTime = at(-time.Minute) // a session may carry an earlier proof
	must(t, s.CreateSession(ctx(t), x))
	got, err := s.SessionByID(ctx(t), x.ID)
	must(t, err)
	equal(t, "AuthTime round trip", got.AuthTime, at(-time.Minute))
	equal(t, "AMR round trip", got.AMR, []string{"pwd"})

	// The caller sets AuthTime (sign-in time at creation): the store
	// refuses a session without one, and fills in nothing.
	y := newSession(u, 2)
	y.AuthTime = time.Time{}
	mustCode(t, s.CreateSession(ctx(t), y), latchkey.EInternal)
	equal(t, "AuthTime of the refused session", y.AuthTime, time.Time{})
	_, err = s.SessionByID(ctx(t), y.ID)
	mustCode(t, err, latchkey.ENotFound)
	y.AuthTime = y.CreatedAt
	y.AMR = nil // a session that says nothing of how it signed in reads back so
	must(t, s.CreateSession(ctx(t), y))
	got, err = s.SessionByID(ctx(t), y.ID)
	must(t, err)
	equal(t, "no AMR", got.AMR, []string(nil))

	// A step-up sets both fields in one write, in the order given.
	must(t, s.SetSessionAuth(ctx(t), x.ID, at(time.Hour), []string{"pwd", "otp", "mfa"}))
	got, err = s.SessionByID(ctx(t), x.ID)
	must(t, err)
	x.AuthTime, x.AMR = at(time.Hour), []string{"pwd", "otp", "mfa"}
	equal(t, "after SetSessionAuth", got, x)
	live, err := s.ListSessions(ctx(t), u.ID, t0)
	must(t, err)
	equal(t, "listed", live[1].AuthTime, at(time.Hour))
	equal(t, "listed AMR", live[1].AMR, x.AMR)

	must(t, s.RevokeSession(ctx(t), x.ID, at(2*time.Hour)))
	mustCode(t, s.SetSessionAuth(ctx(t), x.ID, at(3*time.Hour), []string{"pwd"}), latchkey.ENotFound)
	got, err = s.SessionByID(ctx(t), x.ID)
	must(t, err)
	equal(t, "revoked session keeps its AuthTime", got.AuthTime, at(time.Hour))
	equal(t, "revoked session keeps its AMR", got.AMR, x.AMR)
	mustCode(t, s.SetSessionAuth(ctx(t), "nope", t0, nil), latchkey.ENotFound)

	// In a transaction too, and the write is there for the next read.
	must(t, s.InTx(ctx(t), func(tx latchkey.Tx) error {
		if err := tx.SetSessionAuth(ctx(t), y.ID, at(4*time.Hour), []string{"otp"}); err != nil {
			return err
		}
		got, err := tx.SessionByID(ctx(t), y.ID)
		if err != nil {
			return err
		}
		equal(t, "AuthTime in tx", got.AuthTime, at(4*time.Hour))
		equal(t, "AMR in tx", got.AMR, []string{"otp"})
		return nil
	}))
	err = s.InTx(ctx(t), func(tx latchkey.Tx) error { return tx.SetSessionAuth(ctx(t), x.ID, t0, nil) })
	mustCode(t, err, latchkey.ENotFound)
}

func sessionIDs(l []latchkey.Session) []string {
	out := make([]string, len(l))
	for i, x := range l {
		out[i] = x.ID
	}
	return out
}

func testListSessions(t *testing.T, s latchkey.Store) {
	u, other := createUser(t, s, 1), createUser(t, s, 2)
	live1 := createSession(t, s, u, 1)
	live2 := createSession(t, s, u, 2)
	revoked := createSession(t, s, u, 3)
	must(t, s.RevokeSession(ctx(t), revoked.ID, at(time.Minute)))
	expired := newSession(u, 4)
	expired.ExpiresAt = at(time.Hour)
	must(t, s.CreateSession(ctx(t), expired))
	createSession(t, s, other, 5)

	got, err := s.ListSessions(ctx(t), u.ID, at(2*time.Hour))
	must(t, err)
	equal(t, "live sessions, newest first", sessionIDs(got), []string{live2.ID, live1.ID})
	equal(t, "session fields", got[1], *live1)
	// Expiry is absolute: at exactly ExpiresAt a session is over.
	got, err = s.ListSessions(ctx(t), u.ID, at(time.Hour))
	must(t, err)
	equal(t, "at the expiry instant", sessionIDs(got), []string{live2.ID, live1.ID})
	got, err = s.ListSessions(ctx(t), "nobody", t0)
	must(t, err)
	equal(t, "unknown user", len(got), 0)
}

func testRevokeUserSessions(t *testing.T, s latchkey.Store) {
	u, other := createUser(t, s, 1), createUser(t, s, 2)
	a, b, c := createSession(t, s, u, 1), createSession(t, s, u, 2), createSession(t, s, u, 3)
	must(t, s.RevokeSession(ctx(t), c.ID, at(time.Minute)))
	o := createSession(t, s, other, 4)

	revoked, err := s.RevokeUserSessions(ctx(t), u.ID, a.ID, at(time.Hour))
	must(t, err)
	equal(t, "revoked ids", revoked, []string{b.ID})
	got, err := s.SessionByID(ctx(t), c.ID)
	must(t, err)
	equal(t, "already revoked keeps its time", got.RevokedAt, ptr(at(time.Minute)))

	revoked, err = s.RevokeUserSessions(ctx(t), u.ID, "", at(2*time.Hour))
	must(t, err)
	equal(t, "revoked ids", revoked, []string{a.ID})
	live, err := s.ListSessions(ctx(t), u.ID, at(3*time.Hour))
	must(t, err)
	equal(t, "live after global revoke", len(live), 0)
	got, err = s.SessionByID(ctx(t), o.ID)
	must(t, err)
	if got.RevokedAt != nil {
		t.Fatal("another user's session was revoked")
	}
	revoked, err = s.RevokeUserSessions(ctx(t), u.ID, "", at(4*time.Hour))
	must(t, err)
	equal(t, "nothing left to revoke", len(revoked), 0)
}

func testRefreshTokens(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	x := createSession(t, s, u, 1)
	rt := createRefreshToken(t, s, x)
	got, err := s.RefreshTokenByHash(ctx(t), rt.Hash)
	must(t, err)
	equal(t, "RefreshTokenByHash", got, rt)

	sealed := []byte("sealed successor")
	ok, err := s.MarkRefreshTokenUsed(ctx(t), rt.Hash, at(time.Minute), sealed)
	must(t, err)
	if !ok {
		t.Fatal("first MarkRefreshTokenUsed = false")
	}
	ok, err = s.MarkRefreshTokenUsed(ctx(t), rt.Hash, at(2*time.Minute), []byte("other"))
	must(t, err)
	if ok {
		t.Fatal("second MarkRefreshTokenUsed = true")
	}
	got, err = s.RefreshTokenByHash(ctx(t), rt.Hash)
	must(t, err)
	rt.UsedAt, rt.SealedSuccessor = ptr(at(time.Minute)), sealed
	equal(t, "used token", got, rt)

	_, err = s.RefreshTokenByHash(ctx(t), randBytes(t))
	mustCode(t, err, latchkey.ENotFound)
	_, err = s.MarkRefreshTokenUsed(ctx(t), randBytes(t), t0, nil)
	mustCode(t, err, latchkey.ENotFound)
	mustCode(t, s.CreateRefreshToken(ctx(t), rt), latchkey.EConflict)
	ghost := &latchkey.RefreshToken{Hash: randBytes(t), SessionID: "ghost", UserID: u.ID, CreatedAt: t0, ExpiresAt: t0}
	mustCode(t, s.CreateRefreshToken(ctx(t), ghost), latchkey.ENotFound)
}

// concurrently runs fn from n goroutines at once and returns how many
// reported true; any error fails the test.
func concurrently(t *testing.T, n int, fn func(i int) (bool, error)) int {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		wins  int
		errs  []error
		start = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			ok, err := fn(i)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			if ok {
				wins++
			}
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	return wins
}

func testMarkRefreshTokenUsedConcurrent(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	rt := createRefreshToken(t, s, createSession(t, s, u, 1))
	wins := concurrently(t, 50, func(i int) (bool, error) {
		return s.MarkRefreshTokenUsed(ctx(t), rt.Hash, at(time.Duration(i)*time.Second), []byte{byte(i)})
	})
	equal(t, "winners", wins, 1)
}

// testRefreshRotationInTxConcurrent races the rotation that the refresh use
// case runs: read the token, mark it used, store its successor.
func testRefreshRotationInTxConcurrent(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	x := createSession(t, s, u, 1)
	rt := createRefreshToken(t, s, x)
	var mu sync.Mutex
	var successors [][]byte
	wins := concurrently(t, 20, func(i int) (bool, error) {
		var won bool
		err := s.InTx(ctx(t), func(tx latchkey.Tx) error {
			cur, err := tx.RefreshTokenByHash(ctx(t), rt.Hash)
			if err != nil {
				return err
			}
			next := &latchkey.RefreshToken{Hash: randBytes(t), SessionID: cur.SessionID, UserID: cur.UserID, CreatedAt: t0, ExpiresAt: cur.ExpiresAt}
			ok, err := tx.MarkRefreshTokenUsed(ctx(t), rt.Hash, at(time.Second), next.Hash)
			if err != nil || !ok {
				return err
			}
			if err := tx.CreateRefreshToken(ctx(t), next); err != nil {
				return err
			}
			won = true
			mu.Lock()
			successors = append(successors, next.Hash)
			mu.Unlock()
			return tx.TouchSession(ctx(t), cur.SessionID, at(time.Second))
		})
		return won, err
	})
	equal(t, "winners", wins, 1)
	got, err := s.RefreshTokenByHash(ctx(t), rt.Hash)
	must(t, err)
	if !containsBytes(successors, got.SealedSuccessor) {
		t.Fatal("stored successor is not the winner's")
	}
}
