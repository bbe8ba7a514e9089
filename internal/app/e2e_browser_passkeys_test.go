package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	vwa "github.com/descope/virtualwebauthn"

	"github.com/latchkey/latchkey/internal/apptest"
	"github.com/latchkey/latchkey/internal/testenv"
)

// virtualAuthenticator adds a DevTools virtual authenticator to the tab:
// CTAP 2.1 over transport (internal: a phone or laptop with a fingerprint
// reader; usb: a security key), keeping discoverable credentials and
// verifying its user.
func virtualAuthenticator(t *testing.T, ctx context.Context, transport webauthn.AuthenticatorTransport) webauthn.AuthenticatorID {
	t.Helper()
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
	res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
			Transport: transport, HasResidentKey: true, HasUserVerification: true, IsUserVerified: true,
			AutomaticPresenceSimulation: true}})
	if err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	return res.AuthenticatorID
}

func cdpCall[P, R any](t *testing.T, ctx context.Context, what string, cmd cdp.Command[P, R], params P) R {
	t.Helper()
	r, err := chromedp.Call(ctx, cmd, params)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return r
}

// credentials lists what the virtual authenticator holds.
func credentials(t *testing.T, ctx context.Context, id webauthn.AuthenticatorID) []*webauthn.Credential {
	t.Helper()
	return cdpCall(t, ctx, "WebAuthn.getCredentials", webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id}).Credentials
}

// passkeysOf lists the user's passkeys through the API.
func passkeysOf(t *testing.T, srv *apptest.Instance, auth []string) []map[string]any {
	t.Helper()
	r := srv.Do(t, "GET", "/v1/me/passkeys", nil, auth...)
	var out struct{ Passkeys []map[string]any }
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &out) != nil {
		t.Fatalf("passkeys: %d %s", r.Status, r.Body)
	}
	return out.Passkeys
}

func TestBrowserPasskeys(t *testing.T) {
	srv, origin := passkeyServer(t)
	browserPasskeys(t, srv, origin)
}

func TestBrowserPostgresPasskeys(t *testing.T) {
	srv, origin := passkeyServer(t, "--database", testenv.PostgresSchema(t))
	browserPasskeys(t, srv, origin)
}

