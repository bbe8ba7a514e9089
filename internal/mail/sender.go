package mail

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/latchkey/latchkey"
)

// Outbox is what the sender needs of the store (latchkey.OutboxStore).
type Outbox interface {
	ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]latchkey.OutboxMail, error)
	MarkMailSent(ctx context.Context, id string, at time.Time) error
	MarkMailFailed(ctx context.Context, id string, next time.Time, reason string, gaveUp bool) error
	OutboxStats(ctx context.Context, now time.Time) (latchkey.OutboxStats, error)
}

// The sender's defaults.
const (
	DefaultInterval    = 5 * time.Second
	DefaultLease       = 2 * time.Minute
	DefaultBatch       = 20
	DefaultFirstRetry  = 30 * time.Second
	DefaultMaxRetry    = time.Hour
	DefaultMaxAge      = 24 * time.Hour
	DefaultSendTimeout = 30 * time.Second
)

// SenderConfig is what a Sender is built from. Zero durations and sizes
// take the defaults above.
type SenderConfig struct {
	From      string // the From header and envelope sender
	Transport Transport
	Outbox    Outbox
	Clock     func() time.Time
	Logger    *slog.Logger
	// Metrics receives the sender's counters and the outbox's gauges; nil: none.
	Metrics prometheus.Registerer
	// Interval is how often the sender looks for due mail without a nudge.
	Interval time.Duration
	// Lease is how long a claim holds a mail: a sender that dies lets go
	// of its mails when the lease runs out, and another sends them.
	Lease time.Duration
	// Batch is how many mails one claim takes.
	Batch int
	// FirstRetry is the wait after the first failure; each further failure
	// doubles it, up to MaxRetry.
	FirstRetry time.Duration
	MaxRetry   time.Duration
	// MaxAge is how long after it was queued a mail is still tried; then
	// it is given up.
	MaxAge time.Duration
	// SendTimeout bounds one delivery.
	SendTimeout time.Duration
}

// Sender delivers the outbox: it claims due mails with a lease, sends
// each through the transport and records the outcome. Any number of
// senders, in any number of instances, may share one outbox.
//
// Delivery is at least once: if the process dies after the mail server
// accepted a mail and before MarkMailSent is written, the mail is sent
// again once its lease runs out, with the same Message-ID (the outbox
// mail's ID), so that a receiving system can tell the two apart. The
// window is the one database write that follows the server's answer to
// DATA.
type Sender struct {
	cfg   SenderConfig
	nudge chan struct{}

	sent, failed, givenUp prometheus.Counter
	statsMu               sync.Mutex // one outbox query per scrape at a time
}

// NewSender returns a sender; Run starts it.
func NewSender(cfg SenderConfig) *Sender {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.Interval, DefaultInterval)
	def(&cfg.Lease, DefaultLease)
	def(&cfg.FirstRetry, DefaultFirstRetry)
	def(&cfg.MaxRetry, DefaultMaxRetry)
	def(&cfg.MaxAge, DefaultMaxAge)
	def(&cfg.SendTimeout, DefaultSendTimeout)
	// A delivery must fit in its lease with room to spare (a test may
	// shorten the lease to seconds).
	cfg.SendTimeout = min(cfg.SendTimeout, cfg.Lease/2)
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sender{cfg: cfg, nudge: make(chan struct{}, 1),
		sent: prometheus.NewCounter(prometheus.CounterOpts{Name: "latchkey_mail_sent_total",
			Help: "Mails the mail server accepted."}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "latchkey_mail_failed_total",
			Help: "Delivery attempts that failed (each is retried until the mail is given up)."}),
		givenUp: prometheus.NewCounter(prometheus.CounterOpts{Name: "latchkey_mail_given_up_total",
			Help: "Mails given up: refused for good, or still failing after the maximum age."}),
	}
	if cfg.Metrics != nil {
		cfg.Metrics.MustRegister(s.sent, s.failed, s.givenUp, outboxCollector{s})
	}
	return s
}

// Nudge asks the sender to look for due mail now: a request that has just
// committed a mail calls it so that the mail does not wait for the next
// tick. It never blocks.
func (s *Sender) Nudge() {
	select {
	case s.nudge <- struct{}{}:
	default: // a nudge is pending already
	}
}

// Run sends due mail every Interval and on every nudge until ctx ends. A
// delivery under way when ctx ends is finished and recorded, so that a
// clean shutdown never leaves a sent mail unrecorded.
func (s *Sender) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		if _, err := s.SendDue(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("mail outbox: claiming due mail failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.nudge:
		}
	}
}

// SendDue claims and sends batches until no mail is due (or ctx ends) and
// returns how many mails it attempted.
func (s *Sender) SendDue(ctx context.Context) (int, error) {
	total := 0
	for ctx.Err() == nil {
		ms, err := s.cfg.Outbox.ClaimMail(ctx, s.cfg.Clock(), s.cfg.Lease, s.cfg.Batch)
		if err != nil {
			return total, err
		}
		claimed := s.cfg.Clock()
		for i := range ms {
			// A mail whose lease is about to run out is left alone: another
			// sender may claim it then, and two deliveries must not overlap.
			// It falls due again when the lease ends.
			if ctx.Err() != nil || s.cfg.Clock().Sub(claimed) > s.cfg.Lease-s.cfg.SendTimeout-min(leaseMargin, s.cfg.Lease/10) {
				break
			}
			s.deliver(ctx, &ms[i])
			total++
		}
		if len(ms) < s.cfg.Batch {
			break
		}
	}
	return total, nil
}

