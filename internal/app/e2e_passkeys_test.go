package app_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	vwa "github.com/descope/virtualwebauthn"

	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/internal/testenv"
)

// passkeyServer starts latchkey on a port known in advance, with its
// issuer on localhost: browsers allow passkeys on a domain (never an IP
// address) in a secure context, which http://localhost is. The server
// still listens on 127.0.0.1 only. It returns the origin the pages have.
func passkeyServer(t *testing.T, args ...string) (*apptest.Instance, string) {
	t.Helper()
	port := freePort(t)
	origin := fmt.Sprintf("http://localhost:%d", port)
	srv := apptest.Start(t, append([]string{"--addr", fmt.Sprintf("127.0.0.1:%d", port), "--issuer", origin}, args...)...)
	return srv, origin
}

// softKey is a software authenticator with one credential (P-256).
type softKey struct {
	rp   vwa.RelyingParty
	dev  vwa.Authenticator
	cred vwa.Credential
	der  []byte // the private key, PKCS #8
}

func newSoftKey(origin string, o vwa.AuthenticatorOptions) *softKey {
	der := p256Key()
	return &softKey{rp: vwa.RelyingParty{ID: "localhost", Name: "localhost", Origin: origin},
		dev: vwa.NewAuthenticatorWithOptions(o), cred: vwa.NewCredentialWithImportedKey(vwa.KeyTypeEC2, der), der: der}
}

// p256Key is a PKCS #8 P-256 key whose coordinates start with a non-zero
// byte (virtualwebauthn encodes them without leading zeros).
func p256Key() []byte {
	for {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		if point, err := k.PublicKey.Bytes(); err != nil || point[1] == 0 || point[33] == 0 {
			continue
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			panic(err)
		}
		return der
	}
}

// register runs POST /v1/me/passkeys/begin and /finish with the key.
func (k *softKey) register(t *testing.T, srv *apptest.Instance, auth []string, name string) *apptest.Response {
	t.Helper()
	begin := srv.Do(t, "POST", "/v1/me/passkeys/begin", map[string]string{"name": name}, auth...)
	if begin.Status != http.StatusOK || begin.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("begin registration: %d %v %s", begin.Status, begin.Header, begin.Body)
	}
	o, err := vwa.ParseAttestationOptions(string(begin.Body))
	if err != nil {
		t.Fatalf("creation options %s: %v", begin.Body, err)
	}
	created := vwa.CreateAttestationResponse(k.rp, k.dev, k.cred, *o)
	return srv.Do(t, "POST", "/v1/me/passkeys/finish", created, append([]string{"Content-Type", "application/json"}, auth...)...)
}

// assertion runs POST /v1/auth/passkey/begin and answers it as userID's
// authenticator.
func (k *softKey) assertion(t *testing.T, srv *apptest.Instance, userID string) string {
	t.Helper()
	begin := srv.Do(t, "POST", "/v1/auth/passkey/begin", nil)
	if begin.Status != http.StatusOK {
		t.Fatalf("begin sign-in: %d %s", begin.Status, begin.Body)
	}
	o, err := vwa.ParseAssertionOptions(string(begin.Body))
	if err != nil {
		t.Fatal(err)
	}
	k.dev.Options.UserHandle = []byte(userID)
	return vwa.CreateAssertionResponse(k.rp, k.dev, k.cred, *o)
}

func (k *softKey) signIn(t *testing.T, srv *apptest.Instance, userID string) *apptest.Response {
	t.Helper()
	k.cred.Counter++
	return srv.Do(t, "POST", "/v1/auth/passkey/finish", k.assertion(t, srv, userID), "Content-Type", "application/json")
}

func TestPasskeysOverHTTP(t *testing.T) {
	srv, origin := passkeyServer(t)
	passkeysOverHTTP(t, srv, origin)
}

func TestPostgresPasskeysOverHTTP(t *testing.T) {
	srv, origin := passkeyServer(t, "--database", testenv.PostgresSchema(t))
	passkeysOverHTTP(t, srv, origin)
}