// browserPasskeys walks through passkeys in Chromium with the DevTools
// virtual authenticator: register on /account (a second registration on
// the same authenticator is excluded, a second authenticator may), sign in
// username-less on /login, survive backup-flag changes, refuse a counter
// that went back and an unverified user, and remove a passkey.
func browserPasskeys(t *testing.T, srv *apptest.Instance, origin string) {
	ctx := chromium(t)
	tok := signup(t, srv, "passkeys@example.com")
	api := bearer(tok["access_token"])
	phone := virtualAuthenticator(t, ctx, webauthn.AuthenticatorTransportInternal)

	signInWithPassword := func(what string) {
		t.Helper()
		run(t, ctx, what, chromedp.Navigate(origin+"/login"), chromedp.WaitVisible(chromedp.CSS("#email")),
			chromedp.SendKeys(chromedp.CSS("#email"), "passkeys@example.com"),
			chromedp.SendKeys(chromedp.CSS("#password"), goodPassword),
			chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS("#account-email")))
	}
	signInWithPassword("sign in with the password")

	// Register on the account page.
	run(t, ctx, "add a passkey", chromedp.WaitVisible(chromedp.CSS("#add-passkey")),
		chromedp.SendKeys(chromedp.CSS("#passkey-name"), "This phone"),
		chromedp.Click(chromedp.CSS("#add-passkey")))
	waitForLocation(t, ctx, "done=passkey-added")
	run(t, ctx, "the passkey is listed", chromedp.WaitVisible(chromedp.CSS("#passkeys")))
	if text := get(t, ctx, "passkeys", chromedp.Text(chromedp.CSS("#passkeys"))); !strings.Contains(text, "This phone") ||
		!strings.Contains(text, "this device only") {
		t.Errorf("the passkeys card: %q", text)
	}
	if creds := credentials(t, ctx, phone); len(creds) != 1 || !creds[0].IsResidentCredential || string(creds[0].UserHandle) != tok["user"].(map[string]any)["id"] {
		t.Fatalf("the authenticator holds %+v", creds)
	}
	screenshots(t, ctx, "account-passkeys")

	// The same authenticator again: excludeCredentials makes the browser
	// refuse, and the page says so.
	run(t, ctx, "add it again", chromedp.Click(chromedp.CSS("#add-passkey")), chromedp.WaitVisible(chromedp.CSS("#passkey-error")))
	if msg := get(t, ctx, "error", chromedp.Text(chromedp.CSS("#passkey-error"))); !strings.Contains(msg, "already holds a passkey") {
		t.Errorf("registering twice: %q", msg)
	}
	// A second authenticator (a security key) may; the phone stays silent.
	key := virtualAuthenticator(t, ctx, webauthn.AuthenticatorTransportUsb)
	cdpCall(t, ctx, "silence the phone", webauthn.SetAutomaticPresenceSimulation,
		webauthn.SetAutomaticPresenceSimulationParams{AuthenticatorID: phone, Enabled: false})
	run(t, ctx, "add a second passkey", chromedp.Navigate(origin+"/account"), chromedp.WaitVisible(chromedp.CSS("#add-passkey")),
		chromedp.SendKeys(chromedp.CSS("#passkey-name"), "Security key"), chromedp.Click(chromedp.CSS("#add-passkey")))
	waitForLocation(t, ctx, "done=passkey-added")
	if list := passkeysOf(t, srv, api); len(list) != 2 || list[0]["name"] != "Security key" || list[1]["name"] != "This phone" {
		t.Fatalf("passkeys after the second: %v", list)
	}
	cdpCall(t, ctx, "remove the key", webauthn.RemoveVirtualAuthenticator, webauthn.RemoveVirtualAuthenticatorParams{AuthenticatorID: key})
	cdpCall(t, ctx, "wake the phone", webauthn.SetAutomaticPresenceSimulation,
		webauthn.SetAutomaticPresenceSimulationParams{AuthenticatorID: phone, Enabled: true})

	// Username-less sign-in on the login page.
	passkeySignIn := func(what string) {
		t.Helper()
		run(t, ctx, what, chromedp.Navigate(origin+"/login"), chromedp.WaitVisible(chromedp.CSS("#passkey-sign-in")),
			chromedp.Click(chromedp.CSS("#passkey-sign-in")))
	}
	run(t, ctx, "sign out", chromedp.Click(chromedp.CSS("#sign-out")), chromedp.WaitVisible(chromedp.CSS("#email")))
	run(t, ctx, "the login page offers passkeys", chromedp.WaitVisible(chromedp.CSS("#passkey-sign-in")))
	screenshots(t, ctx, "login-passkey")
	passkeySignIn("sign in with the passkey")
	run(t, ctx, "signed in", chromedp.WaitVisible(chromedp.CSS("#account-email")))
	if loc := get(t, ctx, "location", chromedp.Location()); loc != origin+"/account" {
		t.Errorf("after the passkey sign-in the browser is at %s", loc)
	}
	phoneKey := passkeysOf(t, srv, api)[1]
	if phoneKey["last_used_at"] == nil || phoneKey["backup_eligible"] != false {
		t.Errorf("the phone's passkey after signing in: %v", phoneKey)
	}

	// The passkey syncs: BE and BS appear. Recorded, not a lock-out.
	cred := credentials(t, ctx, phone)[0]
	cdpCall(t, ctx, "sync the passkey", webauthn.SetCredentialProperties, webauthn.SetCredentialPropertiesParams{
		AuthenticatorID: phone, CredentialID: cred.CredentialID, BackupEligibility: ptr(true), BackupState: ptr(true)})
	run(t, ctx, "sign out", chromedp.Click(chromedp.CSS("#sign-out")), chromedp.WaitVisible(chromedp.CSS("#email")))
	passkeySignIn("sign in with the synced passkey")
	run(t, ctx, "signed in", chromedp.WaitVisible(chromedp.CSS("#account-email")))
	if k := passkeysOf(t, srv, api)[1]; k["backup_eligible"] != true || k["backed_up"] != true {
		t.Errorf("flags after syncing: %v", k)
	}

	// No user verification: refused on the page.
	cdpCall(t, ctx, "no UV", webauthn.SetResponseOverrideBits, webauthn.SetResponseOverrideBitsParams{AuthenticatorID: phone, IsBadUV: ptr(true)})
	run(t, ctx, "sign out", chromedp.Click(chromedp.CSS("#sign-out")), chromedp.WaitVisible(chromedp.CSS("#email")))
	passkeySignIn("sign in without user verification")
	run(t, ctx, "refused", chromedp.WaitVisible(chromedp.CSS("#login-error")))
	if !strings.Contains(srv.Logs(), `"reason":"passkey_user_not_verified"`) {
		t.Error("the refusal without user verification was not for that reason")
	}
	cdpCall(t, ctx, "UV again", webauthn.SetResponseOverrideBits, webauthn.SetResponseOverrideBitsParams{AuthenticatorID: phone})

	// A copy of the credential whose counter went back (a clone): refused.
	cred = credentials(t, ctx, phone)[0]
	if cred.SignCount < 1 {
		t.Fatalf("the phone keeps no counter: %+v", cred)
	}
	cdpCall(t, ctx, "turn the counter back", webauthn.SetCredentialProperties, webauthn.SetCredentialPropertiesParams{
		AuthenticatorID: phone, CredentialID: cred.CredentialID, SignCount: ptr(0.0)})
	passkeySignIn("sign in with the clone")
	run(t, ctx, "refused", chromedp.WaitVisible(chromedp.CSS("#login-error")))
	if msg := get(t, ctx, "error", chromedp.Text(chromedp.CSS("#login-error"))); !strings.Contains(msg, "could not sign you in") {
		t.Errorf("the clone's refusal: %q", msg)
	}
	if !strings.Contains(srv.Logs(), `"reason":"passkey_counter"`) {
		t.Error("the clone was not refused for its counter")
	}

	// Remove the phone's passkey from the account page.
	signInWithPassword("sign in with the password again")
	id := passkeysOf(t, srv, api)[1]["id"].(string)
	run(t, ctx, "remove the passkey", chromedp.Click(chromedp.CSS(fmt.Sprintf(`li[data-passkey=%q] button`, id))))
	waitForLocation(t, ctx, "done=passkey-removed")
	if list := passkeysOf(t, srv, api); len(list) != 1 || list[0]["name"] != "Security key" {
		t.Errorf("passkeys after removing one: %v", list)
	}
}

