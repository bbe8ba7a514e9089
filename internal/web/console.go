package web

import (
	"net/http"
	"net/url"
	"time"
)

// ConsolePath is where the admin console lives.
const ConsolePath = "/admin"

// The console's sections, for its navigation.
const (
	SectionActivity = "activity"
	SectionUsers    = "users"
	SectionAudit    = "audit"
	SectionKeys     = "keys"
	SectionClients  = "clients"
)

// Console is what every console page has: the signed-in administrator,
// the section it belongs to, and the outcome of the last action.
type Console struct {
	Section    string
	AdminEmail string
	Notice     string
	Error      string
}

// ConsoleNotices are the fixed messages a console page shows after an
// action; the redirect carries only the key.
var ConsoleNotices = map[string]string{
	"disable":             "The user was disabled: their sessions and API keys were ended, and they cannot sign in.",
	"enable":              "The user was enabled. They sign in afresh: their ended sessions stay ended.",
	"grant-role":          "The role was granted. Other services see it in the user's next access token.",
	"revoke-role":         "The role was revoked. Other services see it in the user's next access token.",
	"end-sessions":        "Every session of the user was ended.",
	"revoke-api-keys":     "Every API key of the user was revoked.",
	"resend-verification": "A new verification link is on its way to the user's address.",
	"reset-mfa":           "Two-step sign-in was reset: the user's authenticators and recovery codes were removed and their sessions ended.",
	"delete":              "The user was deleted, with their sessions, API keys and sign-in providers.",
	"rotate":              "The signing keys were rotated: new tokens carry the new key's kid.",
	"client-deleted":      "The OAuth client was deleted: its tokens and grants stop working.",
	"resource-created":    "The resource server was registered: clients may now be allowed to ask tokens for it.",
	"resource-deleted":    "The resource server was removed.",
	"reauthenticated":     "Thanks: the actions that need a recent sign-in work for the next few minutes.",
	"reauth-needed":       "For your security, confirm your password first, then try again.",
}

// ActivityPage is the console's first page: the activity charts.
type ActivityPage struct {
	Console
	Charts    []Chart
	Days      []ActivityDay // per-day totals, the charts' text alternative
	Spikes    []Spike
	Threshold float64
	Rule      string
	From, To  time.Time
}

// ActivityDay is one UTC day's totals.
type ActivityDay struct {
	Day                                     time.Time
	SignIns, Failures, Refreshes, RateLimit int64
}

// Spike is an hour whose failures stand out, with a link to its events.
type Spike struct {
	Start    time.Time
	Failures int64
	AuditURL string
}

// NewActivityPage builds the activity page from the hours of a.
func NewActivityPage(c Console, a Activity, to time.Time) ActivityPage {
	v := ActivityPage{Console: c, Charts: Charts(a), Threshold: a.Threshold, Rule: a.Rule, To: to}
	for _, h := range a.Hours {
		day := time.Date(h.Start.Year(), h.Start.Month(), h.Start.Day(), 0, 0, 0, 0, time.UTC)
		if n := len(v.Days); n == 0 || !v.Days[n-1].Day.Equal(day) {
			v.Days = append(v.Days, ActivityDay{Day: day})
		}
		d := &v.Days[len(v.Days)-1]
		d.SignIns += h.SignIns
		d.Failures += h.Failures
		d.Refreshes += h.Refreshes
		d.RateLimit += h.RateLimit
		if h.Spike {
			q := url.Values{"outcome": {"failure"}, "from": {h.Start.Format("2006-01-02T15:04")},
				"to": {h.Start.Add(time.Hour).Format("2006-01-02T15:04")}}
			v.Spikes = append(v.Spikes, Spike{Start: h.Start, Failures: h.Failures, AuditURL: ConsolePath + "/audit?" + q.Encode()})
		}
	}
	if len(a.Hours) > 0 {
		v.From = a.Hours[0].Start
	}
	return v
}

