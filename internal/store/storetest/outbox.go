package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
)

const lease = time.Minute

// mailN makes the n-th mail, due when it is queued; its ID sorts after
// every mail with a smaller n.
func mailN(n int) *latchkey.OutboxMail {
	created := at(time.Duration(n) * time.Millisecond)
	return &latchkey.OutboxMail{
		ID: latchkey.NewID(created), Kind: "sign-in", To: fmt.Sprintf("user%03d@example.com", n),
		Subject: "Your sign-in link", Text: "code 12345678", HTML: "<p>code 12345678</p>",
		CreatedAt: created, NextAttemptAt: created,
	}
}

func enqueue(t *testing.T, s latchkey.Tx, m *latchkey.OutboxMail) *latchkey.OutboxMail {
	t.Helper()
	must(t, s.EnqueueMail(ctx(t), m))
	return m
}

func mailIDs(ms []latchkey.OutboxMail) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func claim(t *testing.T, s latchkey.Tx, now time.Time, limit int) []string {
	t.Helper()
	ms, err := s.ClaimMail(ctx(t), now, lease, limit)
	must(t, err)
	return mailIDs(ms)
}

func mailByID(t *testing.T, s latchkey.Store, id string) latchkey.OutboxMail {
	t.Helper()
	m, err := s.MailByID(ctx(t), id)
	must(t, err)
	return *m
}

func testOutbox(t *testing.T, s latchkey.Store) {
	m1 := enqueue(t, s, mailN(1))
	equal(t, "queued mail", mailByID(t, s, m1.ID), *m1)
	_, err := s.MailByID(ctx(t), "nope")
	mustCode(t, err, latchkey.ENotFound)
	mustCode(t, s.EnqueueMail(ctx(t), m1), latchkey.EConflict)

	// A claim leases the mail and counts the attempt.
	now := at(time.Second)
	ms, err := s.ClaimMail(ctx(t), now, lease, 10)
	must(t, err)
	want := *m1
	want.Attempts, want.LeaseUntil = 1, ptr(now.Add(lease))
	equal(t, "claimed", ms, []latchkey.OutboxMail{want})
	// Held while the lease runs; due again when it has run out.
	equal(t, "claim during the lease", claim(t, s, now.Add(lease-time.Microsecond), 10), []string{})
	again := now.Add(lease)
	equal(t, "claim after the lease", claim(t, s, again, 10), []string{m1.ID})

	// A failure releases the lease and sets the next attempt.
	next := again.Add(5 * time.Minute)
	must(t, s.MarkMailFailed(ctx(t), m1.ID, next, "451 try again later", false))
	got := mailByID(t, s, m1.ID)
	want.Attempts, want.LeaseUntil, want.NextAttemptAt, want.LastError = 2, nil, next, "451 try again later"
	equal(t, "after a failure", got, want)
	equal(t, "claim before the next attempt", claim(t, s, next.Add(-time.Microsecond), 10), []string{})
	equal(t, "claim at the next attempt", claim(t, s, next, 10), []string{m1.ID})

	// Sent: the lease is released, the bodies dropped, never claimed again.
	sent := next.Add(time.Second)
	must(t, s.MarkMailSent(ctx(t), m1.ID, sent))
	got = mailByID(t, s, m1.ID)
	want.Attempts, want.SentAt, want.Text, want.HTML = 3, &sent, "", ""
	equal(t, "after sending", got, want)
	equal(t, "claim after sending", claim(t, s, sent.Add(time.Hour), 10), []string{})
	// A late failure report of a sent mail leaves it sent.
	must(t, s.MarkMailFailed(ctx(t), m1.ID, sent, "timeout", true))
	equal(t, "sent after a late failure", mailByID(t, s, m1.ID), want)

	mustCode(t, s.MarkMailSent(ctx(t), "nope", sent), latchkey.ENotFound)
	mustCode(t, s.MarkMailFailed(ctx(t), "nope", sent, "x", false), latchkey.ENotFound)
	mustCode(t, s.MarkMailFailed(ctx(t), "nope", sent, "x", true), latchkey.ENotFound)
}

