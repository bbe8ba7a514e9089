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
		out = append(out, ProviderView{Name: n, Label: providerLabel(n), URL: u})
	}
	return out
}

func providerLabel(name string) string {
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
	Email             string
	Name              string
	Roles             []string
	Sessions          []SessionView
	APIKeys           []APIKeyView
	Notice            string // the outcome of the last action
	Error             string
	PasswordError     string
	MinPasswordLength int
	// NeedsReauth: the session's sign-in is older than --reauth-window, so
	// sensitive forms (new API key, password) need the password first.
	NeedsReauth bool
	ReauthError string
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
	"session-revoked": "The session was signed out.",
	"others-revoked":  "All your other sessions were signed out.",
	"key-revoked":     "The API key was revoked.",
	"password":        "Your password was changed. Your other sessions were signed out.",
	"reauthenticated": "Thanks: you can change your password and create API keys for the next few minutes.",
	"reauth-needed":   "For your security, confirm your password first, then try again.",
}
