package web

import (
	"html/template"
	"net/http"
	"time"
)

// pageParts are the templates a page parses besides layout.html and its
// own: the account page's sections that live in files of their own.
var pageParts = map[string][]string{
	"account": {"templates/account_mfa.html"},
}

// LoginMFAView is the second step of a sign-in: the code of an
// authenticator app, or a recovery code. The mfa_token itself stays in an
// HttpOnly cookie, never in the page.
type LoginMFAView struct {
	ReturnTo string // a target already checked by Redirects.Safe, or ""
	Error    string
	// Recovery: the account has recovery codes left.
	Recovery bool
	// Passkeys offers "Use a passkey" (passkeys are on).
	Passkeys bool
	// FormTargets are origins the sign-in may lead on to (an OpenID
	// provider's client, whose redirect ends the form's navigation): the
	// CSP's form-action names them, as on the login page.
	FormTargets []string
}

// MFASectionView is the account page's two-step sign-in section.
type MFASectionView struct {
	Factors []FactorView
	// Enabled: at least one authenticator is active.
	Enabled           bool
	RecoveryCodesLeft int
	// StepUp: the session did not prove a second factor; adding an
	// authenticator or new recovery codes asks for a code first.
	StepUp bool
	Error  string
}

// FactorView is one authenticator app (never its secret).
type FactorView struct {
	ID        string
	Name      string
	Created   time.Time
	LastUsed  time.Time // zero: never
	Confirmed bool
	// NeedsCode: removing it turns two-step sign-in off, so the form asks
	// for a code.
	NeedsCode bool
}

// MFAEnrollView shows a new authenticator's QR code and secret, once,
// with the form that confirms it with a first code.
type MFAEnrollView struct {
	ID     string
	Name   string
	Secret string
	URI    string
	// QRSVG is the QR code as inline SVG markup, made by latchkey from the
	// otpauth URI (no image request, nothing the page's CSP would block).
	QRSVG template.HTML
	Error string
}

// RecoveryCodesView shows a set of recovery codes, once.
type RecoveryCodesView struct {
	Codes []string
	// First: they came with the first authenticator.
	First bool
}

// LoginMFA renders the second step of a sign-in.
func (p *Pages) LoginMFA(w http.ResponseWriter, status int, v LoginMFAView) error {
	csp := formTargetsCSP(v.FormTargets)
	if v.Passkeys {
		csp = withPasskeyScript(csp)
	}
	return p.renderCSP(w, status, "login_mfa", v, csp)
}

// MFAEnroll renders a new authenticator's QR code and confirmation form.
func (p *Pages) MFAEnroll(w http.ResponseWriter, status int, v MFAEnrollView) error {
	return p.render(w, status, "mfa_enroll", v)
}

// RecoveryCodes renders a new set of recovery codes.
func (p *Pages) RecoveryCodes(w http.ResponseWriter, v RecoveryCodesView) error {
	return p.render(w, http.StatusCreated, "recovery_codes", v)
}
