package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	vwa "github.com/descope/virtualwebauthn"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
)

// The fixture's relying party: the hosted pages' origin and its host.
const (
	rpID     = "id.example.test"
	rpOrigin = "https://id.example.test"
)

// passkeyFixture is the fixture with passkeys on.
func passkeyFixture(t testing.TB) *fixture {
	return newFixture(t, func(c *auth.Config) {
		c.Passkeys = auth.PasskeyConfig{RPID: rpID, RPName: "Example", Origins: []string{rpOrigin}}
	})
}

// softKey is a software authenticator holding one credential: what a
// browser and a security key or phone would send, made in Go.
type softKey struct {
	rp   vwa.RelyingParty
	dev  vwa.Authenticator
	cred vwa.Credential
}

func newSoftKey(o vwa.AuthenticatorOptions) *softKey {
	return &softKey{rp: vwa.RelyingParty{ID: rpID, Name: "Example", Origin: rpOrigin},
		dev: vwa.NewAuthenticatorWithOptions(o), cred: vwa.NewCredentialWithImportedKey(vwa.KeyTypeEC2, p256Key())}
}

// p256Key is a PKCS #8 P-256 key whose coordinates have no leading zero
// byte: virtualwebauthn encodes them without one, which a verifier
// rightly refuses (one key in 128 would otherwise fail the test).
func p256Key() []byte {
	for {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		point, err := k.PublicKey.Bytes()
		if err != nil || point[1] == 0 || point[33] == 0 {
			continue
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			panic(err)
		}
		return der
	}
}

// create answers creation options as navigator.credentials.create would.
func (k *softKey) create(t testing.TB, options json.RawMessage) []byte {
	t.Helper()
	o, err := vwa.ParseAttestationOptions(string(options))
	if err != nil {
		t.Fatalf("creation options %s: %v", options, err)
	}
	if o.RelyingPartyID != rpID {
		t.Fatalf("options for RP %q", o.RelyingPartyID)
	}
	return []byte(vwa.CreateAttestationResponse(k.rp, k.dev, k.cred, *o))
}

// get answers request options as navigator.credentials.get would, for a
// discoverable credential of user (its user handle).
func (k *softKey) get(t testing.TB, options json.RawMessage, userID string) []byte {
	t.Helper()
	o, err := vwa.ParseAssertionOptions(string(options))
	if err != nil {
		t.Fatalf("request options %s: %v", options, err)
	}
	k.dev.Options.UserHandle = []byte(userID)
	return []byte(vwa.CreateAssertionResponse(k.rp, k.dev, k.cred, *o))
}

