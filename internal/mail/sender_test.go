package mail_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/latchkey/latchkey"
	lkmail "github.com/latchkey/latchkey/internal/mail"
	"github.com/latchkey/latchkey/internal/store"
	"github.com/latchkey/latchkey/internal/testenv"
)

// recorder is a transport that keeps what it is given, or fails with err.
type recorder struct {
	mu    sync.Mutex
	sent  [][]byte
	err   error
	calls int
	// during runs inside each Send (to move a clock, say).
	during func()
}

func (r *recorder) Send(_ context.Context, from, to string, msg []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.during != nil {
		r.during()
	}
	if r.err != nil {
		return r.err
	}
	r.sent = append(r.sent, msg)
	return nil
}

func (r *recorder) messageIDs(t *testing.T) []string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, raw := range r.sent {
		m, err := mail.ReadMessage(strings.NewReader(string(raw)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.Header.Get("Message-Id"))
	}
	return ids
}

func openStore(t testing.TB) store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func queue(t testing.TB, st latchkey.Store, at time.Time, to string) *latchkey.OutboxMail {
	t.Helper()
	m := &latchkey.OutboxMail{ID: latchkey.NewID(at), Kind: string(lkmail.KindSignIn), To: to, Subject: "Your sign-in link",
		Text: "code 12345678", HTML: "<p>code 12345678</p>", CreatedAt: at, NextAttemptAt: at}
	if err := st.EnqueueMail(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	return m
}

func newSender(st latchkey.Store, tr lkmail.Transport, clock *testenv.Clock, reg prometheus.Registerer) *lkmail.Sender {
	return lkmail.NewSender(lkmail.SenderConfig{From: "latchkey <no-reply@auth.example.com>", Transport: tr, Outbox: st,
		Clock: clock.Now, Logger: slog.New(slog.DiscardHandler), Metrics: reg, Batch: 2})
}

func sendDue(t *testing.T, s *lkmail.Sender) int {
	t.Helper()
	n, err := s.SendDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Each due mail is sent once, with the outbox mail's ID as its
// Message-ID, over several batches; then it is sent and its bodies gone.
func TestSenderSendsEachDueMailOnce(t *testing.T) {
	st := openStore(t)
	clock := testenv.NewClock(start.Add(time.Second))
	var ms []*latchkey.OutboxMail
	for i := range 5 {
		ms = append(ms, queue(t, st, start.Add(time.Duration(i)*time.Millisecond), fmt.Sprintf("p%d@example.com", i)))
	}
	later := &latchkey.OutboxMail{ID: latchkey.NewID(start), Kind: "sign-in", To: "later@example.com", Subject: "x",
		CreatedAt: start, NextAttemptAt: start.Add(time.Hour)} // not due yet
	if err := st.EnqueueMail(context.Background(), later); err != nil {
		t.Fatal(err)
	}
	tr := &recorder{}
	reg := prometheus.NewRegistry()
	s := newSender(st, tr, clock, reg)
	if n := sendDue(t, s); n != 5 {
		t.Fatalf("sent %d, want 5 (in batches of 2)", n)
	}
	if n := sendDue(t, s); n != 0 {
		t.Errorf("a second pass sent %d", n)
	}
	var want []string
	for _, m := range ms {
		want = append(want, "<"+m.ID+"@auth.example.com>")
		got, err := st.MailByID(context.Background(), m.ID)
		if err != nil || got.SentAt == nil || got.Text != "" || got.HTML != "" || got.Attempts != 1 {
			t.Errorf("%s after sending: %+v %v", m.ID, got, err)
		}
	}
	if got := tr.messageIDs(t); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Message-IDs %v, want %v", got, want)
	}
	if v := metric(t, reg, "latchkey_mail_sent_total"); v != 5 {
		t.Errorf("sent counter %v", v)
	}
	if v := metric(t, reg, "latchkey_mail_queued"); v != 1 {
		t.Errorf("queued gauge %v, want 1 (the later mail)", v)
	}
}

// A failing delivery is retried 30 s later, doubling to an hour, until the
// mail is 24 h old; then it is given up, with its bodies.
func TestSenderBacksOffThenGivesUp(t *testing.T) {
	st := openStore(t)
	clock := testenv.NewClock(start)
	m := queue(t, st, start, "ada@example.com")
	tr := &recorder{err: errors.New("smtp: dial tcp 127.0.0.1:25: connection refused")}
	reg := prometheus.NewRegistry()
	s := newSender(st, tr, clock, reg)
	var waits []time.Duration
	for attempt := 1; ; attempt++ {
		if sendDue(t, s) != 1 {
			t.Fatalf("attempt %d: not sent", attempt)
		}
		got, err := st.MailByID(context.Background(), m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.LastError != tr.err.Error() || got.Attempts != attempt {
			t.Fatalf("attempt %d: %+v", attempt, got)
		}
		if got.FailedAt != nil {
			if !clock.Now().Equal(start.Add(24*time.Hour)) || got.Text != "" {
				t.Errorf("given up at %s (+%s), text %q", got.FailedAt, got.FailedAt.Sub(start), got.Text)
			}
			break
		}
		wait := got.NextAttemptAt.Sub(clock.Now())
		waits = append(waits, wait)
		clock.Advance(wait - time.Second)
		if sendDue(t, s) != 0 {
			t.Fatalf("attempt %d: retried a second early", attempt)
		}
		clock.Advance(time.Second)
	}
	if len(waits) < 8 || waits[0] != 30*time.Second || waits[1] != time.Minute || waits[2] != 2*time.Minute || waits[7] != time.Hour {
		t.Errorf("waits %v", waits)
	}
	clock.Advance(48 * time.Hour)
	if sendDue(t, s) != 0 {
		t.Error("a given-up mail was tried again")
	}
	if f, g := metric(t, reg, "latchkey_mail_failed_total"), metric(t, reg, "latchkey_mail_given_up_total"); f != float64(len(waits)+1) || g != 1 {
		t.Errorf("failed %v given up %v", f, g)
	}
}

// A 5xx reply to the recipient is final: the mail is given up at once.
func TestSenderGivesUpOnAPermanentRefusal(t *testing.T) {
	st := openStore(t)
	clock := testenv.NewClock(start)
	m := queue(t, st, start, "nobody@example.com")
	s := newSender(st, &recorder{err: fmt.Errorf("smtp: rcpt to: 550 no such user: %w", lkmail.ErrPermanent)}, clock, nil)
	sendDue(t, s)
	got, _ := st.MailByID(context.Background(), m.ID)
	if got.FailedAt == nil || !strings.Contains(got.LastError, "550") || got.Attempts != 1 {
		t.Errorf("after a 550: %+v", got)
	}
}

// A batch stops before the lease of its mails could run out mid-delivery:
// the rest are left to fall due again when the lease ends, so that two
// senders never deliver one mail at the same time.
func TestSenderStaysWithinItsLease(t *testing.T) {
	st := openStore(t)
	clock := testenv.NewClock(start.Add(time.Second))
	for i := range 2 {
		queue(t, st, start.Add(time.Duration(i)*time.Millisecond), fmt.Sprintf("p%d@example.com", i))
	}
	tr := &recorder{during: func() { clock.Advance(90 * time.Second) }} // a slow server
	s := newSender(st, tr, clock, nil)
	if n := sendDue(t, s); n != 1 {
		t.Fatalf("sent %d in one lease of 2m (a send may take 30s), want 1", n)
	}
	clock.Advance(time.Minute) // the lease of the second mail runs out
	if n := sendDue(t, s); n != 1 {
		t.Errorf("the left mail: sent %d", n)
	}
	if got := len(tr.messageIDs(t)); got != 2 {
		t.Errorf("%d deliveries", got)
	}
}

// Run delivers at once when nudged, not at the next tick.
func TestSenderNudge(t *testing.T) {
	st := openStore(t)
	tr := &recorder{}
	s := lkmail.NewSender(lkmail.SenderConfig{From: "no-reply@example.com", Transport: tr, Outbox: st, Interval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	time.Sleep(50 * time.Millisecond) // the first pass, with nothing due
	queue(t, st, time.Now(), "ada@example.com")
	s.Nudge()
	s.Nudge() // a second nudge before the first is taken never blocks
	deadline := time.Now().Add(5 * time.Second)
	for len(tr.messageIDs(t)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("a nudged sender did not send within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// metric reads one counter or gauge from reg.
func metric(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
