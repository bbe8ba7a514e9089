package web

import (
	"net/url"
	"time"
)

// LoginView is what the sign-in page shows.
type LoginView struct {
	Email     string // as typed, after a failed attempt
	ReturnTo  string // a target already checked by Redirects.Safe, or ""
	Error     string // one neutral message
	Providers []ProviderView
	// EmailSignIn offers a sign-in link by mail (--email-sign-in).
	EmailSignIn bool
	// Passkeys offers "Sign in with a passkey" (to browsers that can).
	Passkeys bool
	// FormTargets are origins the sign-in may lead on to (an OpenID
	// client's, when the page signs in for it), which the page's
	// Content-Security-Policy must allow as form targets.
	FormTargets []string
}

// ProviderView is one social-login button.
type ProviderView struct {
	Name  string
	Label string
	URL   string
}

// Providers builds the buttons for the configured social-login providers,
// each sending the browser back to returnTo afterwards.
func Providers(names []string, returnTo string) []ProviderView {
	out := make([]ProviderView, 0, len(names))
	for _, n := range names {
		u := "/v1/oauth/" + url.PathEscape(n) + "/authorize"
		if returnTo != "" {
			u += "?" + url.Values{"redirect_to": {returnTo}}.Encode()
		}
		out = append(out, ProviderView{Name: n, Label: ProviderLabel(n), URL: u})
	}
	return out
}

// LinkButtons builds the account page's "Link" forms: one for each
// configured provider that is not in linked.
func LinkButtons(names []string, linked map[string]bool) []ProviderView {
	var out []ProviderView
	for _, n := range names {
		if !linked[n] {
			out = append(out, ProviderView{Name: n, Label: ProviderLabel(n), URL: "/account/identities/" + url.PathEscape(n) + "/link"})
		}
	}
	return out
}

// ProviderLabel is how a provider's name is shown.
func ProviderLabel(name string) string {
	switch name {
	case "github":
		return "GitHub"
	case "google":
		return "Google"
	case "gitlab":
		return "GitLab"
	}
	if name == "" {
		return name
	}
	b := []byte(name)
	if b[0] >= 'a' && b[0] <= 'z' {
		b[0] -= 'a' - 'A'
	}
	return string(b)
}

// AccountView is what the account page shows.
type AccountView struct {
	Email    string
	Name     string
	Roles    []string
	Sessions []SessionView
	APIKeys  []APIKeyView
	// Apps are the OpenID clients the user agreed to share their account
	// with (revocable).
	Apps       []AppView
	Identities []IdentityView // linked social-login identities
	// Linkable are the configured providers the user has not linked, each
	// a form that starts linking it; LinkOrigins are the origins those
	// forms' redirects lead to (the providers' authorization endpoints),
	// which the page's Content-Security-Policy must allow as form targets.
	Linkable          []ProviderView
	LinkOrigins       []string
	Notice            string // the outcome of the last action
	Error             string
	PasswordError     string
	MinPasswordLength int
	// NeedsReauth: the session's sign-in is older than --reauth-window, so
	// sensitive forms (new API key, password) need the password first.
	NeedsReauth bool
	ReauthError string
	EmailError  string // the change-email form's refusal
	// MFA is the two-step sign-in section (account_mfa.html).
	MFA MFASectionView
	// PasskeysOn shows the passkeys card; Passkeys are the user's.
	PasskeysOn   bool
	Passkeys     []PasskeyView
	PasskeyError string
}

// PasskeyView is one of the user's passkeys.
type PasskeyView struct {
	ID       string
	Name     string
	Synced   bool // backup eligible: a synced passkey, not bound to one device
	Created  time.Time
	LastUsed time.Time // zero: never
}

// SessionView is one of the user's sessions.
type SessionView struct {
	ID        string
	UserAgent string
	IP        string
	Created   time.Time
	LastUsed  time.Time
	Current   bool
}

