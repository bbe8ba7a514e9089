package mail_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/mail"
	"github.com/latchkey/latchkey/internal/testenv"
)

// TestSMTPDeliversToARealServer sends over SMTP to Mailpit, in clear to
// loopback and with STARTTLS and a login, and reads the mail back.
func TestSMTPDeliversToARealServer(t *testing.T) {
	for name, c := range map[string]struct {
		opts []testenv.MailpitOption
		url  func(*testenv.Mailpit) string
	}{
		"loopback, clear":       {nil, func(m *testenv.Mailpit) string { return "smtp://" + m.SMTPAddr }},
		"STARTTLS with a login": {[]testenv.MailpitOption{testenv.WithSTARTTLS()}, func(m *testenv.Mailpit) string { return "smtp://latchkey:s3cret@" + m.SMTPAddr }},
	} {
		t.Run(name, func(t *testing.T) {
			mp := testenv.StartMailpit(t, c.opts...)
			s, err := mail.ParseSMTP(c.url(mp))
			if err != nil {
				t.Fatal(err)
			}
			if mp.TLS != nil {
				s = s.WithTLSConfig(mp.TLS)
			}
			r, err := mail.NewRenderer("")
			if err != nil {
				t.Fatal(err)
			}
			m, err := r.Render(mail.KindVerifyEmail, mail.Data{Product: "latchkey", Email: "ada@example.com",
				Link: "https://auth.example.com/verify-email?token=abc", Code: "12345678", ExpiresIn: "24 hours"})
			if err != nil {
				t.Fatal(err)
			}
			raw, err := mail.Compose("latchkey <no-reply@auth.example.com>", m, "id-"+strings.ReplaceAll(name, " ", ""), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.Send(ctx, "no-reply@auth.example.com", m.To, raw); err != nil {
				t.Fatal(err)
			}
			got := mp.WaitFor(t, "ada@example.com", 1, 5*time.Second)
			if got[0].Subject != m.Subject {
				t.Errorf("subject %q, want %q", got[0].Subject, m.Subject)
			}
			if body := string(mp.Raw(t, got[0].ID)); !strings.Contains(body, "12345678") {
				t.Errorf("the code is not in the delivered mail:\n%s", body)
			}
		})
	}
}

// TestSMTPRefusesUntrustedTLS: a server certificate latchkey does not
// trust ends the delivery before anything is sent.
func TestSMTPRefusesUntrustedTLS(t *testing.T) {
	mp := testenv.StartMailpit(t, testenv.WithSTARTTLS())
	s, err := mail.ParseSMTP("smtp://" + mp.SMTPAddr) // no WithTLSConfig: the self-signed certificate is not trusted
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = s.Send(ctx, "no-reply@example.com", "ada@example.com", []byte("Subject: x\r\n\r\nx\r\n"))
	if err == nil || !strings.Contains(err.Error(), "starttls") {
		t.Fatalf("an untrusted certificate: %v", err)
	}
	if n := len(mp.Messages(t)); n != 0 {
		t.Errorf("%d messages arrived", n)
	}
}
