package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func auditEvent(n int, typ, userID string) *latchkey.AuditEvent {
	tm := at(time.Duration(n) * time.Millisecond)
	return &latchkey.AuditEvent{
		ID: latchkey.NewID(tm), Time: tm, Type: typ, UserID: userID, SessionID: "s1", APIKeyID: "k1",
		IP: "192.0.2.7", UserAgent: "test/1.0", Outcome: latchkey.OutcomeSuccess, Reason: "why",
	}
}

func auditIDs(l []latchkey.AuditEvent) []string {
	out := make([]string, len(l))
	for i, e := range l {
		out[i] = e.ID
	}
	return out
}

func testAudit(t *testing.T, s latchkey.Store) {
	e1 := auditEvent(1, latchkey.AuditLoginSucceeded, "u1")
	e2 := auditEvent(2, latchkey.AuditLoginFailed, "u2")
	e3 := auditEvent(3, latchkey.AuditLoginSucceeded, "u2")
	e4 := auditEvent(4, latchkey.AuditLogout, "")
	for _, e := range []*latchkey.AuditEvent{e1, e2, e3, e4} {
		must(t, s.AppendAudit(ctx(t), e))
	}
	all, next, err := s.ListAudit(ctx(t), latchkey.AuditFilter{})
	must(t, err)
	equal(t, "all events", all, []latchkey.AuditEvent{*e4, *e3, *e2, *e1})
	equal(t, "next", next, "")
	tests := []struct {
		name string
		f    latchkey.AuditFilter
		want []string
	}{
		{"user", latchkey.AuditFilter{UserID: "u2"}, []string{e3.ID, e2.ID}},
		{"type", latchkey.AuditFilter{Type: latchkey.AuditLoginSucceeded}, []string{e3.ID, e1.ID}},
		{"user and type", latchkey.AuditFilter{UserID: "u2", Type: latchkey.AuditLoginFailed}, []string{e2.ID}},
		{"since", latchkey.AuditFilter{Since: e2.Time}, []string{e4.ID, e3.ID, e2.ID}},
		{"since and user", latchkey.AuditFilter{Since: e3.Time, UserID: "u2"}, []string{e3.ID}},
		{"cursor", latchkey.AuditFilter{Page: latchkey.Page{Cursor: e3.ID}}, []string{e2.ID, e1.ID}},
		{"nothing", latchkey.AuditFilter{UserID: "u3"}, []string{}},
	}
	for _, tc := range tests {
		got, next, err := s.ListAudit(ctx(t), tc.f)
		must(t, err)
		if !equalStrings(auditIDs(got), tc.want) || next != "" {
			t.Errorf("%s: got %v next %q, want %v", tc.name, auditIDs(got), next, tc.want)
		}
	}
	// The caller names every event: the store refuses one without an ID.
	e5 := auditEvent(5, latchkey.AuditSignup, "u1")
	e5.ID = ""
	mustCode(t, s.AppendAudit(ctx(t), e5), latchkey.EInternal)
	if e5.ID != "" {
		t.Fatal("AppendAudit named the event")
	}
	got, _, err := s.ListAudit(ctx(t), latchkey.AuditFilter{Type: latchkey.AuditSignup})
	must(t, err)
	equal(t, "events without an ID", len(got), 0)
}

func testAuditPaging(t *testing.T, s latchkey.Store) {
	var want []string
	must(t, s.InTx(ctx(t), func(tx latchkey.Tx) error {
		for n := 1; n <= 7; n++ {
			e := auditEvent(n, latchkey.AuditRefresh, "u1")
			if err := tx.AppendAudit(ctx(t), e); err != nil {
				return err
			}
			want = append([]string{e.ID}, want...)
			if err := tx.AppendAudit(ctx(t), auditEvent(n, latchkey.AuditRefresh, "u2")); err != nil {
				return err
			}
		}
		return nil
	}))
	var got []string
	f := latchkey.AuditFilter{UserID: "u1", Page: latchkey.Page{Limit: 3}}
	for range 4 {
		page, next, err := s.ListAudit(ctx(t), f)
		must(t, err)
		got = append(got, auditIDs(page)...)
		if next == "" {
			break
		}
		f.Cursor = next
	}
	equal(t, "paged events", got, want)
}

var errBoom = errors.New("boom")