// APIKeyView is one of the user's API keys (never its secret).
type APIKeyView struct {
	ID       string
	Name     string
	Prefix   string
	Created  time.Time
	LastUsed time.Time // zero: never
	Expires  time.Time // zero: never
}

// IdentityView is one of the user's linked social-login identities.
type IdentityView struct {
	ID      string
	Label   string // the provider, for people
	Email   string // as the provider gave it when linked; may be ""
	Created time.Time
}

// KeyCreatedView shows a new API key, once.
type KeyCreatedView struct {
	Name string
	Key  string
}

// ErrorView is an error page.
type ErrorView struct {
	Title   string
	Message string
	Back    string
}

// Notices are the fixed messages the account page shows after an action;
// the redirect carries only the key, so no text can be injected.
var Notices = map[string]string{
	"session-revoked":         "The session was signed out.",
	"others-revoked":          "All your other sessions were signed out.",
	"key-revoked":             "The API key was revoked.",
	"password":                "Your password was changed. Your other sessions were signed out.",
	"reauthenticated":         "Thanks: you can change your password, create API keys and link or unlink sign-in providers for the next few minutes.",
	"reauth-needed":           "For your security, confirm your password first, then try again.",
	"identity-linked":         "The sign-in provider was linked: you can sign in with it now. Your other sessions were signed out.",
	"identity-already-linked": "That provider account was already linked to yours.",
	"identity-unlinked":       "The sign-in provider was unlinked.",
	"email-change":            "Check the new address's inbox for a link to confirm it. Your old address was told too.",
	"passkey-added":           "The passkey was added: you can sign in with it, without your password.",
	"passkey-removed":         "The passkey was removed.",
	"mfa-added":               "The authenticator app was added: signing in asks for its code.",
	"mfa-removed":             "The authenticator app was removed.",
	"mfa-off":                 "The last authenticator app was removed: two-step sign-in is off, and your recovery codes no longer work.",
	"mfa-verified":            "Thanks: this session has proven your second factor.",
	"app-revoked":             "The app's access was taken back: its tokens no longer work.",
}

// EmailActionView is the page behind a mailed link: one button that
// consumes the token (and, for a reset, the new password).
type EmailActionView struct {
	Title, Intro, Button string
	Action               string // the page's own path: the form posts back to it
	Token                string
	NewPassword          bool
	MinPasswordLength    int
	Error                string
	// Done replaces the form once the token was used; Next is where to go then.
	Done, Next, NextLabel string
}

// EmailRequestView asks for an address to mail.
type EmailRequestView struct {
	Title, Intro, Button string
	Action               string
	Email                string
	Done, Error          string
}

// AppView is a client the user gave consent to.
type AppView struct {
	ClientID string
	Name     string
	Scopes   []string
	Updated  time.Time
}

// ConsentView is the page that asks a user to let a client have their
// account's scopes.
type ConsentView struct {
	RequestID  string
	ClientName string
	ClientHost string // where the client will send the user: the redirect URI's host
	Scopes     []ScopeView
	Email      string // who is signed in
	// FormTargets: the client's origin, where agreeing (or refusing)
	// leads (the page's form-action).
	FormTargets []string
}

// ProviderStepUpView asks a signed-in user for a second factor that a
// client requires (acr_values=aal2) before going back to it.
type ProviderStepUpView struct {
	ClientName string // "" when not known (a page shown again after a wrong code)
	ClientHost string
	Email      string
	ReturnTo   string // the authorization's continuation, checked
	Error      string
	// FormTargets: the client's origin, where the verified code leads.
	FormTargets []string
}

// ScopeView is one scope on the consent page, with what it means.
type ScopeView struct {
	Name        string
	Description string
}

// DeviceView is the /device page: enter a code, confirm the device, or
// the outcome.
type DeviceView struct {
	UserCode   string
	Error      string
	ClientName string // set once a code was found: the confirmation
	Email      string
	Scopes     []ScopeView
	Done       bool
	Approved   bool
}
