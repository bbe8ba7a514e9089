package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
)

const mailUsage = `usage:
  latchkey mail status        the outbox: queued, due and given-up mails, the oldest due
  latchkey mail status ID     one mail: kind, attempts, state and last error`

// mailCommand shows the outbox to an operator. It reads only: counts,
// and for one mail its kind, attempts and last error — never an address
// or a body, which may carry a sign-in link.
func mailCommand(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 || args[0] != "status" {
		return usageError{mailUsage}
	}
	fs := flag.NewFlagSet("mail status", flag.ContinueOnError)
	return adminCommand(ctx, "mail status", fs, args[1:], env, func(a *admin, _ *auth.Service, pos []string) error {
		switch len(pos) {
		case 0:
			st, err := a.store.OutboxStats(ctx, a.clock())
			if err != nil {
				return err
			}
			printOutbox(env.Stdout, st)
			return nil
		case 1:
			m, err := a.store.MailByID(ctx, pos[0])
			if err != nil {
				return err
			}
			printMail(env.Stdout, m, a.clock())
			return nil
		}
		return usageError{"mail status: give at most one mail ID\n" + mailUsage}
	})
}

func printOutbox(w io.Writer, st latchkey.OutboxStats) {
	oldest := "-"
	if st.Due > 0 {
		oldest = st.OldestDue.Round(time.Second).String()
	}
	fmt.Fprintf(w, "queued:     %d (due now %d, being sent %d, waiting to retry %d)\ngiven up:   %d\noldest due: %s\nstate:      %s\n",
		st.Queued, st.Due, st.Leased, max(0, st.Queued-st.Due-st.Leased), st.GivenUp, oldest, outboxState(st.Due, st.OldestDue))
}

func printMail(w io.Writer, m *latchkey.OutboxMail, now time.Time) {
	state := "queued, next attempt " + m.NextAttemptAt.UTC().Format(time.RFC3339)
	switch {
	case m.SentAt != nil:
		state = "sent " + m.SentAt.UTC().Format(time.RFC3339)
	case m.FailedAt != nil:
		state = "given up " + m.FailedAt.UTC().Format(time.RFC3339)
	case m.LeaseUntil != nil && m.LeaseUntil.After(now):
		state = "being sent"
	}
	lastError := m.LastError
	if lastError == "" {
		lastError = "-"
	}
	fmt.Fprintf(w, "id:         %s\nkind:       %s\nqueued:     %s\nattempts:   %d\nstate:      %s\nlast error: %s\n",
		m.ID, m.Kind, m.CreatedAt.UTC().Format(time.RFC3339), m.Attempts, state, lastError)
}