// passkeysOverHTTP registers, lists, signs in with, and removes a passkey
// through the API, and checks the refusals that need the whole server:
// replay, another origin, another user's credential.
func passkeysOverHTTP(t *testing.T, srv *apptest.Instance, origin string) {
	tok := signup(t, srv, "passkey@example.com")
	userID := tok["user"].(map[string]any)["id"].(string)
	auth := bearer(tok["access_token"])
	k := newSoftKey(origin, vwa.AuthenticatorOptions{})

	r := k.register(t, srv, auth, "Laptop")
	if r.Status != http.StatusCreated || r.String(t, "name") != "Laptop" || r.JSON(t)["backup_eligible"] != false {
		t.Fatalf("finish registration: %d %s", r.Status, r.Body)
	}
	id := r.String(t, "id")
	if strings.Contains(string(r.Body), "public_key") || strings.Contains(string(r.Body), "credential_id") {
		t.Errorf("the passkey JSON shows key material: %s", r.Body)
	}
	list := srv.Do(t, "GET", "/v1/me/passkeys", nil, auth...)
	if list.Status != 200 || !strings.Contains(string(list.Body), `"id":"`+id+`"`) {
		t.Fatalf("list: %d %s", list.Status, list.Body)
	}

	// A second registration of the same authenticator is excluded, and
	// refused when forced, for this user or another (PK-03).
	again := k.register(t, srv, auth, "")
	other := signup(t, srv, "other-passkey@example.com")
	if stolen := k.register(t, srv, bearer(other["access_token"]), ""); again.Status != http.StatusConflict || stolen.Status != http.StatusConflict {
		t.Errorf("the same credential again: %d, for another user: %d %s", again.Status, stolen.Status, stolen.Body)
	}

	// Username-less sign-in: a token response whose token says hwk, aal2.
	in := k.signIn(t, srv, userID)
	if in.Status != http.StatusOK || in.Header.Get("Cache-Control") != "no-store" || in.String(t, "refresh_token") == "" {
		t.Fatalf("passkey sign-in: %d %s", in.Status, in.Body)
	}
	claims := jwtPart(t, in.JSON(t)["access_token"], 1)
	if claims["sub"] != userID || fmt.Sprint(claims["amr"]) != "[hwk mfa]" || claims["acr"] != "aal2" {
		t.Errorf("access token claims: %v", claims)
	}
	if me := srv.Do(t, "GET", "/v1/me", nil, bearer(in.JSON(t)["access_token"])...); me.Status != 200 || me.String(t, "email") != "passkey@example.com" {
		t.Errorf("/v1/me with the passkey session: %d %s", me.Status, me.Body)
	}

	// The same assertion again: its challenge is spent.
	k.cred.Counter++
	body := k.assertion(t, srv, userID)
	first := srv.Do(t, "POST", "/v1/auth/passkey/finish", body, "Content-Type", "application/json")
	replay := srv.Do(t, "POST", "/v1/auth/passkey/finish", body, "Content-Type", "application/json")
	if first.Status != http.StatusOK || replay.Status != http.StatusUnauthorized || replay.String(t, "code") != "invalid_credentials" {
		t.Errorf("first use %d, replay %d %s", first.Status, replay.Status, replay.Body)
	}
	// Another site's origin, another port of this one.
	for _, o := range []string{"https://evil.example", strings.Replace(origin, "localhost:", "localhost:1", 1)} {
		k.rp.Origin = o
		if r := k.signIn(t, srv, userID); r.Status != http.StatusUnauthorized {
			t.Errorf("origin %s: %d %s", o, r.Status, r.Body)
		}
	}
	k.rp.Origin = origin
	// Not JSON, too large.
	if r := srv.Do(t, "POST", "/v1/auth/passkey/finish", "id=x", "Content-Type", "application/x-www-form-urlencoded"); r.Status != http.StatusUnsupportedMediaType {
		t.Errorf("a form: %d", r.Status)
	}
	if r := srv.Do(t, "POST", "/v1/auth/passkey/finish", `{"id":"`+strings.Repeat("a", 70<<10)+`"}`, "Content-Type", "application/json"); r.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("an oversized credential: %d", r.Status)
	}

	// Rename, remove; the removed passkey signs in no more.
	if r := srv.Do(t, "PATCH", "/v1/me/passkeys/"+id, map[string]string{"name": "Old laptop"}, auth...); r.Status != http.StatusNoContent {
		t.Errorf("rename: %d %s", r.Status, r.Body)
	}
	if r := srv.Do(t, "DELETE", "/v1/me/passkeys/"+id, nil, bearer(other["access_token"])...); r.Status != http.StatusNotFound {
		t.Errorf("another user removing it: %d", r.Status)
	}
	if r := srv.Do(t, "DELETE", "/v1/me/passkeys/"+id, nil, auth...); r.Status != http.StatusNoContent {
		t.Fatalf("remove: %d %s", r.Status, r.Body)
	}
	if r := k.signIn(t, srv, userID); r.Status != http.StatusUnauthorized {
		t.Errorf("a removed passkey: %d", r.Status)
	}
	// The audit log tells the story, with no credential material.
	admin := srv.Do(t, "GET", "/v1/me/passkeys", nil, auth...)
	if admin.Status != 200 || strings.Contains(string(admin.Body), id) {
		t.Errorf("after removal: %d %s", admin.Status, admin.Body)
	}
}