func testInTx(t *testing.T, s latchkey.Store) {
	// Rolled back: the user is gone, and fn's error comes back.
	u1 := userN(1)
	err := s.InTx(ctx(t), func(tx latchkey.Tx) error {
		if err := tx.CreateUser(ctx(t), u1); err != nil {
			return err
		}
		if _, err := tx.UserByID(ctx(t), u1.ID); err != nil { // reads its own writes
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("InTx = %v, want fn's error", err)
	}
	_, err = s.UserByID(ctx(t), u1.ID)
	mustCode(t, err, latchkey.ENotFound)

	// Committed: several methods in one transaction.
	u2 := userN(2)
	var x *latchkey.Session
	must(t, s.InTx(ctx(t), func(tx latchkey.Tx) error {
		if err := tx.CreateUser(ctx(t), u2); err != nil {
			return err
		}
		x = newSession(u2, 2)
		if err := tx.CreateSession(ctx(t), x); err != nil {
			return err
		}
		got, err := tx.UserByEmail(ctx(t), u2.Email)
		if err != nil {
			return err
		}
		if _, err := tx.UpdateUser(ctx(t), got.ID, latchkey.UserPatch{Name: ptr("in tx"), UpdatedAt: at(time.Hour)}); err != nil {
			return err
		}
		if _, err := tx.RevokeUserSessions(ctx(t), u2.ID, "", at(time.Hour)); err != nil {
			return err
		}
		return tx.AppendAudit(ctx(t), auditEvent(2, latchkey.AuditSignup, u2.ID))
	}))
	got, err := s.UserByID(ctx(t), u2.ID)
	must(t, err)
	equal(t, "name", got.Name, "in tx")
	sess, err := s.SessionByID(ctx(t), x.ID)
	must(t, err)
	equal(t, "revoked in tx", sess.RevokedAt, ptr(at(time.Hour)))

	// A store error inside fn rolls back too and keeps its code.
	err = s.InTx(ctx(t), func(tx latchkey.Tx) error {
		if err := tx.DeleteUser(ctx(t), u2.ID); err != nil {
			return err
		}
		return tx.CreateUser(ctx(t), userN(2)) // not a conflict: deleted above
	})
	must(t, err)
	u3 := userN(3)
	err = s.InTx(ctx(t), func(tx latchkey.Tx) error {
		if err := tx.CreateUser(ctx(t), u3); err != nil {
			return err
		}
		return tx.CreateUser(ctx(t), userN(3)) // the same email
	})
	mustCode(t, err, latchkey.EConflict)
	_, err = s.UserByEmail(ctx(t), u3.Email)
	mustCode(t, err, latchkey.ENotFound)
}

func testDeleteExpired(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	cut := at(24 * time.Hour)

	live := createSession(t, s, u, 1) // expires after the cut-off
	liveRT := createRefreshToken(t, s, live)
	oldRT := &latchkey.RefreshToken{Hash: randBytes(t), SessionID: live.ID, UserID: u.ID, CreatedAt: t0, ExpiresAt: at(time.Hour)}
	must(t, s.CreateRefreshToken(ctx(t), oldRT))

	expired := newSession(u, 2)
	expired.ExpiresAt = at(time.Hour)
	must(t, s.CreateSession(ctx(t), expired))
	expiredRT := createRefreshToken(t, s, expired) // expires with its session, counted once

	revoked := createSession(t, s, u, 3)
	revokedRT := createRefreshToken(t, s, revoked)
	must(t, s.RevokeSession(ctx(t), revoked.ID, at(time.Hour)))
	recentlyRevoked := createSession(t, s, u, 4)
	must(t, s.RevokeSession(ctx(t), recentlyRevoked.ID, cut.Add(time.Minute)))

	oldCode := &latchkey.OneTimeCode{Hash: randBytes(t), UserID: u.ID, CreatedAt: t0, ExpiresAt: at(time.Minute)}
	newCode := &latchkey.OneTimeCode{Hash: randBytes(t), UserID: u.ID, CreatedAt: t0, ExpiresAt: cut.Add(time.Minute)}
	must(t, s.CreateOneTimeCode(ctx(t), oldCode))
	must(t, s.CreateOneTimeCode(ctx(t), newCode))

	// Email tokens go when they expire or are consumed.
	oldToken := emailToken(t, u, 1, latchkey.PurposeVerifyEmail, nil)
	oldToken.ExpiresAt = cut.Add(-time.Second)
	usedToken := createEmailToken(t, s, emailToken(t, u, 2, latchkey.PurposePasswordReset, nil))
	_, err := s.ConsumeEmailTokenByLink(ctx(t), usedToken.Purpose, usedToken.LinkHash, t0)
	must(t, err)
	liveToken := emailToken(t, u, 3, latchkey.PurposeSignIn, nil)
	liveToken.ExpiresAt = cut
	createEmailToken(t, s, oldToken)
	createEmailToken(t, s, liveToken)
	// Mail is the business of DeleteOldMail.
	sentMail := enqueue(t, s, mailN(1))
	must(t, s.MarkMailSent(ctx(t), sentMail.ID, t0))

	// MFA challenges go when they expire or are used; TOTP enrollments
	// when they lapse unconfirmed (a confirmed factor never expires).
	oldChallenge, usedChallenge, liveChallenge := challenge(t, u, 1), challenge(t, u, 2), challenge(t, u, 3)
	oldChallenge.ExpiresAt, usedChallenge.ExpiresAt, liveChallenge.ExpiresAt = cut.Add(-time.Second), cut.Add(time.Hour), cut.Add(time.Hour)
	for _, c := range []*latchkey.MFAChallenge{oldChallenge, usedChallenge, liveChallenge} {
		must(t, s.CreateMFAChallenge(ctx(t), c))
	}
	ok, err := s.ConsumeMFAChallenge(ctx(t), usedChallenge.ID, t0)
	must(t, err)
	equal(t, "consumed", ok, true)
	lapsed, pending := totpFactor(t, u, 1), totpFactor(t, u, 2)
	pending.ExpiresAt = ptr(cut.Add(time.Minute))
	must(t, s.CreateTOTPFactor(ctx(t), lapsed))
	must(t, s.CreateTOTPFactor(ctx(t), pending))
	active := confirmedFactor(t, s, u, 3, 1)

	oldEvent, newEvent := auditEvent(1, latchkey.AuditLogout, u.ID), auditEvent(1000, latchkey.AuditLogout, u.ID)
	must(t, s.AppendAudit(ctx(t), oldEvent))
	must(t, s.AppendAudit(ctx(t), newEvent))

	n, err := s.DeleteExpired(ctx(t), cut, at(time.Second))
	must(t, err)
	// 3 refresh tokens (old, expired session's, revoked session's),
	// 2 sessions, 1 code, 2 email tokens, 2 challenges, 1 factor, 1 audit
	// event.
	equal(t, "rows removed", n, int64(12))
	for _, c := range []*latchkey.MFAChallenge{oldChallenge, usedChallenge} {
		_, err := s.MFAChallengeByHash(ctx(t), c.Hash)
		mustCode(t, err, latchkey.ENotFound)
	}
	_, err = s.MFAChallengeByHash(ctx(t), liveChallenge.Hash)
	must(t, err)
	factors, err := s.ListTOTPFactors(ctx(t), u.ID)
	must(t, err)
	equal(t, "factors left", []string{factors[0].ID, factors[1].ID}, []string{pending.ID, active.ID})

	for _, id := range []string{expired.ID, revoked.ID} {
		_, err := s.SessionByID(ctx(t), id)
		mustCode(t, err, latchkey.ENotFound)
	}
	for _, id := range []string{live.ID, recentlyRevoked.ID} {
		_, err := s.SessionByID(ctx(t), id)
		must(t, err)
	}
	for _, h := range [][]byte{oldRT.Hash, expiredRT.Hash, revokedRT.Hash} {
		_, err := s.RefreshTokenByHash(ctx(t), h)
		mustCode(t, err, latchkey.ENotFound)
	}
	_, err = s.RefreshTokenByHash(ctx(t), liveRT.Hash)
	must(t, err)
	_, err = s.ConsumeOneTimeCode(ctx(t), oldCode.Hash, t0)
	mustCode(t, err, latchkey.ENotFound)
	_, err = s.ConsumeOneTimeCode(ctx(t), newCode.Hash, t0)
	must(t, err)
	events, _, err := s.ListAudit(ctx(t), latchkey.AuditFilter{})
	must(t, err)
	equal(t, "audit left", auditIDs(events), []string{newEvent.ID})
	// The two tokens are in the count; the live one is checked after the
	// second run, since consuming it makes it the janitor's.
	_, err = s.ConsumeEmailTokenByLink(ctx(t), oldToken.Purpose, oldToken.LinkHash, oldToken.CreatedAt)
	mustCode(t, err, latchkey.ENotFound)
	mailByID(t, s, sentMail.ID)

	n, err = s.DeleteExpired(ctx(t), cut, at(time.Second))
	must(t, err)
	equal(t, "second run", n, int64(0))
	_, err = s.ConsumeEmailTokenByLink(ctx(t), liveToken.Purpose, liveToken.LinkHash, t0)
	must(t, err)
}

// testTimePrecision checks the documented round trip: UTC, microseconds.
func testTimePrecision(t *testing.T, s latchkey.Store) {
	loc := time.FixedZone("UTC+5", 5*3600)
	created := time.Date(2031, 2, 3, 4, 5, 6, 987654321, loc)
	u := userN(1)
	u.CreatedAt, u.UpdatedAt = created, created
	must(t, s.CreateUser(ctx(t), u))
	got, err := s.UserByID(ctx(t), u.ID)
	must(t, err)
	want := time.Date(2031, 2, 2, 23, 5, 6, 987654000, time.UTC)
	if !got.CreatedAt.Equal(want) || got.CreatedAt.Location() != time.UTC {
		t.Fatalf("CreatedAt = %v, want %v", got.CreatedAt, want)
	}
}

// testClosed checks that a closed store reports EUnavailable (503), not an
// internal error, and does not panic.
func testClosed(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	must(t, s.Close())
	_, err := s.UserByID(ctx(t), u.ID)
	mustCode(t, err, latchkey.EUnavailable)
	mustCode(t, s.CreateUser(ctx(t), userN(2)), latchkey.EUnavailable)
	mustCode(t, s.InTx(ctx(t), func(latchkey.Tx) error { return nil }), latchkey.EUnavailable)
	mustCode(t, s.Ping(ctx(t)), latchkey.EUnavailable)
	_, err = s.DeleteExpired(ctx(t), t0, t0)
	mustCode(t, err, latchkey.EUnavailable)
	_, err = s.ClaimMail(ctx(t), t0, time.Minute, 10)
	mustCode(t, err, latchkey.EUnavailable)
	_, err = s.DeleteOldMail(ctx(t), t0)
	mustCode(t, err, latchkey.EUnavailable)
}

// The caller names every new record (latchkey.NewID): a store makes no IDs
// and refuses a record without one, in a transaction too, storing nothing.
func testNewRecordsNeedIDs(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	noID := userN(2)
	noID.ID = ""
	x := newSession(u, 1)
	x.ID = ""
	k := &latchkey.APIKey{UserID: u.ID, Name: "key", Prefix: "lk_abcd", Hash: randBytes(t), CreatedAt: t0}
	i := &latchkey.Identity{UserID: u.ID, Provider: "github", Subject: "1", CreatedAt: t0}
	e := auditEvent(1, latchkey.AuditSignup, u.ID)
	e.ID = ""
	et := emailToken(t, u, 1, latchkey.PurposeVerifyEmail, randBytes(t))
	et.ID = ""
	m := mailN(1)
	m.ID = ""
	f := totpFactor(t, u, 1)
	f.ID = ""
	c := challenge(t, u, 1)
	c.ID = ""
	creates := map[string]func(tx latchkey.Tx) error{
		"CreateTOTPFactor":   func(tx latchkey.Tx) error { return tx.CreateTOTPFactor(ctx(t), f) },
		"CreateMFAChallenge": func(tx latchkey.Tx) error { return tx.CreateMFAChallenge(ctx(t), c) },
		"CreateEmailToken":   func(tx latchkey.Tx) error { return tx.CreateEmailToken(ctx(t), et) },
		"EnqueueMail":        func(tx latchkey.Tx) error { return tx.EnqueueMail(ctx(t), m) },
		"CreateUser":         func(tx latchkey.Tx) error { return tx.CreateUser(ctx(t), noID) },
		"CreateSession":      func(tx latchkey.Tx) error { return tx.CreateSession(ctx(t), x) },
		"CreateAPIKey":       func(tx latchkey.Tx) error { return tx.CreateAPIKey(ctx(t), k) },
		"CreateIdentity":     func(tx latchkey.Tx) error { return tx.CreateIdentity(ctx(t), i) },
		"AppendAudit":        func(tx latchkey.Tx) error { return tx.AppendAudit(ctx(t), e) },
	}
	for name, create := range creates {
		mustCode(t, create(s), latchkey.EInternal)
		if err := s.InTx(ctx(t), create); latchkey.ErrorCode(err) != latchkey.EInternal {
			t.Errorf("%s in a transaction: %v, want internal", name, err)
		}
	}
	equal(t, "IDs after the refusals", []string{noID.ID, x.ID, k.ID, i.ID, e.ID, et.ID, m.ID}, []string{"", "", "", "", "", "", ""})
	_, err := s.ConsumeEmailTokenByLink(ctx(t), et.Purpose, et.LinkHash, t0)
	mustCode(t, err, latchkey.ENotFound)
	claimed, err := s.ClaimMail(ctx(t), at(time.Hour), time.Minute, 10)
	must(t, err)
	equal(t, "mails stored without an ID", len(claimed), 0)
	_, err = s.UserByEmail(ctx(t), noID.Email)
	mustCode(t, err, latchkey.ENotFound)
	sessions, err := s.ListSessions(ctx(t), u.ID, t0)
	must(t, err)
	keys, err := s.ListAPIKeys(ctx(t), u.ID)
	must(t, err)
	ids, err := s.ListIdentities(ctx(t), u.ID)
	must(t, err)
	events, _, err := s.ListAudit(ctx(t), latchkey.AuditFilter{UserID: u.ID})
	must(t, err)
	factors, err := s.ListTOTPFactors(ctx(t), u.ID)
	must(t, err)
	_, err = s.MFAChallengeByHash(ctx(t), c.Hash)
	mustCode(t, err, latchkey.ENotFound)
	equal(t, "stored without an ID", []int{len(sessions), len(keys), len(ids), len(events), len(factors)}, []int{0, 0, 0, 0, 0})
}