// register runs a whole registration for the session's user.
func (k *softKey) register(t testing.TB, f *fixture, p *auth.Principal) (*latchkey.Passkey, error) {
	t.Helper()
	options, err := f.svc.BeginPasskeyRegistration(t.Context(), p, "My key", auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	return f.svc.FinishPasskeyRegistration(t.Context(), p, k.create(t, options), auth.Meta{})
}

// signIn runs a whole username-less sign-in as userID's authenticator.
func (k *softKey) signIn(t testing.TB, f *fixture, userID string) (*auth.Tokens, error) {
	t.Helper()
	return f.svc.PasskeySignIn(t.Context(), k.assertion(t, f, userID), auth.Meta{IP: "203.0.113.9"})
}

func (k *softKey) assertion(t testing.TB, f *fixture, userID string) []byte {
	t.Helper()
	options, err := f.svc.BeginPasskeySignIn(t.Context(), auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	return k.get(t, options, userID)
}

func mustRegister(t testing.TB, f *fixture, k *softKey, p *auth.Principal) *latchkey.Passkey {
	t.Helper()
	pk, err := k.register(t, f, p)
	if err != nil {
		t.Fatalf("registering: %v", err)
	}
	return pk
}

func (f *fixture) passkey(t testing.TB, k *softKey) *latchkey.Passkey {
	t.Helper()
	pk, err := f.db.PasskeyByCredentialID(t.Context(), k.cred.ID)
	if err != nil {
		t.Fatal(err)
	}
	return pk
}

func TestPasskeyRegisterAndSignIn(t *testing.T) {
	f := passkeyFixture(t)
	u, sess := f.user(t, "pk@example.com")
	p := principal(u, sess)
	k := newSoftKey(vwa.AuthenticatorOptions{})
	k.cred.Counter = 3

	options, err := f.svc.BeginPasskeyRegistration(t.Context(), p, "", auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		RP        struct{ ID, Name string }
		User      struct{ ID, Name, DisplayName string }
		Challenge string
		Timeout   int
		Selection struct {
			ResidentKey      string `json:"residentKey"`
			UserVerification string `json:"userVerification"`
		} `json:"authenticatorSelection"`
		Attestation string
		Exclude     []any `json:"excludeCredentials"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		t.Fatal(err)
	}
	if o.RP.ID != rpID || o.RP.Name != "Example" || o.User.ID == "" || o.User.Name != "pk@example.com" ||
		o.Selection.ResidentKey != "preferred" || o.Selection.UserVerification != "required" || o.Timeout != 300000 ||
		o.Attestation != "none" || len(o.Exclude) != 0 || len(o.Challenge) < 43 {
		t.Fatalf("creation options: %s", options)
	}
	pk, err := f.svc.FinishPasskeyRegistration(t.Context(), p, k.create(t, options), auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	stored := f.passkey(t, k)
	if stored.ID != pk.ID || stored.UserID != u.ID || stored.Name != "Passkey" || stored.SignCount != 3 ||
		string(stored.AAGUID) != string(k.dev.Aaguid[:]) || *stored.BackupEligible || *stored.BackedUp ||
		stored.AttestationType == "" || !stored.CreatedAt.Equal(f.clock.Now().Truncate(time.Microsecond)) || stored.LastUsedAt != nil {
		t.Fatalf("stored passkey: %+v", stored)
	}
	if got := f.auditReasons(t, latchkey.AuditPasskeyRegistered); got["success passkey "+pk.ID+" hwk"] != 1 {
		t.Errorf("registration audit: %v", got)
	}

	// A second registration excludes the first credential.
	options, err = f.svc.BeginPasskeyRegistration(t.Context(), p, "Laptop", auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	excluded, _ := vwa.ParseAttestationOptions(string(options))
	if !k.cred.IsExcludedForAttestation(*excluded) {
		t.Errorf("excludeCredentials lacks the registered passkey: %s", options)
	}

	f.clock.Advance(time.Hour)
	k.cred.Counter = 4
	tok, err := k.signIn(t, f, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tok.User.ID != u.ID || !tok.Session.AuthTime.Equal(f.clock.Now().UTC()) || tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("tokens: %+v", tok)
	}
	claims, err := f.tokens.Verify(tok.AccessToken.Reveal())
	if err != nil || claims.Subject != u.ID || claims.SessionID != tok.Session.ID {
		t.Fatalf("access token: %+v %v", claims, err)
	}
	// A device-bound key with user verification: hwk, two factors, aal2.
	if !slices.Equal(claims.AMR, []string{"hwk", "mfa"}) || claims.ACR != "aal2" || !slices.Equal(tok.Session.AMR, claims.AMR) {
		t.Errorf("amr %v acr %q, session amr %v", claims.AMR, claims.ACR, tok.Session.AMR)
	}
	used := f.passkey(t, k)
	if used.SignCount != 4 || used.LastUsedAt == nil || !used.LastUsedAt.Equal(f.clock.Now().Truncate(time.Microsecond)) {
		t.Errorf("after the sign-in: %+v", used)
	}
	if got := f.auditReasons(t, latchkey.AuditPasskeySignIn); got["success passkey "+pk.ID+" hwk"] != 1 {
		t.Errorf("sign-in audit: %v", got)
	}
	if f.events.last(&f.events.logins) != "success" {
		t.Errorf("login events: %v", f.events.logins)
	}

	// The hosted page's variant starts a cookie session.
	k.cred.Counter = 5
	cookie, cs, err := f.svc.PasskeySignInCookie(t.Context(), k.assertion(t, f, u.ID), auth.Meta{})
	if err != nil || cookie == "" || len(cs.CookieHash) == 0 || !slices.Equal(cs.AMR, []string{"hwk", "mfa"}) {
		t.Fatalf("cookie sign-in: %v %+v", err, cs)
	}
	if pr, err := f.svc.AuthenticateCookie(t.Context(), cookie.Reveal()); err != nil || pr.User.ID != u.ID {
		t.Fatalf("the new cookie: %v", err)
	}
}

// A synced passkey (backup eligible, backed up) keeps no counter: 0 every
// time is accepted (PK-02), and it proves a software-held key.
func TestPasskeySyncedAlwaysZero(t *testing.T) {
	f := passkeyFixture(t)
	u, sess := f.user(t, "synced@example.com")
	k := newSoftKey(vwa.AuthenticatorOptions{BackupEligible: true, BackupState: true})
	pk := mustRegister(t, f, k, principal(u, sess))
	for range 3 {
		tok, err := k.signIn(t, f, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if claims, err := f.tokens.Verify(tok.AccessToken.Reveal()); err != nil || !slices.Equal(claims.AMR, []string{"swk", "mfa"}) || claims.ACR != "aal2" {
			t.Fatalf("a synced passkey's token: %+v %v", claims, err)
		}
	}
	if got := f.auditReasons(t, latchkey.AuditPasskeySignIn); got["success passkey "+pk.ID+" swk"] != 3 {
		t.Errorf("sign-in audit: %v", got)
	}
	if got := f.auditReasons(t, latchkey.AuditPasskeyFlagsChanged); len(got) != 0 {
		t.Errorf("flags reported changed: %v", got)
	}
}

// PK-01: the origin and the RP ID (with or without a port) are checked;
// a response made for another site is refused, in both ceremonies.
func TestPasskeyWrongOriginOrRPID(t *testing.T) {
	f := passkeyFixture(t)
	u, sess := f.user(t, "rp@example.com")
	p := principal(u, sess)
	good := newSoftKey(vwa.AuthenticatorOptions{})
	mustRegister(t, f, good, p)

	cases := []struct {
		name   string
		rp     vwa.RelyingParty
		reason string
	}{
		{"another origin", vwa.RelyingParty{ID: rpID, Origin: "https://evil.example.test"}, "wrong_origin"},
		{"the origin with a port", vwa.RelyingParty{ID: rpID, Origin: rpOrigin + ":8443"}, "wrong_origin"},
		{"http instead of https", vwa.RelyingParty{ID: rpID, Origin: "http://id.example.test"}, "wrong_origin"},
		{"the RP ID with a port", vwa.RelyingParty{ID: rpID + ":443", Origin: rpOrigin}, "wrong_rp_id"},
		{"the parent domain as RP ID", vwa.RelyingParty{ID: "example.test", Origin: rpOrigin}, "wrong_rp_id"},
		{"another RP ID", vwa.RelyingParty{ID: "evil.test", Origin: rpOrigin}, "wrong_rp_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k := newSoftKey(vwa.AuthenticatorOptions{})
			k.rp = c.rp
			_, err := k.register(t, f, p)
			wantCode(t, "registration", err, latchkey.EInvalidRequest)
			if got := f.auditReasons(t, latchkey.AuditPasskeyRegistered); got["failure "+c.reason] == 0 {
				t.Errorf("registration audit: %v", got)
			}
			// The registered credential, used for the wrong site.
			good.rp = c.rp
			good.cred.Counter++
			_, err = good.signIn(t, f, u.ID)
			wantCode(t, "sign-in", err, latchkey.EInvalidCredentials)
			if got := f.auditReasons(t, latchkey.AuditLoginFailed); got["failure passkey_"+c.reason] == 0 {
				t.Errorf("sign-in audit: %v", got)
			}
		})
	}
	if n := len(f.auditReasons(t, latchkey.AuditPasskeySignIn)); n != 0 {
		t.Errorf("%d sign-ins succeeded", n)
	}
}

// PK-01: a challenge is spent by its first use, whatever the outcome, and
// dies after five minutes.
func TestPasskeyChallengeSingleUseAndExpiry(t *testing.T) {
	f := passkeyFixture(t)
	u, sess := f.user(t, "once@example.com")
	p := principal(u, sess)
	k := newSoftKey(vwa.AuthenticatorOptions{})

	options, err := f.svc.BeginPasskeyRegistration(t.Context(), p, "", auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	created := k.create(t, options)
	if _, err := f.svc.FinishPasskeyRegistration(t.Context(), p, created, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	other := newSoftKey(vwa.AuthenticatorOptions{})
	_, err = f.svc.FinishPasskeyRegistration(t.Context(), p, other.create(t, options), auth.Meta{})
	wantCode(t, "a second credential for one registration challenge", err, latchkey.EInvalidRequest)

	body := k.assertion(t, f, u.ID)
	if _, err := f.svc.PasskeySignIn(t.Context(), body, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.PasskeySignIn(t.Context(), body, auth.Meta{})
	wantCode(t, "the replayed assertion", err, latchkey.EInvalidCredentials)

	// A refused attempt spends its challenge too.
	k.cred.Counter = 0
	bad := newSoftKey(vwa.AuthenticatorOptions{})
	options, err = f.svc.BeginPasskeySignIn(t.Context(), auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.PasskeySignIn(t.Context(), bad.get(t, options, u.ID), auth.Meta{})
	wantCode(t, "an unknown credential", err, latchkey.EInvalidCredentials)
	k.cred.Counter = 1
	_, err = f.svc.PasskeySignIn(t.Context(), k.get(t, options, u.ID), auth.Meta{})
	wantCode(t, "the right credential on a spent challenge", err, latchkey.EInvalidCredentials)

	// Expiry: five minutes, to the microsecond.
	k.cred.Counter = 2
	options, _ = f.svc.BeginPasskeySignIn(t.Context(), auth.Meta{})
	f.clock.Advance(auth.PasskeyChallengeTTL)
	_, err = f.svc.PasskeySignIn(t.Context(), k.get(t, options, u.ID), auth.Meta{})
	wantCode(t, "an expired challenge", err, latchkey.EInvalidCredentials)
	options, _ = f.svc.BeginPasskeySignIn(t.Context(), auth.Meta{})
	f.clock.Advance(auth.PasskeyChallengeTTL - time.Second)
	if _, err := f.svc.PasskeySignIn(t.Context(), k.get(t, options, u.ID), auth.Meta{}); err != nil {
		t.Fatalf("a challenge within its five minutes: %v", err)
	}
	options, _ = f.svc.BeginPasskeyRegistration(t.Context(), p, "", auth.Meta{})
	f.clock.Advance(auth.PasskeyChallengeTTL)
	_, err = f.svc.FinishPasskeyRegistration(t.Context(), p, other.create(t, options), auth.Meta{})
	wantCode(t, "an expired registration", err, latchkey.EInvalidRequest)

	reasons := f.auditReasons(t, latchkey.AuditLoginFailed)
	if reasons["failure passkey_challenge"] != 3 || reasons["failure passkey_unknown"] != 1 {
		t.Errorf("failures: %v", reasons)
	}
}

// A registration is finished by the session that began it, and a sign-in
// challenge is no registration challenge.
func TestPasskeyRegistrationBoundToSession(t *testing.T) {
	f := passkeyFixture(t)
	u, sess := f.user(t, "bound@example.com")
	otherSession := f.session(t, u)
	mallory, msess := f.user(t, "mallory@example.com")
	k := newSoftKey(vwa.AuthenticatorOptions{})
	for _, finisher := range []*auth.Principal{principal(u, otherSession), principal(mallory, msess)} {
		options, err := f.svc.BeginPasskeyRegistration(t.Context(), principal(u, sess), "", auth.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.FinishPasskeyRegistration(t.Context(), finisher, k.create(t, options), auth.Meta{})
		wantCode(t, "finished by another session", err, latchkey.EInvalidRequest)
	}
	options, _ := f.svc.BeginPasskeySignIn(t.Context(), auth.Meta{})
	o, err := vwa.ParseAssertionOptions(string(options))
	if err != nil {
		t.Fatal(err)
	}
	created := vwa.CreateAttestationResponse(k.rp, k.dev, k.cred, vwa.AttestationOptions{Challenge: o.Challenge, RelyingPartyID: rpID})
	_, err = f.svc.FinishPasskeyRegistration(t.Context(), principal(u, sess), []byte(created), auth.Meta{})
	wantCode(t, "a sign-in challenge used to register", err, latchkey.EInvalidRequest)
	if list, _ := f.svc.ListPasskeys(t.Context(), u.ID); len(list) != 0 {
		t.Errorf("registered: %v", list)
	}
}

// PK-02: a counter that does not move forward (when either is non-zero)
// is refused and audited as a possible clone; the stored counter stays.
func TestPasskeyCounterRegression(t *testing.T) {
	f := passkeyFixture(t)
	u, sess := f.user(t, "clone@example.com")
	k := newSoftKey(vwa.AuthenticatorOptions{})
	k.cred.Counter = 10
	pk := mustRegister(t, f, k, principal(u, sess))
	for _, n := range []uint32{10, 9, 0} {
		k.cred.Counter = n
		_, err := k.signIn(t, f, u.ID)
		wantCode(t, "counter "+string(rune('0'+n%10)), err, latchkey.EInvalidCredentials)
	}
	clones := f.auditReasons(t, latchkey.AuditPasskeyCloneSuspected)
	for _, want := range []string{"failure passkey " + pk.ID + ": counter 10 after 10", "failure passkey " + pk.ID + ": counter 9 after 10",
		"failure passkey " + pk.ID + ": counter 0 after 10"} {
		if clones[want] != 1 {
			t.Errorf("clone audit lacks %q: %v", want, clones)
		}
	}
	if got := f.passkey(t, k); got.SignCount != 10 || got.LastUsedAt != nil {
		t.Errorf("a refused use changed the passkey: %+v", got)
	}
	if n := f.auditReasons(t, latchkey.AuditLoginFailed)["failure passkey_counter"]; n != 3 {
		t.Errorf("login.failed passkey_counter: %d", n)
	}
	k.cred.Counter = 11
	if _, err := k.signIn(t, f, u.ID); err != nil {
		t.Fatalf("the next counter: %v", err)
	}
}

// PK-03: a credential id belongs to one account, and excludeCredentials
// keeps an authenticator from registering twice.
func TestPasskeyCredentialRegisteredTwice(t *testing.T) {
	f := passkeyFixture(t)
	u, sess := f.user(t, "first@example.com")
	v, vsess := f.user(t, "second@example.com")
	k := newSoftKey(vwa.AuthenticatorOptions{})
	mustRegister(t, f, k, principal(u, sess))

	_, err := k.register(t, f, principal(v, vsess))
	wantCode(t, "the same credential for another user", err, latchkey.EConflict)
	_, err = k.register(t, f, principal(u, sess))
	wantCode(t, "the same credential again", err, latchkey.EConflict)
	if got := f.auditReasons(t, latchkey.AuditPasskeyRegistered); got["failure credential_registered_already"] != 2 {
		t.Errorf("audit: %v", got)
	}
	if got := f.passkey(t, k); got.UserID != u.ID {
		t.Fatalf("the credential moved to %s", got.UserID)
	}
	// The assertion names its user: the second account cannot claim it.
	k.cred.Counter = 1
	_, err = k.signIn(t, f, v.ID)
	wantCode(t, "someone else's user handle", err, latchkey.EInvalidCredentials)
	if got := f.auditReasons(t, latchkey.AuditLoginFailed); got["failure passkey_user_handle"] != 1 {
		t.Errorf("audit: %v", got)
	}
}

// PK-01: user verification is required, in both ceremonies.
func TestPasskeyUserVerificationRequired(t *testing.T) {
	f := passkeyFixture(t)
	u, sess := f.user(t, "uv@example.com")
	lazy := newSoftKey(vwa.AuthenticatorOptions{UserNotVerified: true})
	_, err := lazy.register(t, f, principal(u, sess))
	wantCode(t, "registration without UV", err, latchkey.EInvalidRequest)
	if !strings.Contains(latchkey.ErrorMessage(err), "did not verify the user") {
		t.Errorf("message: %q", latchkey.ErrorMessage(err))
	}
	k := newSoftKey(vwa.AuthenticatorOptions{})
	mustRegister(t, f, k, principal(u, sess))
	k.dev.Options.UserNotVerified = true
	_, err = k.signIn(t, f, u.ID)
	wantCode(t, "sign-in without UV", err, latchkey.EInvalidCredentials)
	k.dev.Options = vwa.AuthenticatorOptions{UserNotPresent: true}
	_, err = k.signIn(t, f, u.ID)
	wantCode(t, "sign-in without UP", err, latchkey.EInvalidCredentials)
	got := f.auditReasons(t, latchkey.AuditLoginFailed)
	if got["failure passkey_user_not_verified"] != 1 || got["failure passkey_user_not_present"] != 1 {
		t.Errorf("audit: %v", got)
	}
}

// PK-02: backup flags change over a synced passkey's life and are
// recorded, never a lock-out (supabase/auth#2732): BE appearing after
// registration (iCloud Keychain before its first sync), BS going both
// ways, even BE disappearing; BE once seen stays recorded.
func TestPasskeyBackupFlagsChange(t *testing.T) {
	f := passkeyFixture(t)
	u, sess := f.user(t, "flags@example.com")
	k := newSoftKey(vwa.AuthenticatorOptions{})
	pk := mustRegister(t, f, k, principal(u, sess))
	steps := []struct {
		be, bs         bool
		wantBE, wantBS bool
		amr, change    string
	}{
		{true, false, true, false, "swk", "backup_eligible false->true"},
		{true, true, true, true, "swk", "backed_up false->true"},
		{true, false, true, false, "swk", "backed_up true->false"},
		{false, false, true, false, "swk", ""}, // BE disappears: accepted, still swk
	}
	for i, s := range steps {
		k.dev.Options.BackupEligible, k.dev.Options.BackupState = s.be, s.bs
		if _, err := k.signIn(t, f, u.ID); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		got := f.passkey(t, k)
		if *got.BackupEligible != s.wantBE || *got.BackedUp != s.wantBS {
			t.Errorf("step %d: stored BE %v BS %v", i, *got.BackupEligible, *got.BackedUp)
		}
	}
	changes := f.auditReasons(t, latchkey.AuditPasskeyFlagsChanged)
	for _, s := range steps {
		if s.change != "" && changes["success passkey "+pk.ID+": "+s.change] != 1 {
			t.Errorf("flags audit lacks %q: %v", s.change, changes)
		}
	}
	if got := f.auditReasons(t, latchkey.AuditPasskeySignIn); got["success passkey "+pk.ID+" swk"] != 4 {
		t.Errorf("sign-ins: %v", got)
	}
	// BS without BE is no state an authenticator can be in: refused.
	k.dev.Options.BackupEligible, k.dev.Options.BackupState = false, true
	_, err := k.signIn(t, f, u.ID)
	wantCode(t, "BS without BE", err, latchkey.EInvalidCredentials)
}

// A credential stored before latchkey kept flags has none; its next
// sign-in records them instead of refusing it.
func TestPasskeyFlagsRecordedOnUpgrade(t *testing.T) {
	f := passkeyFixture(t)
	u, _ := f.user(t, "legacy@example.com")
	k := newSoftKey(vwa.AuthenticatorOptions{BackupEligible: true, BackupState: true})
	k.cred.Counter = 0
	legacy := &latchkey.Passkey{ID: latchkey.NewID(f.clock.Now()), UserID: u.ID, CredentialID: k.cred.ID,
		PublicKey: k.cred.Key.AttestationData(), AAGUID: k.dev.Aaguid[:], AttestationType: "none", Name: "Old", CreatedAt: f.clock.Now()}
	if err := f.db.CreatePasskey(t.Context(), legacy); err != nil {
		t.Fatal(err)
	}
	if _, err := k.signIn(t, f, u.ID); err != nil {
		t.Fatal(err)
	}
	got := f.passkey(t, k)
	if got.BackupEligible == nil || !*got.BackupEligible || got.BackedUp == nil || !*got.BackedUp {
		t.Fatalf("flags after the upgrade: %v %v", got.BackupEligible, got.BackedUp)
	}
	if c := f.auditReasons(t, latchkey.AuditPasskeyFlagsChanged); c["success passkey "+legacy.ID+": backup_eligible unknown->true, backed_up unknown->true"] != 1 {
		t.Errorf("flags audit: %v", c)
	}
}

func TestPasskeySignInRefusals(t *testing.T) {
	f := passkeyFixture(t)
	u, sess := f.user(t, "off@example.com")
	k := newSoftKey(vwa.AuthenticatorOptions{})
	pk := mustRegister(t, f, k, principal(u, sess))

	// A disabled account.
	disabled := true
	if _, err := f.db.UpdateUser(t.Context(), u.ID, latchkey.UserPatch{Disabled: &disabled, UpdatedAt: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	k.cred.Counter = 1
	_, err := k.signIn(t, f, u.ID)
	wantCode(t, "a disabled account", err, latchkey.EInvalidCredentials)
	disabled = false
	if _, err := f.db.UpdateUser(t.Context(), u.ID, latchkey.UserPatch{Disabled: &disabled, UpdatedAt: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	// Garbage, and JSON no browser sends.
	for _, body := range []string{`{`, `{"id":"a","id":"b"}`, `{"id":"AAAA","type":"public-key","response":{}}`, `[]`} {
		_, err = f.svc.PasskeySignIn(t.Context(), []byte(body), auth.Meta{})
		wantCode(t, body, err, latchkey.EInvalidRequest)
	}
	_, err = f.svc.PasskeySignIn(t.Context(), []byte(`{"x":"`+strings.Repeat("a", auth.MaxPasskeyResponseBytes)+`"}`), auth.Meta{})
	wantCode(t, "an oversized body", err, latchkey.EPayloadTooLarge)

	// A removed passkey signs in no more.
	p := principal(u, sess)
	wantCode(t, "removing another's", f.svc.RemovePasskey(t.Context(), principal(f.passwordUser(t, "x@example.com"), sess), pk.ID, auth.Meta{}),
		latchkey.ENotFound)
	if err := f.svc.RemovePasskey(t.Context(), p, pk.ID, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "removing twice", f.svc.RemovePasskey(t.Context(), p, pk.ID, auth.Meta{}), latchkey.ENotFound)
	k.cred.Counter = 2
	_, err = k.signIn(t, f, u.ID)
	wantCode(t, "a removed passkey", err, latchkey.EInvalidCredentials)
	got := f.auditReasons(t, latchkey.AuditLoginFailed)
	if got["failure disabled"] != 1 || got["failure passkey_unknown"] != 1 {
		t.Errorf("audit: %v", got)
	}
	if got := f.auditReasons(t, latchkey.AuditPasskeyRemoved); got["success passkey "+pk.ID] != 1 {
		t.Errorf("removal audit: %v", got)
	}
}

func TestPasskeyLimitsAndNames(t *testing.T) {
	f := passkeyFixture(t)
	u, sess := f.user(t, "many@example.com")
	p := principal(u, sess)
	var last *latchkey.Passkey
	for range auth.MaxPasskeysPerUser {
		f.clock.Advance(time.Second)
		last = mustRegister(t, f, newSoftKey(vwa.AuthenticatorOptions{}), p)
	}
	_, err := f.svc.BeginPasskeyRegistration(t.Context(), p, "", auth.Meta{})
	wantCode(t, "one passkey too many", err, latchkey.EConflict)

	// Names: cleaned, bounded, renamable only by the owner.
	for _, bad := range []string{strings.Repeat("n", auth.MaxPasskeyNameLength+1), "tab\there", "rtl\u202eevil"} {
		wantCode(t, "name "+bad, f.svc.RenamePasskey(t.Context(), p, last.ID, bad, auth.Meta{}), latchkey.EInvalidRequest)
	}
	if err := f.svc.RenamePasskey(t.Context(), p, last.ID, "  Work phone ", auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	list, err := f.svc.ListPasskeys(t.Context(), u.ID)
	if err != nil || len(list) != auth.MaxPasskeysPerUser || list[0].ID != last.ID || list[0].Name != "Work phone" || list[1].Name != "My key" {
		t.Fatalf("list: %v %+v", err, list[:2])
	}
	other, osess := f.user(t, "other@example.com")
	wantCode(t, "renaming another's", f.svc.RenamePasskey(t.Context(), principal(other, osess), last.ID, "mine", auth.Meta{}), latchkey.ENotFound)
}

func TestPasskeysOff(t *testing.T) {
	f := newFixture(t)
	u, sess := f.user(t, "nokeys@example.com")
	if f.svc.PasskeysEnabled() {
		t.Fatal("passkeys on without a relying party")
	}
	_, err := f.svc.BeginPasskeyRegistration(t.Context(), principal(u, sess), "", auth.Meta{})
	wantCode(t, "register", err, latchkey.ENotFound)
	_, err = f.svc.BeginPasskeySignIn(t.Context(), auth.Meta{})
	wantCode(t, "sign in", err, latchkey.ENotFound)
	_, err = f.svc.PasskeySignIn(t.Context(), []byte(`{}`), auth.Meta{})
	wantCode(t, "finish", err, latchkey.ENotFound)
}

// A signed-in user confirms it's them with a passkey instead of a
// password: the session is fresh again, and steps up to aal2.
func TestPasskeyReauthentication(t *testing.T) {
	f := passkeyFixture(t)
	u, sess := f.user(t, "again@example.com")
	k := newSoftKey(vwa.AuthenticatorOptions{BackupEligible: true})
	pk := mustRegister(t, f, k, principal(u, sess))
	f.clock.Advance(time.Hour)
	p := principal(u, sess)
	p.AMR = []string{"pwd"}

	reauth := func(k *softKey, starter, finisher *auth.Principal) error {
		options, err := f.svc.BeginPasskeyReauthentication(t.Context(), starter, auth.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		o, err := vwa.ParseAssertionOptions(string(options))
		if err != nil || len(o.AllowCredentials) != 1 || o.AllowCredentials[0] != base64.RawURLEncoding.EncodeToString(pk.CredentialID) {
			t.Fatalf("request options %s: %v", options, err)
		}
		k.cred.Counter++
		return f.svc.ReauthenticateWithPasskey(t.Context(), finisher, []byte(vwa.CreateAssertionResponse(k.rp, k.dev, k.cred, *o)), auth.Meta{})
	}
	if err := reauth(k, p, p); err != nil {
		t.Fatal(err)
	}
	got, err := f.db.SessionByID(t.Context(), sess.ID)
	if err != nil || !got.AuthTime.Equal(f.clock.Now().Truncate(time.Microsecond)) || !slices.Equal(got.AMR, []string{"pwd", "swk", "mfa"}) {
		t.Fatalf("session after the passkey: %v %+v", err, got)
	}
	if r := f.auditReasons(t, latchkey.AuditReauthenticated); r["success passkey "+pk.ID+" swk"] != 1 {
		t.Errorf("audit: %v", r)
	}

	// Another session cannot finish it; another user's passkey does not
	// confirm this user; a counter that went back is refused.
	other := f.session(t, u)
	wantCode(t, "another session", reauth(k, p, principal(u, other)), latchkey.EInvalidCredentials)
	v, vsess := f.user(t, "someone@example.com")
	theirs := newSoftKey(vwa.AuthenticatorOptions{})
	mustRegister(t, f, theirs, principal(v, vsess))
	wantCode(t, "another user's passkey", reauth(theirs, p, p), latchkey.EInvalidCredentials)
	k.cred.Counter = 0
	wantCode(t, "a counter that went back", reauth(k, p, p), latchkey.EInvalidCredentials)
	r := f.auditReasons(t, latchkey.AuditReauthenticated)
	if r["failure passkey_challenge"] != 1 || r["failure passkey_unknown"] != 1 || r["failure passkey_counter"] != 1 {
		t.Errorf("refusals: %v", r)
	}

	// Without a passkey there is nothing to confirm with.
	w, wsess := f.user(t, "nokey@example.com")
	_, err = f.svc.BeginPasskeyReauthentication(t.Context(), principal(w, wsess), auth.Meta{})
	wantCode(t, "no passkey", err, latchkey.EInvalidRequest)
}

// After a password, a passkey serves as the second factor of an account
// with two-step sign-in: the challenge offers it, the sign-in completes
// with it (aal2), and the mfa_token's rules hold (single use, attempts
// charged, bound to its sign-in).
func TestPasskeyAsSecondFactor(t *testing.T) {
	f := passkeyFixture(t)
	m := enrolled(t, f, "both@example.com")
	k := newSoftKey(vwa.AuthenticatorOptions{})
	pk := mustRegister(t, f, k, principal(m.u, m.sess))

	ch := challenge(t, f, "both@example.com")
	if !slices.Equal(ch.Factors, []string{auth.FactorTOTP, auth.FactorRecoveryCode, auth.FactorPasskey}) {
		t.Fatalf("factors: %v", ch.Factors)
	}
	second := func(ch *auth.MFAChallenge, k *softKey) (*auth.Tokens, error) {
		options, err := f.svc.BeginMFAPasskey(t.Context(), ch.Token.Reveal(), auth.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		o, err := vwa.ParseAssertionOptions(string(options))
		if err != nil || len(o.AllowCredentials) != 1 {
			t.Fatalf("options %s: %v", options, err)
		}
		k.cred.Counter++
		return f.svc.MFAPasskey(t.Context(), ch.Token.Reveal(), []byte(vwa.CreateAssertionResponse(k.rp, k.dev, k.cred, *o)), auth.Meta{})
	}
	tok, err := second(ch, k)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := f.tokens.Verify(tok.AccessToken.Reveal())
	if err != nil || !slices.Equal(claims.AMR, []string{"pwd", "hwk", "mfa"}) || claims.ACR != "aal2" {
		t.Fatalf("tokens after the passkey: %+v %v", claims, err)
	}
	if r := f.auditReasons(t, latchkey.AuditMFAVerified); r["success passkey "+pk.ID+" hwk"] != 1 {
		t.Errorf("audit: %v", r)
	}
	// The mfa_token is spent.
	_, err = f.svc.BeginMFAPasskey(t.Context(), ch.Token.Reveal(), auth.Meta{})
	wantCode(t, "a spent mfa_token", err, latchkey.EInvalidGrant)

	// Someone else's passkey is no second factor for this account, and a
	// WebAuthn challenge of one sign-in does not serve another.
	v, vsess := f.user(t, "stranger@example.com")
	theirs := newSoftKey(vwa.AuthenticatorOptions{})
	mustRegister(t, f, theirs, principal(v, vsess))
	ch = challenge(t, f, "both@example.com")
	_, err = second(ch, theirs)
	wantCode(t, "another user's passkey", err, latchkey.EInvalidMFACode)
	first := challenge(t, f, "both@example.com")
	options, _ := f.svc.BeginMFAPasskey(t.Context(), first.Token.Reveal(), auth.Meta{})
	o, _ := vwa.ParseAssertionOptions(string(options))
	k.cred.Counter++
	other := challenge(t, f, "both@example.com")
	_, err = f.svc.MFAPasskey(t.Context(), other.Token.Reveal(), []byte(vwa.CreateAssertionResponse(k.rp, k.dev, k.cred, *o)), auth.Meta{})
	wantCode(t, "another sign-in's WebAuthn challenge", err, latchkey.EInvalidMFACode)
	// Refusals charge the mfa_token's attempts: four more and it is dead.
	for range 4 {
		_, err = second(ch, theirs)
		wantCode(t, "a wrong passkey", err, latchkey.EInvalidMFACode)
	}
	_, err = f.svc.BeginMFAPasskey(t.Context(), ch.Token.Reveal(), auth.Meta{})
	wantCode(t, "a challenge out of attempts", err, latchkey.EInvalidGrant)
	if r := f.auditReasons(t, latchkey.AuditMFAFailed); r["failure passkey_unknown"] != 5 || r["failure passkey_challenge"] != 1 {
		t.Errorf("failures: %v", r)
	}
}

// A user whose role requires a second factor keeps at least one: the last
// passkey goes only once an authenticator app is there.
func TestPasskeyLastFactorOfRequiredRole(t *testing.T) {
	f := newFixture(t, func(c *auth.Config) {
		c.Passkeys = auth.PasskeyConfig{RPID: rpID, Origins: []string{rpOrigin}}
		c.MFA.RequiredRoles = []string{latchkey.RoleAdmin}
	})
	admin, sess := f.user(t, "root@example.com", latchkey.RoleAdmin)
	p := principal(admin, sess)
	one := mustRegister(t, f, newSoftKey(vwa.AuthenticatorOptions{}), p)
	f.clock.Advance(time.Second)
	two := mustRegister(t, f, newSoftKey(vwa.AuthenticatorOptions{}), p)
	if err := f.svc.RemovePasskey(t.Context(), p, one.ID, auth.Meta{}); err != nil {
		t.Fatalf("removing one of two: %v", err)
	}
	wantCode(t, "removing the last", f.svc.RemovePasskey(t.Context(), p, two.ID, auth.Meta{}), latchkey.EConflict)
	if list, _ := f.svc.ListPasskeys(t.Context(), admin.ID); len(list) != 1 {
		t.Fatalf("the refused removal removed it: %v", list)
	}
	// With an authenticator app, the last passkey may go.
	e, err := f.svc.EnrollTOTP(t.Context(), p, "phone", auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ConfirmTOTP(t.Context(), p, e.Factor.ID, codeAt(t, e.Secret.Base32(), f.clock.Now()), auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RemovePasskey(t.Context(), p, two.ID, auth.Meta{}); err != nil {
		t.Fatalf("the last passkey beside an app: %v", err)
	}
	// A role that needs no second factor removes its last passkey freely.
	u, usess := f.user(t, "plain@example.com")
	pk := mustRegister(t, f, newSoftKey(vwa.AuthenticatorOptions{}), principal(u, usess))
	if err := f.svc.RemovePasskey(t.Context(), principal(u, usess), pk.ID, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
}

// A passkey is a way to reach aal2 (HasSecondFactor), but it does not turn
// on the second step of a password sign-in (HasMFA): that is the
// authenticator app's switch, as docs/mfa.md says.
func TestPasskeyIsASecondFactorButNotTheSecondStep(t *testing.T) {
	f := passkeyFixture(t)
	u, sess := f.user(t, "pk2@example.com")
	has := func(fn func(context.Context, string) (bool, error)) bool {
		t.Helper()
		ok, err := fn(t.Context(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if has(f.svc.HasSecondFactor) || has(f.svc.HasMFA) {
		t.Fatal("a user with nothing has a second factor")
	}
	mustRegister(t, f, newSoftKey(vwa.AuthenticatorOptions{}), principal(u, sess))
	if !has(f.svc.HasSecondFactor) {
		t.Fatal("a passkey is not counted as a way to aal2")
	}
	if has(f.svc.HasMFA) {
		t.Fatal("a passkey alone turned on the password sign-in's second step")
	}
}
