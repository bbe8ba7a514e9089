package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/web"
)

// The admin console: hosted pages for administrators, behind the same
// session cookie, CSRF protection and CSP as the account page. Every action
// calls the auth.Service method the admin API calls, so it is checked and
// audited the same way.

// consoleAction is one thing the console does to a user: a form posted to
// /admin/users/{id}/<Name>.
type consoleAction struct {
	Name  string // the route's last segment, and the notice it leaves
	Label string
	// Fresh actions need a recent sign-in. Confirm ones also go through a
	// confirmation page, whose form alone sends confirm=<Name>: they end
	// access or cannot be undone.
	Fresh, Confirm bool
	Explain        string // what the confirmation page says will happen
	Role           bool   // the form names a role
	// Show says whether the user's page lists the action for u; nil: the
	// page offers it in its own place (the roles).
	Show func(u consoleSubject) bool
	Do   func(ctx context.Context, s *Server, id, role string, a auth.Actor) error
	// After is where the browser goes once it is done; "": the user's page.
	After string
}

// consoleActions are the console's actions on a user, in the order the
// user's page lists them. A new one needs only an entry here (its route,
// page button and confirmation come from it) and a line in openapi.yaml.
var consoleActions = []consoleAction{
	{Name: "disable", Label: "Disable", Fresh: true, Confirm: true,
		Explain: "They are signed out everywhere at once: every session and API key of theirs ends, and they cannot sign in " +
			"until enabled again. Enabling them later does not bring the sessions or keys back.",
		Show: func(u consoleSubject) bool { return !u.Disabled },
		Do: func(ctx context.Context, s *Server, id, _ string, a auth.Actor) error {
			return s.updateUser(ctx, id, auth.UserChanges{Disabled: new(bool(true))}, a)
		}},
	{Name: "enable", Label: "Enable",
		Show: func(u consoleSubject) bool { return u.Disabled },
		Do: func(ctx context.Context, s *Server, id, _ string, a auth.Actor) error {
			return s.updateUser(ctx, id, auth.UserChanges{Disabled: new(bool(false))}, a)
		}},
	// Granting a role can make someone an administrator: a stolen session
	// must not do it unnoticed, so it needs a fresh sign-in too.
	{Name: "grant-role", Label: "Grant the role", Fresh: true, Role: true,
		Do: func(ctx context.Context, s *Server, id, role string, a auth.Actor) error {
			return s.updateUser(ctx, id, auth.UserChanges{GrantRole: role}, a)
		}},
	{Name: "revoke-role", Label: "Revoke the role", Fresh: true, Confirm: true, Role: true,
		Explain: "latchkey refuses what the role allowed at once; other services see the change in the user's next access " +
			"token, at most one access-token lifetime from now.",
		Do: func(ctx context.Context, s *Server, id, role string, a auth.Actor) error {
			return s.updateUser(ctx, id, auth.UserChanges{RevokeRole: role}, a)
		}},
	{Name: "end-sessions", Label: "End every session", Fresh: true, Confirm: true,
		Explain: "They are signed out on every device: each session ends at once and its refresh token stops working. " +
			"Their API keys keep working.",
		Show: func(consoleSubject) bool { return true },
		Do: func(ctx context.Context, s *Server, id, _ string, a auth.Actor) error {
			_, err := s.auth.RevokeUserSessions(ctx, id, a)
			return err
		}},
	{Name: "revoke-api-keys", Label: "Revoke every API key", Fresh: true, Confirm: true,
		Explain: "Every API key of theirs stops working at once. Revoked keys cannot be brought back: new ones must be made.",
		Show:    func(consoleSubject) bool { return true },
		Do: func(ctx context.Context, s *Server, id, _ string, a auth.Actor) error {
			_, err := s.auth.RevokeUserAPIKeys(ctx, id, a)
			return err
		}},
	// The answer to a lost phone and lost recovery codes, the same reset as
	// DELETE /v1/admin/users/{id}/mfa: it ends their sessions, so it is
	// confirmed.
	{Name: "reset-mfa", Label: "Reset two-step sign-in", Fresh: true, Confirm: true,
		Explain: "Every authenticator app and recovery code of theirs is removed, and every session of theirs ends at once. " +
			"They sign in next with their password alone, and should add an authenticator again on their account page. " +
			"Their API keys keep working.",
		Show: func(u consoleSubject) bool { return len(u.MFA.TOTP) > 0 || u.MFA.RecoveryCodesLeft > 0 },
		Do: func(ctx context.Context, s *Server, id, _ string, a auth.Actor) error {
			_, err := s.auth.ResetMFA(ctx, id, a)
			return err
		}},
	{Name: "resend-verification", Label: "Resend the verification mail",
		Show: func(u consoleSubject) bool { return !u.EmailVerified() },
		Do: func(ctx context.Context, s *Server, id, _ string, a auth.Actor) error {
			return s.auth.ResendVerification(ctx, id, a)
		}},
	{Name: "delete", Label: "Delete", Fresh: true, Confirm: true,
		Explain: "The account is removed with its sessions, refresh tokens, API keys and linked sign-in providers. " +
			"This cannot be undone; the audit log keeps the account's events.",
		Show: func(consoleSubject) bool { return true },
		Do: func(ctx context.Context, s *Server, id, _ string, a auth.Actor) error {
			return s.auth.DeleteUser(ctx, id, a)
		},
		After: web.ConsolePath + "/users?done=delete"},
}