// leaseMargin is kept between the end of a delivery and the end of its lease.
const leaseMargin = 5 * time.Second

// deliver sends one claimed mail and records the outcome. Neither the
// delivery nor the record is cut short by ctx: a mail half-way through
// SMTP is finished, and a mail the server accepted is recorded as sent.
func (s *Sender) deliver(ctx context.Context, m *latchkey.OutboxMail) {
	ctx = context.WithoutCancel(ctx)
	err := s.send(ctx, m)
	now := s.cfg.Clock()
	rec, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err == nil {
		s.sent.Inc()
		if err := s.cfg.Outbox.MarkMailSent(rec, m.ID, now); err != nil {
			// It goes out again when its lease runs out: at least once.
			s.cfg.Logger.Error("mail outbox: a sent mail could not be recorded as sent; it will be sent again", "mail", m, "err", err)
		}
		return
	}
	s.failed.Inc()
	next, giveUp := s.retryAt(m, now)
	if errors.Is(err, ErrPermanent) {
		next, giveUp = now, true
	}
	if giveUp {
		s.givenUp.Inc()
		s.cfg.Logger.Error("mail outbox: giving a mail up", "mail", m, "err", err)
	} else {
		s.cfg.Logger.Warn("mail outbox: delivery failed; will retry", "mail", m, "retry_at", next, "err", err)
	}
	if err := s.cfg.Outbox.MarkMailFailed(rec, m.ID, next, err.Error(), giveUp); err != nil {
		s.cfg.Logger.Error("mail outbox: recording a failed delivery", "mail", m, "err", err)
	}
}

func (s *Sender) send(ctx context.Context, m *latchkey.OutboxMail) error {
	raw, err := Compose(s.cfg.From, Message{To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML}, m.ID, m.CreatedAt)
	if err != nil {
		return permanent(err) // the same mail will not compose better later
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.SendTimeout)
	defer cancel()
	return s.cfg.Transport.Send(ctx, s.cfg.From, m.To, raw)
}

// retryAt is when a mail that failed at now is tried again: FirstRetry
// after the first attempt, doubling to MaxRetry, never later than MaxAge
// after it was queued. Once MaxAge has passed, it is given up.
func (s *Sender) retryAt(m *latchkey.OutboxMail, now time.Time) (time.Time, bool) {
	deadline := m.CreatedAt.Add(s.cfg.MaxAge)
	if !now.Before(deadline) {
		return now, true
	}
	wait := s.cfg.FirstRetry
	for i := 1; i < m.Attempts && wait < s.cfg.MaxRetry; i++ {
		wait *= 2
	}
	next := now.Add(min(wait, s.cfg.MaxRetry))
	if next.After(deadline) {
		next = deadline
	}
	return next, false
}

// outboxCollector reads the outbox's state when the metrics are scraped.
type outboxCollector struct{ s *Sender }

var (
	queuedDesc = prometheus.NewDesc("latchkey_mail_queued", "Mails waiting to be sent (due, held by a sender or waiting for a retry).", nil, nil)
	dueDesc    = prometheus.NewDesc("latchkey_mail_due", "Mails due and held by no sender.", nil, nil)
	oldestDesc = prometheus.NewDesc("latchkey_mail_oldest_due_seconds", "How long the mail due the longest has waited; large when the outbox is stuck.", nil, nil)
	gaveDesc   = prometheus.NewDesc("latchkey_mail_given_up", "Given-up mails still kept in the outbox.", nil, nil)
)

func (outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queuedDesc
	ch <- dueDesc
	ch <- oldestDesc
	ch <- gaveDesc
}

func (c outboxCollector) Collect(ch chan<- prometheus.Metric) {
	c.s.statsMu.Lock()
	defer c.s.statsMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.s.cfg.Outbox.OutboxStats(ctx, c.s.cfg.Clock())
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queuedDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(queuedDesc, prometheus.GaugeValue, float64(st.Queued))
	ch <- prometheus.MustNewConstMetric(dueDesc, prometheus.GaugeValue, float64(st.Due))
	ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, st.OldestDue.Seconds())
	ch <- prometheus.MustNewConstMetric(gaveDesc, prometheus.GaugeValue, float64(st.GivenUp))
}

// ErrPermanent marks a delivery error that retrying cannot cure: the
// mail server refused the recipient or the message for good (a 5xx
// reply), or the mail cannot be composed. Such a mail is given up at once.
var ErrPermanent = errors.New("permanent failure")

type permanentError struct{ err error }

func (e permanentError) Error() string   { return e.err.Error() }
func (e permanentError) Unwrap() []error { return []error{e.err, ErrPermanent} }
func permanent(err error) error          { return permanentError{err} }