// UsersPage lists users.
type UsersPage struct {
	Console
	Query    string
	Users    []UserRow
	NextPage string // the next page's URL, or ""
	Paged    bool   // this is not the first page
}

// UserRow is one user in a list.
type UserRow struct {
	ID, Email, Name string
	Roles           []string
	Disabled        bool
	Verified        bool
	Created         time.Time
	MFA             bool // has a confirmed second factor (the list only)
}

// UserPage shows one user and what an administrator can do to them.
type UserPage struct {
	Console
	User       UserRow
	Updated    time.Time
	Self       bool // the administrator looking at their own account
	Sessions   []SessionView
	APIKeys    []ConsoleKeyView
	Identities []IdentityView
	MFA        ConsoleMFAView
	Actions    []ConsoleAction
}

// ConsoleMFAView is a user's second factors as an administrator sees
// them: the authenticators' names and dates and how many recovery codes
// are left, never a secret or a code.
type ConsoleMFAView struct {
	Enabled           bool // an authenticator is confirmed
	Factors           []FactorView
	RecoveryCodesLeft int
}

// ConsoleKeyView is one API key of a user, for an administrator.
type ConsoleKeyView struct {
	APIKeyView
	Scopes []string
}

// ConsoleAction is one action on a user: a form posted to URL, or, for an
// action that needs confirming, a link to its confirmation page.
type ConsoleAction struct {
	Name    string
	Label   string
	URL     string
	Confirm bool // URL is the confirmation page
	Danger  bool
}

// ConfirmPage asks an administrator to confirm an action on a user.
type ConfirmPage struct {
	Console
	User        UserRow
	Self        bool
	Action      ConsoleAction // URL: where the form posts
	Explanation string
	Role        string // the role a role action names
	// NeedsReauth: the administrator's sign-in is too old for the action;
	// the page asks for the password first, then comes back (ReturnTo).
	NeedsReauth bool
	ReturnTo    string
}

// ReauthPage asks for the administrator's password, then goes back to
// ReturnTo.
type ReauthPage struct {
	Console
	ReturnTo string
}

// ConsoleMFAPage stops an administrator whose role needs two-step sign-in
// (--mfa-required-roles) at the console's door, and says what to do: add
// an authenticator on the account page (NoFactor), or prove it for this
// session with a code, then go on to ReturnTo. It is a page of its own,
// without the console's navigation: none of it would open yet.
type ConsoleMFAPage struct {
	NoFactor bool
	ReturnTo string // a console path, checked
	Error    string
}

// AuditPage shows the audit log with its filters.
type AuditPage struct {
	Console
	Filter    AuditFilterView
	Types     []string
	Events    []AuditRow
	NextPage  string
	FirstPage string
	Paged     bool
	// ExportCSV and ExportJSON download every event the filters select.
	ExportCSV, ExportJSON string
}

// AuditFilterView is the audit filter form as typed.
type AuditFilterView struct {
	User, Type, Outcome, From, To string
}

// AuditRow is one audit event.
type AuditRow struct {
	ID, Type, Outcome, UserID, SessionID, APIKeyID, IP, UserAgent, Reason string
	Time                                                                  time.Time
}

// KeysPage lists the signing keys.
type KeysPage struct {
	Console
	Keys []SigningKeyView
}

// SigningKeyView is one signing key (never its material).
type SigningKeyView struct {
	KID, Alg, State string
	Created         time.Time
	Activated       *time.Time
	Retired         *time.Time
}

// ConsoleActivity renders the console's activity page.
func (p *Pages) ConsoleActivity(w http.ResponseWriter, v ActivityPage) error {
	return p.render(w, http.StatusOK, "admin_activity", v)
}

// ConsoleUsers renders the list of users.
func (p *Pages) ConsoleUsers(w http.ResponseWriter, status int, v UsersPage) error {
	return p.render(w, status, "admin_users", v)
}