// consoleSubject is what the user's page knows of the user its actions
// are about.
type consoleSubject struct {
	*latchkey.User
	MFA *auth.MFAStatus
}

func (s *Server) updateUser(ctx context.Context, id string, c auth.UserChanges, a auth.Actor) error {
	_, err := s.auth.UpdateUser(ctx, id, c, a)
	return err
}

// policy is the route policy of the action's form.
func (a consoleAction) policy() policy {
	if a.Fresh {
		return adminSensitivePage
	}
	return adminPage
}

func findConsoleAction(name string) (consoleAction, bool) {
	for _, a := range consoleActions {
		if a.Name == name {
			return a, true
		}
	}
	return consoleAction{}, false
}

func consoleUserPath(id string) string { return web.ConsolePath + "/users/" + url.PathEscape(id) }

// confirmPath is the confirmation page of action name on user id.
func confirmPath(id, name, role string) string {
	q := url.Values{"action": {name}}
	if role != "" {
		q.Set("role", role)
	}
	return consoleUserPath(id) + "/confirm?" + q.Encode()
}

// console is what every console page shows of the request.
func (s *Server) console(r *http.Request, p *auth.Principal, section string) web.Console {
	return web.Console{Section: section, AdminEmail: p.User.Email, Notice: web.ConsoleNotices[r.URL.Query().Get("done")]}
}

// isConsolePath reports whether path is one of the console's.
func isConsolePath(path string) bool {
	return path == web.ConsolePath || strings.HasPrefix(path, web.ConsolePath+"/")
}

// consoleReturn is a console path to come back to after signing in again,
// or "" when to is not one (an open redirect otherwise).
func consoleReturn(to string) string {
	u, err := url.Parse(to)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !isConsolePath(u.Path) ||
		strings.ContainsAny(to, "\\\r\n") || strings.HasPrefix(to, "//") {
		return ""
	}
	return to
}

// consoleReauthTarget is where the console sends an administrator whose
// sign-in is too old for what they asked: the password prompt, which then
// goes back to the page they were on (for a form: the user it was about).
func consoleReauthTarget(r *http.Request) string {
	return web.ConsolePath + "/reauthenticate?" + url.Values{"done": {"reauth-needed"}, "return_to": {consoleBack(r)}}.Encode()
}

// consoleBack is the console page to come back to after proving something
// (a password, a second factor): the page asked for, or for a form the
// user it was about.
func consoleBack(r *http.Request) string {
	switch id := r.PathValue("id"); {
	case r.Method == http.MethodGet:
		if back := consoleReturn(r.URL.RequestURI()); back != "" {
			return back
		}
	case id != "" && strings.HasPrefix(r.URL.Path, web.ConsolePath+"/clients/"):
		return consoleClientPath(id)
	case id != "":
		return consoleUserPath(id)
	case r.URL.Path == web.ConsolePath+"/clients" || strings.HasPrefix(r.URL.Path, web.ConsolePath+"/resources"):
		return web.ConsolePath + "/clients"
	}
	return web.ConsolePath
}

// consoleNeedsMFA answers an administrator whom --mfa-required-roles keeps
// out of the console (mfa_required: no authenticator yet; insufficient_
// authentication: this session has not proved it) with a page that says
// what to do, and for the second a form for the code that comes back here.
func (s *Server) consoleNeedsMFA(w http.ResponseWriter, r *http.Request, err error) {
	v := web.ConsoleMFAPage{NoFactor: latchkey.IsCode(err, latchkey.EMFARequired), ReturnTo: consoleBack(r)}
	if err := s.pages.ConsoleMFA(w, http.StatusForbidden, v); err != nil {
		s.log.ErrorContext(r.Context(), "rendering a page", "err", err)
	}
}