func testOutboxGiveUp(t *testing.T, s latchkey.Store) {
	m := enqueue(t, s, mailN(1))
	equal(t, "claimed", claim(t, s, at(time.Second), 1), []string{m.ID})
	gaveUp := at(time.Hour)
	// The reason is cut to a sane length, at a character boundary.
	long := strings.Repeat("€", 1000) + "\xff"
	must(t, s.MarkMailFailed(ctx(t), m.ID, gaveUp, long, true))
	got := mailByID(t, s, m.ID)
	if !utf8.ValidString(got.LastError) || len(got.LastError) > 1000 || len(got.LastError) < 900 ||
		!strings.HasPrefix(long, got.LastError) {
		t.Fatalf("stored reason of %d bytes, valid UTF-8 %v", len(got.LastError), utf8.ValidString(got.LastError))
	}
	want := *m
	want.Attempts, want.FailedAt, want.LastError, want.Text, want.HTML = 1, &gaveUp, got.LastError, "", ""
	equal(t, "given up", got, want)
	equal(t, "claim after giving up", claim(t, s, at(24*time.Hour), 10), []string{})
}

func testClaimMailOrderAndLimit(t *testing.T, s latchkey.Store) {
	// Queued newest first: claims go oldest first all the same.
	ms := make([]*latchkey.OutboxMail, 6)
	for n := 5; n >= 1; n-- {
		ms[n] = enqueue(t, s, mailN(n))
	}
	later := mailN(6)
	later.NextAttemptAt = at(time.Hour)
	enqueue(t, s, later)
	now := at(time.Second)
	equal(t, "first claim", claim(t, s, now, 2), []string{ms[1].ID, ms[2].ID})
	equal(t, "second claim", claim(t, s, now, 10), []string{ms[3].ID, ms[4].ID, ms[5].ID})
	equal(t, "nothing due", claim(t, s, now, 10), []string{})
	equal(t, "no limit", claim(t, s, at(2*time.Hour), 0), []string{})
	for _, m := range ms[1:] {
		must(t, s.MarkMailSent(ctx(t), m.ID, now))
	}
	equal(t, "the later mail", claim(t, s, at(2*time.Hour), 10), []string{later.ID})
}

// Claimers on the database and in transactions share out the mails:
// every mail is claimed exactly once.
func testClaimMailConcurrent(t *testing.T, s latchkey.Store) {
	const mails, claimers = 200, 4
	must(t, s.InTx(ctx(t), func(tx latchkey.Tx) error {
		for n := range mails {
			if err := tx.EnqueueMail(ctx(t), mailN(n)); err != nil {
				return err
			}
		}
		return nil
	}))
	var mu sync.Mutex
	seen := map[string]int{}
	concurrently(t, claimers, func(i int) (bool, error) {
		for {
			var ms []latchkey.OutboxMail
			var err error
			if i%2 == 0 {
				ms, err = s.ClaimMail(ctx(t), at(time.Second), lease, 7)
			} else {
				err = s.InTx(ctx(t), func(tx latchkey.Tx) error {
					ms, err = tx.ClaimMail(ctx(t), at(time.Second), lease, 7)
					return err
				})
			}
			if err != nil || len(ms) == 0 {
				return false, err
			}
			mu.Lock()
			for _, m := range ms {
				seen[m.ID]++
			}
			mu.Unlock()
		}
	})
	equal(t, "mails claimed", len(seen), mails)
	for id, n := range seen {
		if n != 1 {
			t.Errorf("mail %s claimed %d times", id, n)
		}
	}
}

