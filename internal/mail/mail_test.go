package mail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestComposeIsAParsableMultipartMessage(t *testing.T) {
	m := Message{To: "Ada <ada@example.com>", Subject: "Bestätigen Sie Ihre Adresse", Text: "Hello\nline two é",
		HTML: "<p>Hello</p>"}
	raw, err := Compose("latchkey <no-reply@auth.example.com>", m, "abc123", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != m.Subject {
		t.Errorf("subject %q (%v)", subject, err)
	}
	if got := msg.Header.Get("Message-Id"); got != "<abc123@auth.example.com>" {
		t.Errorf("Message-ID %q", got)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type %q %v", mt, err)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	var parts []string
	for {
		p, err := r.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(p)
		parts = append(parts, p.Header.Get("Content-Type")+"|"+strings.ReplaceAll(string(body), "\r\n", "\n"))
	}
	want := []string{"text/plain; charset=utf-8|" + m.Text, "text/html; charset=utf-8|" + m.HTML}
	if len(parts) != 2 || parts[0] != want[0] || parts[1] != want[1] {
		t.Errorf("parts %q, want %q", parts, want)
	}
}

func TestComposeRefusesHeaderInjection(t *testing.T) {
	for name, m := range map[string]Message{
		"subject": {To: "a@example.com", Subject: "hi\r\nBcc: victim@example.com"},
		"to":      {To: "a@example.com\r\nBcc: victim@example.com", Subject: "hi"},
	} {
		if _, err := Compose("no-reply@example.com", m, "x", time.Now()); err == nil {
			t.Errorf("%s: a line break was accepted", name)
		}
	}
}

func TestRenderEveryKind(t *testing.T) {
	r, err := NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	d := Data{Product: "latchkey", Email: "ada@example.com", NewEmail: "new@example.com",
		Link: "https://auth.example.com/page?token=tok<&>", Code: "01234567", ExpiresIn: "30 minutes"}
	for _, k := range Kinds {
		m, err := r.Render(k, d)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if m.To != d.Email || m.Subject == "" || strings.Contains(m.Subject, "\n") {
			t.Errorf("%s: to %q subject %q", k, m.To, m.Subject)
		}
		if !strings.Contains(m.Text, d.Link) || !strings.Contains(m.HTML, "token=tok%3c&amp;%3e") {
			t.Errorf("%s: the link is missing or not escaped in HTML:\n%s", k, m.HTML)
		}
		if hasCode := k != KindPasswordChanged && k != KindEmailChangeNotice && k != KindRecoveryCodeUsed; hasCode != strings.Contains(m.Text, d.Code) {
			t.Errorf("%s: code shown = %v", k, !hasCode)
		}
	}
}

func TestOverrideTemplates(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("sign-in.txt", `{{define "subject"}}Your ACME sign-in{{end}}{{define "text"}}Code {{.Code}}{{end}}`)
	r, err := NewRenderer(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Render(KindSignIn, Data{Email: "a@example.com", Code: "42", Link: "https://x/"})
	if err != nil || m.Subject != "Your ACME sign-in" || m.Text != "Code 42" {
		t.Errorf("override: %+v %v", m, err)
	}
	// A broken or incomplete override stops the server at start.
	for name, body := range map[string]string{
		"verify-email.txt":   `{{define "subject"}}x{{end}}`,
		"password-reset.txt": `{{define "subject"}}{{.NoSuchField}}{{end}}{{define "text"}}x{{end}}`,
		"sign-in.html":       `{{define "body"}}{{.Link}{{end}}`,
	} {
		bad := t.TempDir()
		if err := os.WriteFile(filepath.Join(bad, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := NewRenderer(bad); err == nil {
			t.Errorf("%s: a broken override was accepted", name)
		}
	}
}

func TestDirWritesPrivateEmlFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail")
	msg := []byte("Subject: hi\r\n\r\nbody\r\n")
	for range 2 {
		if err := (Dir{Path: dir}).Send(context.Background(), "a@example.com", "b@example.com", msg); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 2 {
		t.Fatalf("%d files (%v), want 2", len(entries), err)
	}
	for _, e := range entries {
		info, _ := e.Info()
		if !strings.HasSuffix(e.Name(), ".eml") || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", e.Name(), info.Mode().Perm())
		}
		if data, _ := os.ReadFile(filepath.Join(dir, e.Name())); string(data) != string(msg) {
			t.Errorf("%s: %q", e.Name(), data)
		}
	}
}

func TestParseSMTP(t *testing.T) {
	for _, ok := range []string{"smtp://127.0.0.1:1025", "smtp://user:p%40ss@mail.example.com:587", "smtps://mail.example.com:465"} {
		if _, err := ParseSMTP(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "mail.example.com:25", "http://mail.example.com:25", "smtp://mail.example.com",
		"smtp://:25", "smtp://mail.example.com:25/path", "smtp://mail.example.com:25?x=1"} {
		if _, err := ParseSMTP(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	s, _ := ParseSMTP("smtp://user:secret@mail.example.com:587")
	if strings.Contains(s.String(), "secret") || strings.Contains(s.String(), "user") {
		t.Errorf("String() shows credentials: %s", s)
	}
}

func TestSMTPClearTextOnlyToLoopback(t *testing.T) {
	for host, want := range map[string]bool{"127.0.0.1": true, "localhost": true, "[::1]": true, "mail.example.com": false, "10.0.0.1": false} {
		s, err := ParseSMTP("smtp://" + host + ":25")
		if err != nil {
			t.Fatal(err)
		}
		if s.loopback() != want {
			t.Errorf("%s: loopback = %v", host, !want)
		}
	}
}

// A 5xx reply is final; a 4xx reply or a lost connection is worth a retry.
func TestRefusedMarksOnly5xxPermanent(t *testing.T) {
	for code, want := range map[int]bool{550: true, 554: true, 451: false, 421: false} {
		err := refused(fmt.Errorf("smtp: rcpt to: %w", &textproto.Error{Code: code, Msg: "x"}))
		if errors.Is(err, ErrPermanent) != want || !strings.Contains(err.Error(), "x") {
			t.Errorf("%d: %v permanent=%v", code, err, !want)
		}
	}
	if errors.Is(refused(io.ErrUnexpectedEOF), ErrPermanent) {
		t.Error("a lost connection is permanent")
	}
}
