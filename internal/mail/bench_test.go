package mail_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	lkmail "github.com/latchkey/latchkey/internal/mail"
	"github.com/latchkey/latchkey/internal/store"
	"github.com/latchkey/latchkey/internal/testenv"
)

// BenchmarkOutbox measures the outbox end to end: mails queued per second
// (one transaction each, as a request queues them) and delivered per
// second by one sender over real SMTP to a local Mailpit, on SQLite and
// PostgreSQL. docs/performance.md quotes it:
//
//	go test ./internal/mail -run '^$' -bench Outbox -benchtime 2000x
func BenchmarkOutbox(b *testing.B) {
	for name, open := range map[string]func(b *testing.B) latchkey.Store{
		"sqlite": func(b *testing.B) latchkey.Store { return openStore(b) },
		"postgres": func(b *testing.B) latchkey.Store {
			st, err := store.Open(context.Background(), testenv.PostgresSchema(b))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			if err := st.Migrate(context.Background()); err != nil {
				b.Fatal(err)
			}
			return st
		},
	} {
		b.Run(name, func(b *testing.B) {
			st := open(b)
			mp := testenv.StartMailpit(b)
			smtp, err := lkmail.ParseSMTP("smtp://" + mp.SMTPAddr)
			if err != nil {
				b.Fatal(err)
			}
			s := lkmail.NewSender(lkmail.SenderConfig{From: "latchkey <no-reply@auth.example.com>", Transport: smtp,
				Outbox: st, Logger: slog.New(slog.DiscardHandler)})
			ctx := context.Background()
			b.ResetTimer()
			began := time.Now()
			for i := range b.N {
				now := time.Now()
				m := &latchkey.OutboxMail{ID: latchkey.NewID(now), Kind: "sign-in", To: fmt.Sprintf("p%d@example.com", i),
					Subject: "Your sign-in link", Text: "Sign in: https://auth.example.com/email-sign-in?token=x\nCode: 12345678",
					HTML:      "<p>Sign in: <a href=\"https://auth.example.com/email-sign-in?token=x\">link</a></p><p>Code: 12345678</p>",
					CreatedAt: now, NextAttemptAt: now}
				if err := st.InTx(ctx, func(tx latchkey.Tx) error { return tx.EnqueueMail(ctx, m) }); err != nil {
					b.Fatal(err)
				}
			}
			queued := time.Since(began)
			began = time.Now()
			sent := 0
			for sent < b.N {
				n, err := s.SendDue(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if n == 0 {
					b.Fatalf("%d of %d sent, then none due", sent, b.N)
				}
				sent += n
			}
			delivered := time.Since(began)
			b.StopTimer()
			if got := mp.Count(b); got != b.N {
				b.Fatalf("mailpit holds %d mails, want %d", got, b.N)
			}
			b.ReportMetric(float64(b.N)/queued.Seconds(), "queued/s")
			b.ReportMetric(float64(b.N)/delivered.Seconds(), "delivered/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}
