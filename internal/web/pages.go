// Package web renders latchkey's hosted pages: sign-in and the account
// page. Pages are server-rendered with html/template and work without
// JavaScript; their Content-Security-Policy allows no script, except, when
// passkeys are on, the one small script of the passkey buttons, served
// from latchkey's own origin (script-src 'self', never inline).
package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// StylesheetPath is where the pages' one stylesheet is served.
const StylesheetPath = "/static/latchkey.css"

// PasskeyScriptPath is where the passkey buttons' script is served.
const PasskeyScriptPath = "/static/passkeys.js"

// ContentSecurityPolicy of every page: no script of any kind, styles only
// from latchkey itself, forms only to latchkey, never framed.
const ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Pages renders the hosted pages.
type Pages struct {
	tmpl map[string]*template.Template
}

var funcs = template.FuncMap{
	"stylesheet":    func() string { return StylesheetPath },
	"passkeyScript": func() string { return PasskeyScriptPath },
	"when":          func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") },
	"iso":           func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"day":           func(t time.Time) string { return t.UTC().Format("Mon 2 Jan") },
	"hour":          func(t time.Time) string { return t.UTC().Format("Mon 2 Jan 15:04 UTC") },
	"local":         func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04") },
	"has":           func(l []string, s string) bool { return slices.Contains(l, s) },
}

// NewPages parses the embedded templates.
func NewPages() (*Pages, error) {
	p := &Pages{tmpl: map[string]*template.Template{}}
	for _, name := range []string{"login", "account", "key_created", "error", "email_action", "email_request",
		"login_mfa", "mfa_enroll", "recovery_codes", "admin_mfa", "consent", "device", "provider_step_up"} {
		files := append([]string{"templates/layout.html", "templates/" + name + ".html"}, pageParts[name]...)
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, files...)
		if err != nil {
			return nil, fmt.Errorf("parsing the %s page: %w", name, err)
		}
		p.tmpl[name] = t
	}
	// The console's pages share its navigation and forms (console.html).
	for _, name := range []string{"admin_activity", "admin_users", "admin_user", "admin_confirm", "admin_reauth", "admin_audit", "admin_keys",
		"admin_clients", "admin_client", "admin_client_confirm", "admin_client_secret"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/console.html", "templates/"+name+".html")
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

// formTargetsCSP is ContentSecurityPolicy with origins added to
// form-action. Chrome applies form-action to the redirects that follow a
// form's submission, so a form whose answer sends the browser on to a
// sign-in provider needs that provider's origin there. Anything that is not
// a bare http(s) origin is left out.
func formTargetsCSP(origins []string) string {
	sources := []string{"'self'"}
	for _, o := range origins {
		if isOrigin(o) && !slices.Contains(sources, o) {
			sources = append(sources, o)
		}
	}
	return strings.Replace(ContentSecurityPolicy, "form-action 'self'", "form-action "+strings.Join(sources, " "), 1)
}

// isOrigin accepts scheme://host[:port] for http and https, with a host of
// letters, digits, dots, hyphens, or an IPv6 literal: nothing that could
// end the directive or add a source of its own.
func isOrigin(o string) bool {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Scheme+"://"+u.Host != o {
		return false
	}
	for _, c := range u.Host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)) {
			return false
		}
	}
	return true
}

func (p *Pages) render(w http.ResponseWriter, status int, name string, view any) error {
	return p.renderCSP(w, status, name, view, ContentSecurityPolicy)
}

func (p *Pages) renderCSP(w http.ResponseWriter, status int, name string, view any, csp string) error {
	var buf bytes.Buffer
	if err := p.tmpl[name].ExecuteTemplate(&buf, "layout", view); err != nil {
		return fmt.Errorf("rendering the %s page: %w", name, err)
	}
	SetHeaders(w)
	w.Header().Set("Content-Security-Policy", csp)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// withPasskeyScript is csp for a page that offers passkeys: its one
// script, from latchkey's origin, may run and call latchkey's own API
// (the ceremonies' begin); nothing else changes.
func withPasskeyScript(csp string) string {
	return strings.Replace(csp, "default-src 'none';", "default-src 'none'; script-src 'self'; connect-src 'self';", 1)
}

// Login renders the sign-in page.
func (p *Pages) Login(w http.ResponseWriter, status int, v LoginView) error {
	csp := formTargetsCSP(v.FormTargets)
	if v.Passkeys {
		csp = withPasskeyScript(csp)
	}
	return p.renderCSP(w, status, "login", v, csp)
}

// Account renders the account page. Its forms may also lead to the
// providers of v.LinkOrigins (the "Link" buttons).
func (p *Pages) Account(w http.ResponseWriter, status int, v AccountView) error {
	csp := formTargetsCSP(v.LinkOrigins)
	if v.PasskeysOn {
		csp = withPasskeyScript(csp)
	}
	return p.renderCSP(w, status, "account", v, csp)
}

// EmailAction renders the page a mailed link opens: GET (and HEAD, which
// mail scanners send) only shows it; its one button POSTs the token, and
// only that consumes it.
func (p *Pages) EmailAction(w http.ResponseWriter, status int, v EmailActionView) error {
	return p.render(w, status, "email_action", v)
}

// EmailRequest renders a page that asks for an address to mail (forgot
// password, sign in by email).
func (p *Pages) EmailRequest(w http.ResponseWriter, status int, v EmailRequestView) error {
	return p.render(w, status, "email_request", v)
}

// KeyCreated renders the one page that ever shows a new API key.
func (p *Pages) KeyCreated(w http.ResponseWriter, v KeyCreatedView) error {
	return p.render(w, http.StatusCreated, "key_created", v)
}

// Consent renders the page that asks for consent to a client.
func (p *Pages) Consent(w http.ResponseWriter, status int, v ConsentView) error {
	return p.renderCSP(w, status, "consent", v, formTargetsCSP(v.FormTargets))
}

// ProviderStepUp renders the page that asks for a second factor a client
// requires.
func (p *Pages) ProviderStepUp(w http.ResponseWriter, status int, v ProviderStepUpView) error {
	return p.renderCSP(w, status, "provider_step_up", v, formTargetsCSP(v.FormTargets))
}

// Device renders the page where a user signs a device in (RFC 8628).
func (p *Pages) Device(w http.ResponseWriter, status int, v DeviceView) error {
	return p.render(w, status, "device", v)
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