func (s *Server) handleConsoleUsers() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		pg, err := page(r)
		if err != nil {
			return err
		}
		query := r.URL.Query().Get("q")
		v := web.UsersPage{Console: s.console(r, p, web.SectionUsers), Query: limitString(query, 320), Paged: pg.Cursor != ""}
		if len(query) > 320 {
			v.Error = "The search is too long."
			return s.pages.ConsoleUsers(w, http.StatusBadRequest, v)
		}
		users, next, err := s.auth.ListUsers(r.Context(), latchkey.UserFilter{Query: query, Page: pg})
		if err != nil {
			return err
		}
		withMFA, err := s.auth.UsersWithMFA(r.Context(), users)
		if err != nil {
			return err
		}
		for i := range users {
			row := userRow(&users[i])
			row.MFA = withMFA[users[i].ID]
			v.Users = append(v.Users, row)
		}
		if next != "" {
			v.NextPage = web.ConsolePath + "/users?" + url.Values{"q": {query}, "cursor": {next}}.Encode()
		}
		return s.pages.ConsoleUsers(w, http.StatusOK, v)
	}
}

func userRow(u *latchkey.User) web.UserRow {
	return web.UserRow{ID: u.ID, Email: u.Email, Name: u.Name, Roles: u.Roles, Disabled: u.Disabled, Verified: u.EmailVerified(),
		Created: u.CreatedAt}
}

func (s *Server) handleConsoleUser() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		return s.renderConsoleUser(w, r, p, r.PathValue("id"), http.StatusOK, "")
	}
}

// renderConsoleUser shows a user's page, with the refusal of an action
// when there was one.
func (s *Server) renderConsoleUser(w http.ResponseWriter, r *http.Request, p *auth.Principal, id string, status int, refusal string) error {
	ctx := r.Context()
	u, err := s.auth.GetUser(ctx, id)
	if err != nil {
		return err
	}
	sessions, err := s.auth.ListSessions(ctx, u.ID)
	if err != nil {
		return err
	}
	keys, err := s.auth.ListAPIKeys(ctx, u.ID)
	if err != nil {
		return err
	}
	ids, err := s.auth.ListIdentities(ctx, u.ID)
	if err != nil {
		return err
	}
	st, err := s.auth.MFA(ctx, u.ID)
	if err != nil {
		return err
	}
	v := web.UserPage{Console: s.console(r, p, web.SectionUsers), User: userRow(u), Updated: u.UpdatedAt, Self: u.ID == p.User.ID}
	if refusal != "" {
		v.Notice, v.Error = "", refusal
	}
	for _, x := range sessions {
		ua := x.UserAgent
		if ua == "" {
			ua = "Unknown device"
		}
		v.Sessions = append(v.Sessions, web.SessionView{ID: x.ID, UserAgent: ua, IP: x.IP, Created: x.CreatedAt, LastUsed: x.LastUsedAt,
			Current: x.ID == p.SessionID})
	}
	for _, k := range keys {
		kv := web.ConsoleKeyView{APIKeyView: web.APIKeyView{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Created: k.CreatedAt}, Scopes: k.Scopes}
		if k.LastUsedAt != nil {
			kv.LastUsed = *k.LastUsedAt
		}
		if k.ExpiresAt != nil {
			kv.Expires = *k.ExpiresAt
		}
		v.APIKeys = append(v.APIKeys, kv)
	}
	for _, x := range ids {
		v.Identities = append(v.Identities, web.IdentityView{ID: x.ID, Label: web.ProviderLabel(x.Provider), Email: x.Email, Created: x.CreatedAt})
	}
	v.MFA = web.ConsoleMFAView{Enabled: st.Active(), RecoveryCodesLeft: st.RecoveryCodesLeft}
	for _, f := range st.TOTP {
		fv := web.FactorView{ID: f.ID, Name: f.Name, Created: f.CreatedAt, Confirmed: f.Confirmed()}
		if f.LastUsedAt != nil {
			fv.LastUsed = *f.LastUsedAt
		}
		v.MFA.Factors = append(v.MFA.Factors, fv)
	}
	for _, a := range consoleActions {
		if a.Show == nil || !a.Show(consoleSubject{u, st}) {
			continue
		}
		va := web.ConsoleAction{Name: a.Name, Label: a.Label, URL: consoleUserPath(u.ID) + "/" + a.Name, Danger: a.Confirm}
		if a.Confirm {
			va.URL, va.Confirm = confirmPath(u.ID, a.Name, ""), true
		}
		v.Actions = append(v.Actions, va)
	}
	return s.pages.ConsoleUser(w, status, v)
}

