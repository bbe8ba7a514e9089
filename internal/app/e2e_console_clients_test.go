package app_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/apptest"
)

var (
	consoleSecret   = regexp.MustCompile(`id="client-secret" class="secret" type="text" readonly value="([^"]+)"`)
	consoleClientID = regexp.MustCompile(`id="client-id-value" type="text" readonly value="([^"]+)"`)
)

// clientCredentials asks the token endpoint for a token with the client's
// id and secret, and returns the status.
func clientCredentials(t *testing.T, srv *apptest.Instance, id, secret string) int {
	t.Helper()
	req, err := http.NewRequest("POST", srv.URL+"/oauth2/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestConsoleClients: an administrator creates an OAuth client on the
// console, sees its secret once (the page is never cached, the client's
// page never shows it), and the secret works at the token endpoint;
// rotating and deleting go through a confirmation page and a fresh
// sign-in, and each is audited as the admin API's would be. A refused form
// comes back with the reason; no page has inline script or style.
func TestConsoleClients(t *testing.T) {
	srv, _ := startWithAdmin(t, []string{"--reauth-window", reauthWindow.String()})
	admin := webLoginAs(t, srv, "root@example.com", adminPassword)
	root := loginJSON(t, srv, "root@example.com", adminPassword)
	api := bearer(root["access_token"])
	rootID := srv.Do(t, "GET", "/v1/me", nil, api...).String(t, "id")
	noInline := func(what string, r *apptest.Response) {
		t.Helper()
		checkPageHeaders(t, what, r)
		if b := string(r.Body); strings.Contains(b, "<script") || strings.Contains(b, "<style") || strings.Contains(b, "style=") {
			t.Errorf("%s: inline script or style", what)
		}
	}

	list := srv.Do(t, "GET", "/admin/clients", nil, withCookie(admin)...)
	if list.Status != http.StatusOK || !strings.Contains(string(list.Body), `id="no-clients"`) || !strings.Contains(string(list.Body), `id="create"`) ||
		!strings.Contains(string(list.Body), `href="/admin/clients" aria-current="page"`) {
		t.Fatalf("the clients page: %d %s", list.Status, list.Body)
	}
	noInline("clients page", list)

	// A refusal of the use case comes back on the page, with the form as sent.
	r := postForm(t, srv, "/admin/clients", url.Values{"name": {"Bad"}, "type": {"public"}, "grant_types": {latchkey.GrantClientCredentials}},
		withCookie(admin)...)
	if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `id="console-error"`) || !strings.Contains(string(r.Body), `value="Bad"`) {
		t.Fatalf("a public client with client_credentials: %d %s", r.Status, r.Body)
	}
	r = postForm(t, srv, "/admin/clients", url.Values{"name": {"Bad"}, "redirect_uris": {"http://app.example/cb"}}, withCookie(admin)...)
	if r.Status != http.StatusBadRequest {
		t.Fatalf("an http redirect URI: %d %s", r.Status, r.Body)
	}

	r = postForm(t, srv, "/admin/clients", url.Values{"name": {"Worker"}, "type": {"confidential"},
		"redirect_uris": {"https://app.example/cb\r\n\r\nhttps://app.example/cb2\n"}, "grant_types": {latchkey.GrantClientCredentials, latchkey.GrantAuthorizationCode},
		"scopes": {"openid  email"}, "first_party": {"on"}}, withCookie(admin)...)
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	noInline("the new client's page", r)
	secretM, idM := consoleSecret.FindSubmatch(r.Body), consoleClientID.FindSubmatch(r.Body)
	if secretM == nil || idM == nil {
		t.Fatalf("the new client's page has no secret: %s", r.Body)
	}
	id, secret := string(idM[1]), string(secretM[1])

	// The admin API sees it as the form said.
	c := srv.Do(t, "GET", "/v1/admin/clients/"+id, nil, api...)
	if c.Status != http.StatusOK {
		t.Fatalf("the API's view: %d %s", c.Status, c.Body)
	}
	got := c.JSON(t)
	if got["name"] != "Worker" || got["first_party"] != true || len(got["redirect_uris"].([]any)) != 2 || len(got["scopes"].([]any)) != 2 ||
		len(got["grant_types"].([]any)) != 2 {
		t.Fatalf("the client as created: %s", c.Body)
	}
	if st := clientCredentials(t, srv, id, secret); st != http.StatusOK {
		t.Fatalf("the console's secret at the token endpoint: %d", st)
	}
	// Never shown again.
	for _, path := range []string{"/admin/clients", "/admin/clients/" + id, "/admin/clients/" + id + "/confirm?action=rotate-secret"} {
		p := srv.Do(t, "GET", path, nil, withCookie(admin)...)
		if p.Status != http.StatusOK || strings.Contains(string(p.Body), secret) || !strings.Contains(string(p.Body), id) {
			t.Errorf("%s: %d, shows the secret or not the client", path, p.Status)
		}
		noInline(path, p)
	}
	if r := srv.Do(t, "GET", "/admin/clients/nope", nil, withCookie(admin)...); r.Status != http.StatusNotFound {
		t.Errorf("an unknown client: %d", r.Status)
	}
	if r := srv.Do(t, "GET", "/admin/clients/"+id+"/confirm?action=nothing", nil, withCookie(admin)...); r.Status != http.StatusNotFound {
		t.Errorf("an unknown action: %d", r.Status)
	}

	// Without the confirmation page's field, the forms lead to that page.
	for _, a := range []string{"rotate-secret", "delete"} {
		r := postForm(t, srv, "/admin/clients/"+id+"/"+a, url.Values{}, withCookie(admin)...)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin/clients/"+id+"/confirm?action="+a {
			t.Fatalf("%s unconfirmed: %d %v", a, r.Status, r.Header)
		}
	}
	r = postForm(t, srv, "/admin/clients/"+id+"/rotate-secret", url.Values{"confirm": {"rotate-secret"}}, withCookie(admin)...)
	next := consoleSecret.FindSubmatch(r.Body)
	if r.Status != http.StatusOK || next == nil || string(next[1]) == secret {
		t.Fatalf("rotate: %d %s", r.Status, r.Body)
	}
	noInline("the rotated secret's page", r)
	if st := clientCredentials(t, srv, id, string(next[1])); st != http.StatusOK {
		t.Fatalf("the rotated secret: %d", st)
	}
	if st := clientCredentials(t, srv, id, secret); st != http.StatusOK {
		t.Fatalf("the previous secret during the overlap: %d", st)
	}

	// Resource servers: registered and removed on the same page, as the API would.
	if r := postForm(t, srv, "/admin/resources", url.Values{"id": {"not a uri"}}, withCookie(admin)...); r.Status != http.StatusBadRequest ||
		!strings.Contains(string(r.Body), `id="console-error"`) || !strings.Contains(string(r.Body), `value="not a uri"`) {
		t.Errorf("a relative resource: %d %s", r.Status, r.Body)
	}
	r = postForm(t, srv, "/admin/resources", url.Values{"id": {"https://orders.example"}, "name": {"Orders"}}, withCookie(admin)...)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin/clients?done=resource-created#resources" {
		t.Fatalf("register a resource: %d %v %s", r.Status, r.Header, r.Body)
	}
	if r := srv.Do(t, "GET", "/v1/admin/resources", nil, api...); !strings.Contains(string(r.Body), `"https://orders.example"`) {
		t.Fatalf("the API's resources: %s", r.Body)
	}
	if p := srv.Do(t, "GET", "/admin/clients?done=resource-created", nil, withCookie(admin)...); !strings.Contains(string(p.Body), `data-resource="https://orders.example"`) {
		t.Errorf("the clients page lacks the resource: %s", p.Body)
	}
	if r := postForm(t, srv, "/admin/resources", url.Values{"id": {"https://orders.example"}, "name": {"Again"}}, withCookie(admin)...); r.Status != http.StatusConflict {
		t.Errorf("the same resource again: %d", r.Status)
	}
	r = postForm(t, srv, "/admin/resources/delete", url.Values{"id": {"https://orders.example"}}, withCookie(admin)...)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin/clients?done=resource-deleted#resources" {
		t.Fatalf("remove the resource: %d %v %s", r.Status, r.Header, r.Body)
	}
	if r := srv.Do(t, "GET", "/v1/admin/resources", nil, api...); strings.Contains(string(r.Body), "orders.example") {
		t.Errorf("the removed resource: %s", r.Body)
	}

	// A stale sign-in: the forms that mint or end a credential ask for the
	// password first, and nothing happens.
	time.Sleep(reauthWindow + 200*time.Millisecond)
	if p := srv.Do(t, "GET", "/admin/clients", nil, withCookie(admin)...); !strings.Contains(string(p.Body), "reauth-password") ||
		strings.Contains(string(p.Body), `id="create"`) {
		t.Errorf("a stale clients page offers the form: %s", p.Body)
	}
	r = postForm(t, srv, "/admin/clients", url.Values{"name": {"Late"}}, withCookie(admin)...)
	back := "/admin/reauthenticate?" + url.Values{"done": {"reauth-needed"}, "return_to": {"/admin/clients"}}.Encode()
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != back {
		t.Fatalf("a stale create: %d %v", r.Status, r.Header)
	}
	r = postForm(t, srv, "/admin/clients/"+id+"/delete", url.Values{"confirm": {"delete"}}, withCookie(admin)...)
	back = "/admin/reauthenticate?" + url.Values{"done": {"reauth-needed"}, "return_to": {"/admin/clients/" + id}}.Encode()
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != back {
		t.Fatalf("a stale delete: %d %v", r.Status, r.Header)
	}
	if p := srv.Do(t, "GET", "/admin/clients/"+id+"/confirm?action=delete", nil, withCookie(admin)...); !strings.Contains(string(p.Body), "reauth-password") ||
		strings.Contains(string(p.Body), `name="confirm"`) {
		t.Errorf("a stale confirmation page: %s", p.Body)
	}
	if r := postForm(t, srv, "/admin/reauthenticate", url.Values{"password": {adminPassword}, "return_to": {"/admin/clients/" + id}},
		withCookie(admin)...); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin/clients/"+id {
		t.Fatalf("reauthenticate: %d %v", r.Status, r.Header)
	}
	r = postForm(t, srv, "/admin/clients/"+id+"/delete", url.Values{"confirm": {"delete"}}, withCookie(admin)...)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin/clients?done=client-deleted" {
		t.Fatalf("delete: %d %v %s", r.Status, r.Header, r.Body)
	}
	if r := srv.Do(t, "GET", "/v1/admin/clients/"+id, nil, api...); r.Status != http.StatusNotFound {
		t.Errorf("the deleted client: %d", r.Status)
	}
	if st := clientCredentials(t, srv, id, string(next[1])); st == http.StatusOK {
		t.Error("the deleted client's secret still works")
	}

	// Audited as the admin API's actions, by the administrator, without a secret.
	for _, typ := range []string{latchkey.AuditClientCreated, latchkey.AuditClientSecretRotated, latchkey.AuditClientDeleted,
		latchkey.AuditResourceCreated, latchkey.AuditResourceDeleted} {
		events := adminAudit(t, srv, api, typ)
		if len(events) != 1 {
			t.Errorf("%s: %d events", typ, len(events))
		}
		for _, e := range events {
			b, _ := json.Marshal(e)
			if e["user_id"] != rootID || strings.Contains(string(b), secret) || strings.Contains(string(b), string(next[1])) {
				t.Errorf("%s: %s", typ, b)
			}
		}
	}
}
