package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/config"
	"github.com/latchkey/latchkey/internal/mail"
)

// mailSetup is the delivery side of mail: the templates and where mail
// goes. It is checked before anything is created.
type mailSetup struct {
	renderer  *mail.Renderer
	transport mail.Transport
	smtp      *mail.SMTP // nil: the .eml directory
	dir       string     // the .eml directory, without an SMTP server
}

// loadMail parses the mail templates (a broken override stops the start)
// and picks the transport: the SMTP server of --smtp-url, or else .eml
// files under <data-dir>/mail, so that a server on a fresh machine
// "sends" mail that can be read.
func loadMail(cfg *config.Config) (mailSetup, error) {
	var m mailSetup
	if cfg.MailTemplates != "" {
		// A missing file falls back to the built-in template; a missing
		// directory is a mistake.
		if st, err := os.Stat(cfg.MailTemplates); err != nil || !st.IsDir() {
			return m, usageError{fmt.Sprintf("invalid --mail-templates: %s is not a directory", cfg.MailTemplates)}
		}
	}
	var err error
	if m.renderer, err = mail.NewRenderer(cfg.MailTemplates); err != nil {
		return m, usageError{"invalid --mail-templates: " + strings.TrimPrefix(err.Error(), "mail templates: ")}
	}
	if cfg.SMTPURL != "" {
		if m.smtp, err = mail.ParseSMTP(cfg.SMTPURL); err != nil {
			return m, usageError{"invalid --smtp-url: " + err.Error()} // checked by config already
		}
		m.transport = m.smtp
		return m, nil
	}
	if m.dir, err = filepath.Abs(filepath.Join(cfg.DataDir, "mail")); err != nil {
		return m, fmt.Errorf("--data-dir: %w", err)
	}
	m.transport = mail.Dir{Path: m.dir}
	return m, nil
}

// logMailSetup says at start where mail goes, in one line.
func (m mailSetup) log(cfg *config.Config, logger *slog.Logger) {
	if m.smtp != nil {
		logger.Info("mail is sent through "+m.smtp.String(), "smtp", m.smtp.String(), "from", cfg.MailFrom)
		return
	}
	logger.Warn("no --smtp-url: mail is written as .eml files to "+m.dir+" instead of being sent", "dir", m.dir, "from", cfg.MailFrom)
}

// newSender builds the outbox's sender. The test hooks shorten its
// intervals; zero values are the production defaults.
func (c *components) newSender(m mailSetup) *mail.Sender {
	return mail.NewSender(mail.SenderConfig{
		From: c.cfg.MailFrom, Transport: m.transport, Outbox: c.store, Clock: c.clock, Logger: c.log,
		Metrics: c.metrics.Registry(), Interval: c.hooks.MailPollInterval,
		FirstRetry: c.hooks.MailFirstRetry, MaxRetry: c.hooks.MailMaxRetry, Lease: c.hooks.MailLease,
	})
}

// stuckAfter is how long a mail may be due without a sender taking it
// before /readyz calls the outbox stuck.
const stuckAfter = 5 * time.Minute

// mailReady is /readyz's line about the outbox. A stuck outbox is
// reported but does not make the instance unready: every instance shares
// the outbox, and taking them all out of a load balancer because mail
// does not go out would stop sign-ins too. Alert on
// latchkey_mail_oldest_due_seconds instead.
func (c *components) mailReady(ctx context.Context) string {
	st, err := c.store.OutboxStats(ctx, c.clock())
	if err != nil {
		return "unknown: the outbox could not be read"
	}
	return outboxState(st.Due, st.OldestDue)
}

func outboxState(due int, oldest time.Duration) string {
	if oldest > stuckAfter {
		return fmt.Sprintf("stuck: %d mails due, the oldest for %s (more than %s)", due, oldest.Round(time.Second), stuckAfter)
	}
	return "ok"
}