// handleConsoleConfirm shows the confirmation page of an action: what it
// will do, and its one form. An administrator whose sign-in is too old is
// asked for the password there first.
func (s *Server) handleConsoleConfirm() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		q := r.URL.Query()
		a, ok := findConsoleAction(q.Get("action"))
		if !ok || !a.Confirm {
			return latchkey.Errorf(latchkey.ENotFound, "There is no such action to confirm.")
		}
		role := q.Get("role")
		if a.Role && role == "" {
			return latchkey.Errorf(latchkey.EInvalidRequest, "Name the role.")
		}
		u, err := s.auth.GetUser(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		v := web.ConfirmPage{Console: s.console(r, p, web.SectionUsers), User: userRow(u), Self: u.ID == p.User.ID,
			Action:      web.ConsoleAction{Name: a.Name, Label: a.Label, URL: consoleUserPath(u.ID) + "/" + a.Name, Confirm: true, Danger: true},
			Explanation: a.Explain, NeedsReauth: a.Fresh && !s.fresh(p), ReturnTo: r.URL.RequestURI()}
		if a.Role {
			v.Role = limitString(role, 64)
		}
		return s.pages.ConsoleConfirm(w, v)
	}
}

// handleConsoleAction runs an action's form.
func (s *Server) handleConsoleAction(a consoleAction) handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		form, err := parseForm(w, r)
		if err != nil {
			return err
		}
		id, role := r.PathValue("id"), ""
		if a.Role {
			if role = strings.TrimSpace(form.Get("role")); role == "" {
				return s.renderConsoleUser(w, r, p, id, http.StatusBadRequest, "Name the role.")
			}
		}
		if a.Confirm && form.Get("confirm") != a.Name {
			// Not from the confirmation page: show it.
			s.seeOther(w, r, confirmPath(id, a.Name, role))
			return nil
		}
		err = a.Do(r.Context(), s, id, role, actor(p, s.meta(r)))
		if code := latchkey.ErrorCode(err); err != nil && (code == latchkey.EInvalidRequest || code == latchkey.EConflict) {
			return s.renderConsoleUser(w, r, p, id, problemStatus[code], latchkey.ErrorMessage(err))
		}
		if err != nil {
			return err
		}
		to := a.After
		if to == "" {
			to = consoleUserPath(id) + "?done=" + a.Name
		}
		s.seeOther(w, r, to)
		return nil
	}
}

func (s *Server) handleConsoleReauthPage() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		return s.pages.ConsoleReauth(w, http.StatusOK, web.ReauthPage{Console: s.console(r, p, ""),
			ReturnTo: consoleReturn(r.URL.Query().Get("return_to"))})
	}
}

// handleConsoleReauth confirms the administrator's password, then goes
// back to the console page they came from.
func (s *Server) handleConsoleReauth() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		form, err := parseForm(w, r)
		if err != nil {
			return err
		}
		back := consoleReturn(form.Get("return_to"))
		err = s.auth.Reauthenticate(r.Context(), p, form.Get("password"), s.meta(r))
		switch code := latchkey.ErrorCode(err); {
		case err == nil:
			if back == "" {
				back = web.ConsolePath + "?done=reauthenticated"
			}
			s.seeOther(w, r, back)
			return nil
		case code == latchkey.EInvalidCredentials || code == latchkey.EInvalidRequest:
			v := web.ReauthPage{Console: s.console(r, p, ""), ReturnTo: back}
			v.Error = latchkey.ErrorMessage(err)
			return s.pages.ConsoleReauth(w, problemStatus[code], v)
		default:
			return err
		}
	}
}

func (s *Server) handleConsoleKeys() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		v := web.KeysPage{Console: s.console(r, p, web.SectionKeys)}
		for _, k := range s.keys.Keys() {
			v.Keys = append(v.Keys, web.SigningKeyView{KID: k.ID, Alg: k.Algorithm, State: k.State, Created: k.CreatedAt,
				Activated: k.ActivatedAt, Retired: k.RetiredAt})
		}
		return s.pages.ConsoleKeys(w, v)
	}
}

func (s *Server) handleConsoleRotate() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		if err := s.rotateKeys(r, p); err != nil {
			return err
		}
		s.seeOther(w, r, web.ConsolePath+"/keys?done=rotate")
		return nil
	}
}