// ConsoleUser renders a user's page.
func (p *Pages) ConsoleUser(w http.ResponseWriter, status int, v UserPage) error {
	return p.render(w, status, "admin_user", v)
}

// ConsoleConfirm renders the confirmation page of an action.
func (p *Pages) ConsoleConfirm(w http.ResponseWriter, v ConfirmPage) error {
	return p.render(w, http.StatusOK, "admin_confirm", v)
}

// ConsoleReauth renders the console's password prompt.
func (p *Pages) ConsoleReauth(w http.ResponseWriter, status int, v ReauthPage) error {
	return p.render(w, status, "admin_reauth", v)
}

// ConsoleMFA renders the page that asks for two-step sign-in first.
func (p *Pages) ConsoleMFA(w http.ResponseWriter, status int, v ConsoleMFAPage) error {
	return p.render(w, status, "admin_mfa", v)
}

// ConsoleAudit renders the audit log.
func (p *Pages) ConsoleAudit(w http.ResponseWriter, status int, v AuditPage) error {
	return p.render(w, status, "admin_audit", v)
}

// ConsoleKeys renders the signing keys.
func (p *Pages) ConsoleKeys(w http.ResponseWriter, v KeysPage) error {
	return p.render(w, http.StatusOK, "admin_keys", v)
}

// ClientRow is one OAuth client of the provider, as the console lists it:
// never its secret.
type ClientRow struct {
	ID, Name, Type, AuthMethod    string
	FirstParty                    bool
	GrantTypes, Scopes, Resources []string
	RedirectURIs, PostLogoutURIs  []string
	PreviousSecretExpires         time.Time // zero: no previous secret works
	Created, Updated              time.Time
}

// ClientForm is what the create form was sent with, to show it again
// with the refusal.
type ClientForm struct {
	Name, Type, AuthMethod, RedirectURIs, PostLogoutURIs, Scopes string
	GrantTypes                                                   []string
	FirstParty                                                   bool
}

// ClientsPage lists the provider's clients, with the create form.
type ClientsPage struct {
	Console
	Unavailable bool // the server is not an OpenID provider
	Clients     []ClientRow
	Form        ClientForm
	Resources   []ResourceRow
	Resource    ResourceRow // the resource form as it was sent
	NeedsReauth bool        // creating needs a recent sign-in first
	ReturnTo    string      // where the password prompt comes back to
}

// ResourceRow is one registered resource server.
type ResourceRow struct {
	ID, Name string
	Created  time.Time
}

// ClientPage is one client's page.
type ClientPage struct {
	Console
	Client ClientRow
}

// ClientConfirmPage confirms rotating a client's secret or deleting it.
type ClientConfirmPage struct {
	Console
	Client      ClientRow
	Action      ConsoleAction
	Explanation string
	NeedsReauth bool
	ReturnTo    string
}

// ClientSecretPage is the one page that shows a client's new secret.
type ClientSecretPage struct {
	Console
	Client  ClientRow
	Secret  string // "": a public client, which has none
	Rotated bool
}

// ConsoleClients renders the list of OAuth clients.
func (p *Pages) ConsoleClients(w http.ResponseWriter, status int, v ClientsPage) error {
	return p.render(w, status, "admin_clients", v)
}

// ConsoleClient renders a client's page.
func (p *Pages) ConsoleClient(w http.ResponseWriter, v ClientPage) error {
	return p.render(w, http.StatusOK, "admin_client", v)
}

// ConsoleClientConfirm renders the confirmation of a client action.
func (p *Pages) ConsoleClientConfirm(w http.ResponseWriter, v ClientConfirmPage) error {
	return p.render(w, http.StatusOK, "admin_client_confirm", v)
}

// ConsoleClientSecret renders the page that shows a new client secret,
// once: like every page it is never cached.
func (p *Pages) ConsoleClientSecret(w http.ResponseWriter, status int, v ClientSecretPage) error {
	return p.render(w, status, "admin_client_secret", v)
}
