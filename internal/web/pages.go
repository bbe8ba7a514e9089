// Package web renders latchkey's hosted pages: sign-in and the account
// page. Pages are server-rendered with html/template and carry no
// JavaScript at all, so their Content-Security-Policy allows none.
package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// StylesheetPath is where the pages' one stylesheet is served.
const StylesheetPath = "/static/latchkey.css"

// ContentSecurityPolicy of every page: no script of any kind, styles only
// from latchkey itself, forms only to latchkey, never framed.
const ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Pages renders the hosted pages.
type Pages struct {
	tmpl map[string]*template.Template
}

var funcs = template.FuncMap{
	"stylesheet": func() string { return StylesheetPath },
	"when":       func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") },
	"iso":        func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}

// NewPages parses the embedded templates.
func NewPages() (*Pages, error) {
	p := &Pages{tmpl: map[string]*template.Template{}}
	for _, name := range []string{"login", "account", "key_created", "error"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parsing the %s page: %w", name, err)
		}
		p.tmpl[name] = t
	}
	return p, nil
}

// SetHeaders gives a page response its security headers: nothing cached,
// never framed, no referrer, and the pages' own CSP.
func SetHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
}

func (p *Pages) render(w http.ResponseWriter, status int, name string, view any) error {
	var buf bytes.Buffer
	if err := p.tmpl[name].ExecuteTemplate(&buf, "layout", view); err != nil {
		return fmt.Errorf("rendering the %s page: %w", name, err)
	}
	SetHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// Login renders the sign-in page.
func (p *Pages) Login(w http.ResponseWriter, status int, v LoginView) error {
	return p.render(w, status, "login", v)
}

// Account renders the account page.
func (p *Pages) Account(w http.ResponseWriter, status int, v AccountView) error {
	return p.render(w, status, "account", v)
}

// KeyCreated renders the one page that ever shows a new API key.
func (p *Pages) KeyCreated(w http.ResponseWriter, v KeyCreatedView) error {
	return p.render(w, http.StatusCreated, "key_created", v)
}

// Error renders an error page.
func (p *Pages) Error(w http.ResponseWriter, status int, v ErrorView) error {
	if v.Back == "" {
		v.Back = "/account"
	}
	return p.render(w, status, "error", v)
}

// Static serves the embedded stylesheet under /static/.
func Static() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}