func ptr[T any](v T) *T { return &v }

// TestBrowserPasskeyReauthentication: once the sign-in is older than the
// re-authentication window, the account page lets a user with a passkey
// confirm it's them with it instead of the password.
func TestBrowserPasskeyReauthentication(t *testing.T) {
	srv, origin := passkeyServer(t, "--reauth-window", reauthWindow.String())
	tok := signup(t, srv, "stale@example.com")
	userID := tok["user"].(map[string]any)["id"].(string)
	// The passkey is registered through the API, at once, with a key the
	// virtual authenticator is then given.
	k := newSoftKey(origin, vwa.AuthenticatorOptions{})
	if r := k.register(t, srv, bearer(tok["access_token"]), "Phone"); r.Status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	ctx := chromium(t)
	phone := virtualAuthenticator(t, ctx, webauthn.AuthenticatorTransportInternal)
	cdpCall(t, ctx, "give the phone the passkey", addCredential, addCredentialParams{AuthenticatorID: phone,
		Credential: credential{CredentialID: k.cred.ID, IsResidentCredential: true, RpID: "localhost",
			PrivateKey: k.der, UserHandle: []byte(userID), SignCount: 1}})

	run(t, ctx, "sign in", chromedp.Navigate(origin+"/login"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "stale@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), goodPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#account-email")))
	time.Sleep(reauthWindow + 200*time.Millisecond)
	run(t, ctx, "a stale session's new key", chromedp.SendKeys(chromedp.CSS("#key-name"), "later"),
		chromedp.Click(chromedp.CSS("#create-key")), chromedp.WaitVisible(chromedp.CSS("#passkey-reauth-submit")))
	run(t, ctx, "confirm with the passkey", chromedp.Click(chromedp.CSS("#passkey-reauth-submit")))
	waitForLocation(t, ctx, "done=reauthenticated")
	run(t, ctx, "create the key", chromedp.WaitVisible(chromedp.CSS("#key-name")), chromedp.SendKeys(chromedp.CSS("#key-name"), "now"),
		chromedp.Click(chromedp.CSS("#create-key")), chromedp.WaitVisible(chromedp.CSS("#new-key")))
	if !strings.Contains(srv.Logs(), `"path":"/account/reauthenticate/passkey","status":303`) {
		t.Error("the re-authentication did not go through the passkey form")
	}
}

// addCredential is WebAuthn.addCredential with only the credential's
// classic members: cdproto's Credential always sends the CMTG members,
// which Chromium refuses for an authenticator without that extension.
var addCredential = cdp.Command[addCredentialParams, cdp.Empty]{Method: webauthn.CommandAddCredential}

type addCredentialParams struct {
	AuthenticatorID webauthn.AuthenticatorID `json:"authenticatorId"`
	Credential      credential               `json:"credential"`
}

type credential struct {
	CredentialID         []byte  `json:"credentialId"`
	IsResidentCredential bool    `json:"isResidentCredential"`
	RpID                 string  `json:"rpId"`
	PrivateKey           []byte  `json:"privateKey"`
	UserHandle           []byte  `json:"userHandle"`
	SignCount            float64 `json:"signCount"`
}

// TestBrowserPasskeyAsSecondFactor: after the password, the login page's
// second step takes a passkey instead of a code.
func TestBrowserPasskeyAsSecondFactor(t *testing.T) {
	srv, origin := passkeyServer(t)
	tok := signup(t, srv, "twostep@example.com")
	userID := tok["user"].(map[string]any)["id"].(string)
	k := newSoftKey(origin, vwa.AuthenticatorOptions{})
	if r := k.register(t, srv, bearer(tok["access_token"]), "Key"); r.Status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	enrollTOTP(t, srv, bearer(tok["access_token"]), time.Now())
	ctx := chromium(t)
	key := virtualAuthenticator(t, ctx, webauthn.AuthenticatorTransportUsb)
	cdpCall(t, ctx, "give the key the passkey", addCredential, addCredentialParams{AuthenticatorID: key,
		Credential: credential{CredentialID: k.cred.ID, IsResidentCredential: true, RpID: "localhost",
			PrivateKey: k.der, UserHandle: []byte(userID), SignCount: 1}})

	run(t, ctx, "sign in with the password", chromedp.Navigate(origin+"/login"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "twostep@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), goodPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#passkey-mfa-submit")))
	run(t, ctx, "use the passkey", chromedp.Click(chromedp.CSS("#passkey-mfa-submit")), chromedp.WaitVisible(chromedp.CSS("#account-email")))
	if !strings.Contains(srv.Logs(), `"path":"/login/mfa/passkey","status":303`) {
		t.Error("the second step did not go through the passkey form")
	}
}
