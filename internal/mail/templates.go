package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	texttemplate "text/template"
)

// Kind is what a mail is for; each has a template pair <kind>.txt (the
// "subject" and "text" templates) and <kind>.html (the "body" template,
// inside layout.html).
type Kind string

// The mails latchkey sends.
const (
	KindVerifyEmail       Kind = "verify-email"
	KindPasswordReset     Kind = "password-reset"
	KindPasswordChanged   Kind = "password-changed"
	KindEmailChange       Kind = "email-change"        // to the new address: confirm it
	KindEmailChangeNotice Kind = "email-change-notice" // to the old address: "this wasn't me"
	KindSignIn            Kind = "sign-in"
	// KindRecoveryCodeUsed: a notice that a recovery code signed in.
	KindRecoveryCodeUsed Kind = "recovery-code-used"
)

// Kinds lists every kind, for validation at start.
var Kinds = []Kind{KindVerifyEmail, KindPasswordReset, KindPasswordChanged, KindEmailChange, KindEmailChangeNotice, KindSignIn,
	KindRecoveryCodeUsed}

// Data is what a template may use.
type Data struct {
	Product   string // the product name shown to people
	Email     string // the address the mail goes to
	NewEmail  string // for an email change notice
	Link      string // a hosted page under the public URL
	Code      string // the 8-digit code, where there is one
	ExpiresIn string // "30 minutes"
	Left      int    // recovery codes left, for a recovery-code notice
	Subject   string // filled in by Render for the HTML layout
}

//go:embed templates/*.txt templates/*.html
var embedded embed.FS

// Renderer renders mails from the embedded templates, or from an
// operator's directory that replaces any of them by file name.
type Renderer struct {
	text map[Kind]*texttemplate.Template
	html map[Kind]*htmltemplate.Template
}

// NewRenderer parses every template now, so that a broken override stops
// the server at start rather than a mail at send time. dir may be "".
func NewRenderer(dir string) (*Renderer, error) {
	read := func(name string) ([]byte, error) {
		if dir != "" {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err == nil {
				return data, nil
			}
			if !os.IsNotExist(err) {
				return nil, err
			}
		}
		return fs.ReadFile(embedded, "templates/"+name)
	}
	layout, err := read("layout.html")
	if err != nil {
		return nil, fmt.Errorf("mail templates: %w", err)
	}
	funcs := htmltemplate.FuncMap{"button": func(href, label string) map[string]string {
		return map[string]string{"Href": href, "Label": label}
	}}
	r := &Renderer{text: map[Kind]*texttemplate.Template{}, html: map[Kind]*htmltemplate.Template{}}
	for _, k := range Kinds {
		txt, err := read(string(k) + ".txt")
		if err != nil {
			return nil, fmt.Errorf("mail templates: %w", err)
		}
		t, err := texttemplate.New(string(k)).Option("missingkey=error").Parse(string(txt))
		if err != nil {
			return nil, fmt.Errorf("mail templates: %s.txt: %w", k, err)
		}
		if t.Lookup("subject") == nil || t.Lookup("text") == nil {
			return nil, fmt.Errorf("mail templates: %s.txt must define \"subject\" and \"text\"", k)
		}
		html, err := read(string(k) + ".html")
		if err != nil {
			return nil, fmt.Errorf("mail templates: %w", err)
		}
		h, err := htmltemplate.New(string(k)).Funcs(funcs).Option("missingkey=error").Parse(string(layout))
		if err == nil {
			_, err = h.Parse(string(html))
		}
		if err != nil {
			return nil, fmt.Errorf("mail templates: %s.html: %w", k, err)
		}
		if h.Lookup("body") == nil {
			return nil, fmt.Errorf("mail templates: %s.html must define \"body\"", k)
		}
		r.text[k], r.html[k] = t, h
		// Render once with sample data: a template that fails on real data
		// fails now, not when a person waits for the mail.
		if _, err := r.Render(k, sampleData); err != nil {
			return nil, err
		}
	}
	return r, nil
}

var sampleData = Data{Product: "latchkey", Email: "person@example.com", NewEmail: "new@example.com",
	Link: "https://auth.example.com/verify-email?token=x", Code: "12345678", ExpiresIn: "24 hours", Left: 9}

// Render makes the mail of kind for d.Email.
func (r *Renderer) Render(k Kind, d Data) (Message, error) {
	t, ok := r.text[k]
	if !ok {
		return Message{}, fmt.Errorf("mail: unknown kind %q", k)
	}
	var subject, text, html bytes.Buffer
	if err := t.ExecuteTemplate(&subject, "subject", d); err != nil {
		return Message{}, fmt.Errorf("mail: %s subject: %w", k, err)
	}
	d.Subject = strings.TrimSpace(subject.String())
	if err := t.ExecuteTemplate(&text, "text", d); err != nil {
		return Message{}, fmt.Errorf("mail: %s text: %w", k, err)
	}
	if err := r.html[k].ExecuteTemplate(&html, "layout", d); err != nil {
		return Message{}, fmt.Errorf("mail: %s html: %w", k, err)
	}
	return Message{To: d.Email, Subject: d.Subject, Text: strings.TrimLeft(text.String(), "\n"), HTML: html.String()}, nil
}
