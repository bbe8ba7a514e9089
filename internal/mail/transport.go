package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Transport delivers one composed message. An error means the message may
// not have been delivered; the outbox tries again later.
type Transport interface {
	Send(ctx context.Context, from, to string, msg []byte) error
}

// SMTP delivers through a mail server given as smtp://user:pass@host:port
// (STARTTLS, required unless the host is a loopback address) or
// smtps://user:pass@host:port (TLS from the first byte).
type SMTP struct {
	addr     string
	host     string
	implicit bool
	auth     smtp.Auth
	tls      *tls.Config
	timeout  time.Duration
}

// ParseSMTP checks an --smtp-url. Credentials are optional.
func ParseSMTP(raw string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" || u.Port() == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("must be smtp://[user:password@]host:port or smtps://[user:password@]host:port")
	}
	s := &SMTP{addr: u.Host, host: u.Hostname(), implicit: u.Scheme == "smtps", timeout: 30 * time.Second,
		tls: &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}}
	if u.User != nil {
		pw, _ := u.User.Password()
		s.auth = smtp.PlainAuth("", u.User.Username(), pw, u.Hostname())
	}
	return s, nil
}

// WithTLSConfig uses cfg for the server's TLS (a private CA's roots, say),
// keeping the server name of the URL unless cfg names one.
func (s *SMTP) WithTLSConfig(cfg *tls.Config) *SMTP {
	c := *s
	c.tls = cfg.Clone()
	if c.tls.ServerName == "" {
		c.tls.ServerName = s.host
	}
	return &c
}

// String names the server without its credentials, for logs.
func (s *SMTP) String() string {
	scheme := "smtp"
	if s.implicit {
		scheme = "smtps"
	}
	return scheme + "://" + s.addr
}

func (s *SMTP) loopback() bool {
	if s.host == "localhost" {
		return true
	}
	ip := net.ParseIP(s.host)
	return ip != nil && ip.IsLoopback()
}

// Send speaks SMTP to the server. Without TLS (only possible to loopback)
// credentials are still refused by net/smtp's PLAIN unless the host is
// local, so a password never crosses a network in clear.
func (s *SMTP) Send(ctx context.Context, from, to string, msg []byte) error {
	fromAddr, err := mail.ParseAddress(from)
	if err != nil {
		return fmt.Errorf("smtp: from: %w", err)
	}
	toAddr, err := mail.ParseAddress(to)
	if err != nil {
		return fmt.Errorf("smtp: to: %w", err)
	}
	deadline := time.Now().Add(s.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	dialer := &net.Dialer{Deadline: deadline}
	var conn net.Conn
	if s.implicit {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: s.tls}).DialContext(ctx, "tcp", s.addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", s.addr)
	}
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	quitting := false // once true, the QUIT goroutine closes the connection
	defer func() {
		if !quitting {
			conn.Close()
		}
	}()
	if err := conn.SetDeadline(deadline); err != nil {
		return err
	}
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	if err := c.Hello(helloName(fromAddr.Address)); err != nil {
		return fmt.Errorf("smtp: hello: %w", err)
	}
	if !s.implicit {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(s.tls); err != nil {
				return fmt.Errorf("smtp: starttls: %w", err)
			}
		} else if !s.loopback() {
			return errors.New("smtp: the server does not offer STARTTLS; latchkey sends mail in clear only to loopback")
		}
	}
	if s.auth != nil {
		if err := c.Auth(s.auth); err != nil {
			return fmt.Errorf("smtp: auth: %w", err)
		}
	}
	if err := c.Mail(fromAddr.Address); err != nil {
		return fmt.Errorf("smtp: mail from: %w", err)
	}
	if err := c.Rcpt(toAddr.Address); err != nil {
		return refused(fmt.Errorf("smtp: rcpt to: %w", err))
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp: data: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("smtp: data: %w", err)
	}
	if err := w.Close(); err != nil { // the server's answer to the whole message
		return refused(fmt.Errorf("smtp: data: %w", err))
	}
	// The server has taken the mail. Say so at once, so that the outbox
	// records it before anything else can go wrong (a crash between the
	// two sends it again); QUIT follows on its own, and a failed QUIT
	// changes nothing.
	quitting = true
	go func() {
		defer conn.Close()
		_ = c.Quit()
	}()
	return nil
}

// refused marks a 5xx reply (RFC 5321: permanent) to the recipient or the
// message as permanent; anything else (4xx, a lost connection) is worth
// another try.
func refused(err error) error {
	var reply *textproto.Error
	if errors.As(err, &reply) && reply.Code >= 500 && reply.Code < 600 {
		return permanent(err)
	}
	return err
}

// helloName is the name latchkey greets with: the sender's domain.
func helloName(from string) string {
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i+1 < len(from) {
		return from[i+1:]
	}
	return "localhost"
}

// Dir writes each message as an .eml file (mode 0600) into a directory:
// the zero-configuration server's mailbox, readable on the machine it runs.
type Dir struct{ Path string }

// Send writes the message atomically (a temporary file renamed into place),
// so a reader never sees half a mail.
func (d Dir) Send(_ context.Context, _, _ string, msg []byte) error {
	if err := os.MkdirAll(d.Path, 0o700); err != nil {
		return fmt.Errorf("mail dir: %w", err)
	}
	name := time.Now().UTC().Format("20060102T150405.000000000Z") + "-" + randomHex(4) + ".eml"
	tmp, err := os.CreateTemp(d.Path, ".partial-*")
	if err != nil {
		return fmt.Errorf("mail dir: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("mail dir: %w", err)
	}
	if _, err := tmp.Write(msg); err != nil {
		tmp.Close()
		return fmt.Errorf("mail dir: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("mail dir: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("mail dir: %w", err)
	}
	return os.Rename(tmp.Name(), filepath.Join(d.Path, name))
}