// Without a relying party (the default: an IP address) there are no
// passkeys, and the login page carries no script.
func TestPasskeysOffByDefault(t *testing.T) {
	srv := apptest.Start(t)
	if r := srv.Do(t, "POST", "/v1/auth/passkey/begin", nil); r.Status != http.StatusNotFound {
		t.Errorf("begin: %d %s", r.Status, r.Body)
	}
	if page := srv.Do(t, "GET", "/login", nil); strings.Contains(string(page.Body), "<script") || strings.Contains(page.Header.Get("Content-Security-Policy"), "script-src") {
		t.Errorf("the login page offers passkeys: %s", page.Header.Get("Content-Security-Policy"))
	}
	on, _ := passkeyServer(t)
	page := on.Do(t, "GET", "/login", nil)
	csp := page.Header.Get("Content-Security-Policy")
	if !strings.Contains(string(page.Body), `<script src="/static/passkeys.js" defer></script>`) ||
		csp != "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'" {
		t.Errorf("the login page with passkeys: CSP %q", csp)
	}
	js := on.Do(t, "GET", "/static/passkeys.js", nil)
	if js.Status != 200 || !strings.HasPrefix(js.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("the script: %d %v", js.Status, js.Header)
	}
}

// TestPasskeyAsSecondFactorOverHTTP: an account with an authenticator app
// and a passkey signs in with its password, then the passkey.
func TestPasskeyAsSecondFactorOverHTTP(t *testing.T) {
	forEachStore(t, func(t *testing.T, db []string) {
		srv, origin := passkeyServer(t, db...)
		tok := signup(t, srv, "second@example.com")
		auth := bearer(tok["access_token"])
		k := newSoftKey(origin, vwa.AuthenticatorOptions{BackupEligible: true, BackupState: true})
		if r := k.register(t, srv, auth, "Phone"); r.Status != http.StatusCreated {
			t.Fatalf("register: %d %s", r.Status, r.Body)
		}
		enrollTOTP(t, srv, auth, time.Now())

		login := srv.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "second@example.com", "password": goodPassword})
		if login.Status != http.StatusOK || !strings.Contains(string(login.Body), `"factors":["totp","recovery_code","passkey"]`) {
			t.Fatalf("login: %d %s", login.Status, login.Body)
		}
		token := login.String(t, "mfa_token")
		begin := srv.Do(t, "POST", "/v1/auth/mfa/passkey/begin", map[string]string{"mfa_token": token})
		if begin.Status != http.StatusOK {
			t.Fatalf("begin: %d %s", begin.Status, begin.Body)
		}
		o, err := vwa.ParseAssertionOptions(string(begin.Body))
		if err != nil || !k.cred.IsAllowedForAssertion(*o) {
			t.Fatalf("options %s: %v", begin.Body, err)
		}
		k.cred.Counter++
		body := map[string]any{"mfa_token": token, "credential": json.RawMessage(vwa.CreateAssertionResponse(k.rp, k.dev, k.cred, *o))}
		in := srv.Do(t, "POST", "/v1/auth/mfa/passkey/finish", body)
		if in.Status != http.StatusOK {
			t.Fatalf("finish: %d %s", in.Status, in.Body)
		}
		claims := jwtPart(t, in.JSON(t)["access_token"], 1)
		if fmt.Sprint(claims["amr"]) != "[pwd swk mfa]" || claims["acr"] != "aal2" {
			t.Errorf("claims: %v", claims)
		}
		if again := srv.Do(t, "POST", "/v1/auth/mfa/passkey/finish", body); again.Status != http.StatusBadRequest || again.String(t, "code") != "invalid_grant" {
			t.Errorf("the spent mfa_token again: %d %s", again.Status, again.Body)
		}
	})
}
