package oauthtest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// GitHubEmail is one entry of GET /user/emails.
type GitHubEmail struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// GitHubUser is the account the GitHub server signs in.
type GitHubUser struct {
	ID     int64
	Login  string
	Name   string
	Emails []GitHubEmail
}

// GitHub speaks GitHub's OAuth endpoints and the two API calls latchkey
// makes. Configure latchkey with AuthURL(), TokenURL() and APIURL().
type GitHub struct {
	URL          string
	ClientID     string
	ClientSecret string

	srv    *httptest.Server
	grants grants

	mu     sync.Mutex
	user   GitHubUser
	deny   bool
	tokens map[string]GitHubUser // access token → user
}

// NewGitHub starts the server, stopped when t ends. It signs in user 4242
// ("octo", primary verified email octo@example.test) until SetUser says
// otherwise.
func NewGitHub(t testing.TB, clientID, clientSecret string) *GitHub {
	t.Helper()
	g := &GitHub{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		user: GitHubUser{ID: 4242, Login: "octo", Name: "Octo Cat", Emails: []GitHubEmail{
			{Email: "octo@example.test", Primary: true, Verified: true},
		}},
		tokens: map[string]GitHubUser{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", g.authorize)
	mux.HandleFunc("POST /login/oauth/access_token", g.token)
	mux.HandleFunc("GET /api/user", g.apiUser)
	mux.HandleFunc("GET /api/user/emails", g.apiEmails)
	g.srv = httptest.NewServer(mux)
	g.URL = g.srv.URL
	t.Cleanup(g.srv.Close)
	return g
}

func (g *GitHub) AuthURL() string  { return g.URL + "/login/oauth/authorize" }
func (g *GitHub) TokenURL() string { return g.URL + "/login/oauth/access_token" }
func (g *GitHub) APIURL() string   { return g.URL + "/api" }

// Close stops the server early: later calls cannot connect.
func (g *GitHub) Close() { g.srv.Close() }

// SetUser sets who signs in next.
func (g *GitHub) SetUser(u GitHubUser) { g.mu.Lock(); g.user = u; g.mu.Unlock() }

// DenyAccess makes authorize answer error=access_denied.
func (g *GitHub) DenyAccess(deny bool) { g.mu.Lock(); g.deny = deny; g.mu.Unlock() }

func (g *GitHub) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirectURI := q.Get("redirect_uri")
	if q.Get("client_id") != g.ClientID || redirectURI == "" {
		http.Error(w, "unknown client or redirect_uri", http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	deny := g.deny
	g.mu.Unlock()
	back := url.Values{"state": {q.Get("state")}}
	method := q.Get("code_challenge_method")
	switch {
	case deny:
		back.Set("error", "access_denied")
	case method != "" && method != "S256":
		back.Set("error", "invalid_request")
	default:
		back.Set("code", g.grants.issue(grant{
			clientID: g.ClientID, redirectURI: redirectURI, challenge: q.Get("code_challenge"),
			expires: time.Now().Add(codeLifetime),
		}))
	}
	redirectBack(w, r, redirectURI, back)
}

// token answers like GitHub: HTTP 200 even for errors, JSON only when asked
// for, form encoding otherwise.
func (g *GitHub) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	reply := func(v url.Values) {
		if strings.Contains(r.Header.Get("Accept"), "application/json") {
			m := map[string]string{}
			for k := range v {
				m[k] = v.Get(k)
			}
			writeJSON(w, http.StatusOK, m)
			return
		}
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		w.Write([]byte(v.Encode()))
	}
	id, secret := clientCredentials(r)
	if !equal(id, g.ClientID) || !equal(secret, g.ClientSecret) {
		reply(url.Values{"error": {"incorrect_client_credentials"}})
		return
	}
	gr, ok := g.grants.redeem(r.PostForm.Get("code"))
	if !ok || gr.clientID != id {
		reply(url.Values{"error": {"bad_verification_code"}})
		return
	}
	if uri := r.PostForm.Get("redirect_uri"); uri != "" && uri != gr.redirectURI {
		reply(url.Values{"error": {"redirect_uri_mismatch"}})
		return
	}
	if gr.challenge != "" && !pkceOK(r.PostForm.Get("code_verifier"), gr.challenge) {
		reply(url.Values{"error": {"bad_verification_code"}})
		return
	}
	access := "gho_" + random()
	g.mu.Lock()
	g.tokens[access] = g.user
	g.mu.Unlock()
	reply(url.Values{"access_token": {access}, "token_type": {"bearer"}, "scope": {"read:user,user:email"}})
}

// caller finds the user of the request's access token.
func (g *GitHub) caller(w http.ResponseWriter, r *http.Request) (GitHubUser, bool) {
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		tok, ok = strings.CutPrefix(auth, "token ")
	}
	g.mu.Lock()
	u, found := g.tokens[tok]
	g.mu.Unlock()
	if !ok || !found {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		return GitHubUser{}, false
	}
	return u, true
}

func (g *GitHub) apiUser(w http.ResponseWriter, r *http.Request) {
	u, ok := g.caller(w, r)
	if !ok {
		return
	}
	body := map[string]any{"id": u.ID, "login": u.Login, "name": u.Name, "email": nil}
	if u.Name == "" {
		body["name"] = nil
	}
	writeJSON(w, http.StatusOK, body)
}

func (g *GitHub) apiEmails(w http.ResponseWriter, r *http.Request) {
	u, ok := g.caller(w, r)
	if !ok {
		return
	}
	emails := u.Emails
	if emails == nil {
		emails = []GitHubEmail{}
	}
	writeJSON(w, http.StatusOK, emails)
}