func testOutboxStats(t *testing.T, s latchkey.Store) {
	now := at(time.Hour)
	stats := func() latchkey.OutboxStats {
		t.Helper()
		st, err := s.OutboxStats(ctx(t), now)
		must(t, err)
		return st
	}
	equal(t, "empty outbox", stats(), latchkey.OutboxStats{})

	leased, expired, sent, gaveUp := mailN(3), mailN(4), mailN(5), mailN(6)
	for _, m := range []*latchkey.OutboxMail{leased, expired, sent, gaveUp} {
		m.NextAttemptAt = now.Add(-time.Hour)
		enqueue(t, s, m)
	}
	equal(t, "claimed", len(claim(t, s, now.Add(-30*time.Minute), 10)), 4) // leases run out at now-29m
	must(t, s.MarkMailSent(ctx(t), sent.ID, now))
	must(t, s.MarkMailFailed(ctx(t), gaveUp.ID, now, "550 no such user", true))
	// The oldest of the two whose lease ran out is claimed again.
	again, err := s.ClaimMail(ctx(t), now.Add(-time.Minute), 10*time.Minute, 1)
	must(t, err)
	equal(t, "claimed again", mailIDs(again), []string{leased.ID})
	due := enqueue(t, s, mailN(1)) // due since t0+1ms
	notDue := mailN(2)
	notDue.NextAttemptAt = now.Add(time.Minute)
	enqueue(t, s, notDue)

	equal(t, "stats", stats(), latchkey.OutboxStats{
		Queued: 4, Due: 2, Leased: 1, GivenUp: 1,
		// Mail 1 has waited since t0+1ms; mail 4 only since its lease
		// ran out.
		OldestDue: now.Sub(due.NextAttemptAt),
	})
	equal(t, "lease of mail 4", *mailByID(t, s, expired.ID).LeaseUntil, now.Add(-29*time.Minute))
	// Once mail 1 is sent, mail 4 has been due the longest.
	must(t, s.MarkMailSent(ctx(t), due.ID, now))
	equal(t, "stats", stats(), latchkey.OutboxStats{Queued: 3, Due: 1, Leased: 1, GivenUp: 1, OldestDue: 29 * time.Minute})
}

func testDeleteOldMail(t *testing.T, s latchkey.Store) {
	cut := at(24 * time.Hour)
	oldSent, newSent, oldFailed, newFailed, queued := mailN(1), mailN(2), mailN(3), mailN(4), mailN(5)
	for _, m := range []*latchkey.OutboxMail{oldSent, newSent, oldFailed, newFailed, queued} {
		enqueue(t, s, m)
	}
	must(t, s.MarkMailSent(ctx(t), oldSent.ID, cut.Add(-time.Second)))
	must(t, s.MarkMailSent(ctx(t), newSent.ID, cut))
	must(t, s.MarkMailFailed(ctx(t), oldFailed.ID, cut.Add(-time.Second), "gone", true))
	must(t, s.MarkMailFailed(ctx(t), newFailed.ID, cut, "gone", true))
	must(t, s.MarkMailFailed(ctx(t), queued.ID, t0, "retry", false))

	n, err := s.DeleteOldMail(ctx(t), cut)
	must(t, err)
	equal(t, "mails removed", n, int64(2))
	for _, m := range []*latchkey.OutboxMail{oldSent, oldFailed} {
		_, err := s.MailByID(ctx(t), m.ID)
		mustCode(t, err, latchkey.ENotFound)
	}
	for _, m := range []*latchkey.OutboxMail{newSent, newFailed, queued} {
		mailByID(t, s, m.ID)
	}
	n, err = s.DeleteOldMail(ctx(t), cut)
	must(t, err)
	equal(t, "second run", n, int64(0))
}

// A use case writes a token and the mail that carries it in one
// transaction: both or neither.
func testEmailTokenAndMailInTx(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	et := emailToken(t, u, 1, latchkey.PurposePasswordReset, randBytes(t))
	m := mailN(1)
	boom := errors.New("boom")
	err := s.InTx(ctx(t), func(tx latchkey.Tx) error {
		createEmailToken(t, tx, et)
		enqueue(t, tx, m)
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v", err)
	}
	_, err = s.ConsumeEmailTokenByLink(ctx(t), et.Purpose, et.LinkHash, t0)
	mustCode(t, err, latchkey.ENotFound)
	_, err = s.MailByID(ctx(t), m.ID)
	mustCode(t, err, latchkey.ENotFound)

	must(t, s.InTx(ctx(t), func(tx latchkey.Tx) error {
		createEmailToken(t, tx, et)
		enqueue(t, tx, m)
		return nil
	}))
	_, err = s.ConsumeEmailTokenByLink(ctx(t), et.Purpose, et.LinkHash, t0)
	must(t, err)
	equal(t, "mail", mailByID(t, s, m.ID), *m)
}
