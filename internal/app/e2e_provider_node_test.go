package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/coreos/go-oidc/v3/oidc"
)

// TestProviderNodeOpenIDClient signs a user in to a Node relying party
// written with npm openid-client (current major, at the versions of
// testdata/oidc-node/package-lock.json), unchanged: discovery, the code
// flow with PKCE (the library checks iss, state and the ID token),
// userinfo, then RP-initiated logout, which ends the latchkey session and
// with it the client's tokens.
func TestProviderNodeOpenIDClient(t *testing.T) {
	node := needTool(t, "node")
	npm := needTool(t, "npm")
	dir := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json", "rp.mjs"} {
		data, err := os.ReadFile(filepath.Join("testdata/oidc-node", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}

	srv, _ := startWithAdmin(t, nil)
	root := loginJSON(t, srv, "root@example.com", adminPassword)
	bye := rpRedirect + "/bye"
	id, secret := providerClient(t, srv, root["access_token"], map[string]any{"name": "Node app", "first_party": true,
		"redirect_uris": []string{rpRedirect}, "post_logout_redirect_uris": []string{bye}})
	rp := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.CommandContext(ctx, node, append([]string{"rp.mjs"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "ISSUER="+srv.URL, "CLIENT_ID="+id, "CLIENT_SECRET="+secret, "REDIRECT_URI="+rpRedirect, "POST_LOGOUT="+bye)
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("node rp.mjs %s: %v\n%s", args[0], err, stderr)
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("node output: %v\n%s", err, out)
		}
		return m
	}
	start := rp("start")
	br := newBrowser(t, srv)
	resp, _ := br.visit("GET", start["url"].(string), nil)
	resp, page := br.signIn(resp, "root@example.com", adminPassword)
	backAtApp(t, resp, page)
	start["callback"] = resp.Header.Get("Location")
	arg, _ := json.Marshal(start)
	done := rp("finish", string(arg))
	claims, _ := done["claims"].(map[string]any)
	info, _ := done["userinfo"].(map[string]any)
	if claims["email"] != "root@example.com" || claims["iss"] != srv.URL || claims["aud"] != id && !strings.Contains(jsonString(claims["aud"]), id) ||
		info["email"] != "root@example.com" || info["sub"] != claims["sub"] {
		t.Fatalf("openid-client saw: claims %v, userinfo %v", claims, info)
	}
	token := &oauth2.Token{AccessToken: done["access_token"].(string)}
	op, err := oidc.NewProvider(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := op.UserInfo(ctx, oauth2.StaticTokenSource(token)); err != nil {
		t.Fatal(err)
	}

	// A post-logout URI one character off is refused with a page, and
	// signs nobody out.
	off := strings.Replace(done["logout"].(string), url.QueryEscape(bye), url.QueryEscape(bye+"x"), 1)
	if resp, page := br.visit("GET", off, nil); resp.StatusCode != 400 || resp.Header.Get("Location") != "" || !strings.Contains(page, "post_logout_redirect_uri") {
		t.Fatalf("a post-logout URI off by one character: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, err := op.UserInfo(ctx, oauth2.StaticTokenSource(token)); err != nil {
		t.Fatalf("the refused logout signed out: %v", err)
	}
	// RP-initiated logout: back to the registered URI, the session ended.
	resp, _ = br.visit("GET", done["logout"].(string), nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != bye+"?state=bye" {
		t.Fatalf("end_session: %d %s", resp.StatusCode, loc)
	}
	if _, err := op.UserInfo(ctx, oauth2.StaticTokenSource(token)); err == nil {
		t.Fatal("the client's token outlived the logout")
	}
	if resp, _ := br.visit("GET", srv.URL+"/account", nil); resp.Request.URL.Path != "/login" {
		t.Fatalf("the browser is still signed in: %s", resp.Request.URL)
	}
	// Without an id_token_hint nobody is signed out (a third site could
	// send a browser here).
	if r := srv.Do(t, "GET", "/oauth2/end_session?post_logout_redirect_uri="+bye+"&client_id="+id, nil); r.Status != 400 {
		t.Fatalf("end_session without a hint: %d %s", r.Status, r.Body)
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
