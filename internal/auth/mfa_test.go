package auth_test

import (
	"bytes"
	"encoding/base32"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/mfa"
)

// codeAt is the TOTP code of secret at t, by the pquerna/otp library (the
// end-to-end tests use oathtool).
func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mfaUser is an account with one active authenticator: its secret, its
// first recovery codes, and the (single-factor) session that enrolled it.
type mfaUser struct {
	u        *latchkey.User
	sess     *latchkey.Session
	secret   string
	recovery []string
}

// enrolled signs up email and adds an authenticator from a fresh session;
// the clock then moves to the next time step, so that the enrollment code
// is spent and a new one exists.
func enrolled(t *testing.T, f *fixture, email string) *mfaUser {
	t.Helper()
	ctx := t.Context()
	u, sess := f.user(t, email)
	p := principal(u, sess)
	e, err := f.svc.EnrollTOTP(ctx, p, "phone", auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.svc.ConfirmTOTP(ctx, p, e.Factor.ID, codeAt(t, e.Secret.Base32(), f.clock.Now()), auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(mfa.Period)
	return &mfaUser{u: u, sess: sess, secret: e.Secret.Base32(), recovery: c.RecoveryCodes}
}

func (m *mfaUser) code(t *testing.T, f *fixture) string { return codeAt(t, m.secret, f.clock.Now()) }

// challenge signs in with the password and returns the challenge.
func challenge(t *testing.T, f *fixture, email string) *auth.MFAChallenge {
	t.Helper()
	tok, err := f.svc.Login(t.Context(), email, oldPassword, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Challenge == nil || tok.AccessToken != "" || tok.RefreshToken != "" || tok.Session != nil {
		t.Fatalf("login of an MFA user: %+v", tok)
	}
	return tok.Challenge
}

func verify(f *fixture, t *testing.T, ch *auth.MFAChallenge, p auth.MFAProof) (*auth.Tokens, error) {
	return f.svc.VerifyMFA(t.Context(), ch.Token.Reveal(), p, auth.Meta{})
}

// MF-01, MF-04: enrollment, sign-in with the second step, and every code
// and token working once.
func TestMFAEnrollAndSignIn(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	u, sess := f.user(t, "ada@example.com")
	p := principal(u, sess)
	e, err := f.svc.EnrollTOTP(ctx, p, "", auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Secret.Bytes()) != mfa.SecretBytes || e.Factor.Confirmed() || e.Factor.Name != "Authenticator app" ||
		e.QRSVG == "" || e.URI != mfa.URI("latchkey", u.Email, e.Secret) {
		t.Errorf("enrollment %+v", e)
	}
	stored, err := f.db.ListTOTPFactors(ctx, u.ID)
	if err != nil || len(stored) != 1 || bytes.Equal(e.Secret.Bytes(), stored[0].SealedSecret) {
		t.Fatalf("stored %+v %v", stored, err)
	}
	// Unconfirmed, it asks nothing at sign-in.
	if tok, err := f.svc.Login(ctx, u.Email, oldPassword, auth.Meta{}); err != nil || tok.Challenge != nil {
		t.Fatalf("login with a pending factor: %+v %v", tok, err)
	}
	_, err = f.svc.ConfirmTOTP(ctx, p, e.Factor.ID, "000000", auth.Meta{})
	if codeAt(t, e.Secret.Base32(), f.clock.Now()) != "000000" {
		wantCode(t, "a wrong first code", err, latchkey.EInvalidMFACode)
	}
	enrollCode := codeAt(t, e.Secret.Base32(), f.clock.Now())
	c, err := f.svc.ConfirmTOTP(ctx, p, e.Factor.ID, enrollCode[:3]+" "+enrollCode[3:], auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.RecoveryCodes) != mfa.RecoveryCodeCount || !c.Factor.Confirmed() {
		t.Errorf("confirmation %+v", c)
	}
	_, err = f.svc.ConfirmTOTP(ctx, p, e.Factor.ID, enrollCode, auth.Meta{})
	wantCode(t, "confirming twice", err, latchkey.ENotFound)

	// The enrollment code cannot sign in (its step is spent).
	ch := challenge(t, f, u.Email)
	if !slices.Equal(ch.Factors, []string{"totp", "recovery_code"}) || !ch.ExpiresAt.Equal(f.clock.Now().UTC().Add(5*time.Minute)) {
		t.Errorf("challenge %+v", ch)
	}
	_, err = verify(f, t, ch, auth.MFAProof{Code: enrollCode})
	wantCode(t, "the enrollment code at sign-in", err, latchkey.EInvalidMFACode)
	f.clock.Advance(mfa.Period)
	code := codeAt(t, e.Secret.Base32(), f.clock.Now())
	tok, err := verify(f, t, ch, auth.MFAProof{Code: code})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := f.tokens.Verify(tok.AccessToken.Reveal())
	if err != nil || !slices.Equal(claims.AMR, []string{"pwd", "otp", "mfa"}) || claims.ACR != "aal2" || tok.RefreshToken == "" {
		t.Errorf("tokens %+v %v", claims, err)
	}
	// login.succeeded: the sign-in with a pending factor, and this one
	// once complete (not when challenged).
	if f.auditReasons(t, latchkey.AuditLoginSucceeded)["success "] != 2 || f.auditReasons(t, latchkey.AuditMFAVerified)["success totp"] != 1 ||
		f.auditReasons(t, latchkey.AuditMFAChallenged)["success pwd"] != 1 {
		t.Errorf("sign-in not audited as it happened: %v %v %v", f.auditReasons(t, latchkey.AuditLoginSucceeded),
			f.auditReasons(t, latchkey.AuditMFAVerified), f.auditReasons(t, latchkey.AuditMFAChallenged))
	}
	// The same token again; the same code on a new challenge.
	_, err = verify(f, t, ch, auth.MFAProof{Code: code})
	wantCode(t, "the mfa_token twice", err, latchkey.EInvalidGrant)
	_, err = verify(f, t, challenge(t, f, u.Email), auth.MFAProof{Code: code})
	wantCode(t, "a replayed code", err, latchkey.EInvalidMFACode)

	// A refresh keeps aal2.
	f.clock.Advance(time.Minute)
	r, err := f.svc.Refresh(ctx, tok.RefreshToken.Reveal(), auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := f.tokens.Verify(r.AccessToken.Reveal()); c == nil || c.ACR != "aal2" {
		t.Error("a refresh lost the second factor")
	}
}

// MF-02: ±1 step of drift; a code one step old is accepted once; and not a
// code older than one that was accepted.
func TestMFACodeDrift(t *testing.T) {
	f := newFixture(t)
	m := enrolled(t, f, "ada@example.com")
	// The step before enrolled's clock is the enrollment's, spent: move
	// on one more, so that the step before is a fresh one.
	_, err := verify(f, t, challenge(t, f, m.u.Email), auth.MFAProof{Code: codeAt(t, m.secret, f.clock.Now().Add(-mfa.Period))})
	wantCode(t, "the enrollment step", err, latchkey.EInvalidMFACode)
	f.clock.Advance(mfa.Period)
	old := codeAt(t, m.secret, f.clock.Now().Add(-mfa.Period))
	if _, err := verify(f, t, challenge(t, f, m.u.Email), auth.MFAProof{Code: old}); err != nil {
		t.Fatalf("a code one step old: %v", err)
	}
	_, err = verify(f, t, challenge(t, f, m.u.Email), auth.MFAProof{Code: old})
	wantCode(t, "the one-step-old code again", err, latchkey.EInvalidMFACode)
	next := codeAt(t, m.secret, f.clock.Now().Add(mfa.Period))
	if _, err := verify(f, t, challenge(t, f, m.u.Email), auth.MFAProof{Code: next}); err != nil {
		t.Fatalf("a code one step ahead: %v", err)
	}
	// The current step is now older than the last accepted one.
	_, err = verify(f, t, challenge(t, f, m.u.Email), auth.MFAProof{Code: m.code(t, f)})
	wantCode(t, "a code older than an accepted one", err, latchkey.EInvalidMFACode)
	_, err = verify(f, t, challenge(t, f, m.u.Email), auth.MFAProof{Code: codeAt(t, m.secret, f.clock.Now().Add(-2*mfa.Period))})
	wantCode(t, "two steps old", err, latchkey.EInvalidMFACode)
}

// MF-02, MF-04: five codes per challenge, five minutes.
func TestMFAChallengeLimits(t *testing.T) {
	f := newFixture(t)
	m := enrolled(t, f, "ada@example.com")
	ch := challenge(t, f, m.u.Email)
	wrong := "123456"
	if wrong == m.code(t, f) {
		wrong = "654321"
	}
	for i := 1; i <= auth.MaxMFAAttempts; i++ {
		_, err := verify(f, t, ch, auth.MFAProof{Code: wrong})
		wantCode(t, "a wrong code", err, latchkey.EInvalidMFACode)
	}
	_, err := verify(f, t, ch, auth.MFAProof{Code: m.code(t, f)})
	wantCode(t, "the right code after five wrong ones", err, latchkey.EInvalidGrant)
	if f.auditReasons(t, latchkey.AuditMFAFailed)["failure wrong_totp"] != auth.MaxMFAAttempts {
		t.Error("wrong codes not audited")
	}

	// Four wrong, then right: fine.
	ch = challenge(t, f, m.u.Email)
	for range auth.MaxMFAAttempts - 1 {
		_, _ = verify(f, t, ch, auth.MFAProof{Code: wrong})
	}
	if _, err := verify(f, t, ch, auth.MFAProof{Code: m.code(t, f)}); err != nil {
		t.Fatalf("the fifth attempt, right: %v", err)
	}

	// Expiry.
	f.clock.Advance(mfa.Period)
	ch = challenge(t, f, m.u.Email)
	f.clock.Advance(auth.MFATokenTTL)
	_, err = verify(f, t, ch, auth.MFAProof{Code: m.code(t, f)})
	wantCode(t, "after five minutes", err, latchkey.EInvalidGrant)
	_, err = f.svc.VerifyMFA(t.Context(), "not-a-token", auth.MFAProof{Code: m.code(t, f)}, auth.Meta{})
	wantCode(t, "an unknown token", err, latchkey.EInvalidGrant)
	_, err = verify(f, t, challenge(t, f, m.u.Email), auth.MFAProof{Code: "1", RecoveryCode: "x"})
	wantCode(t, "both proofs", err, latchkey.EInvalidRequest)
}

// MF-03: recovery codes sign in once each, are mailed about, and a new set
// voids the old; under concurrency one use wins.
func TestRecoveryCodes(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	m := enrolled(t, f, "ada@example.com")
	f.mails(t)
	tok, err := verify(f, t, challenge(t, f, m.u.Email), auth.MFAProof{RecoveryCode: " " + m.recovery[0] + " "})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := f.tokens.Verify(tok.AccessToken.Reveal()); c == nil || c.ACR != "aal2" {
		t.Error("a recovery code did not reach aal2")
	}
	notice := f.oneMail(t, "recovery-code-used", m.u.Email)
	if notice.Link != testPublicURL+"/account" || !slices.ContainsFunc([]string{notice.Text}, func(s string) bool { return len(s) > 0 }) {
		t.Errorf("notice %q", notice.Text)
	}
	if f.auditReasons(t, latchkey.AuditRecoveryUsed)["success "] != 1 {
		t.Error("not audited")
	}
	_, err = verify(f, t, challenge(t, f, m.u.Email), auth.MFAProof{RecoveryCode: m.recovery[0]})
	wantCode(t, "a spent recovery code", err, latchkey.EInvalidMFACode)
	st, err := f.svc.MFA(ctx, m.u.ID)
	if err != nil || st.RecoveryCodesLeft != mfa.RecoveryCodeCount-1 {
		t.Errorf("left %+v %v", st, err)
	}

	// Concurrent uses of one code, each on its own challenge: one wins.
	var chs []*auth.MFAChallenge
	for range 8 {
		chs = append(chs, challenge(t, f, m.u.Email))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for _, ch := range chs {
		wg.Go(func() {
			if _, err := verify(f, t, ch, auth.MFAProof{RecoveryCode: m.recovery[1]}); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !latchkey.IsCode(err, latchkey.EInvalidMFACode) {
				t.Errorf("concurrent use: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d uses of one recovery code won", wins)
	}

	// A new set needs a session that proved a factor; it voids the old set.
	_, err = f.svc.RegenerateRecoveryCodes(ctx, principal(m.u, m.sess), auth.Meta{})
	wantCode(t, "new codes from an aal1 session", err, latchkey.EInsufficientAuthentication)
	p, err := f.svc.AuthenticateAccessToken(ctx, tok.AccessToken.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := f.svc.RegenerateRecoveryCodes(ctx, p, auth.Meta{})
	if err != nil || len(fresh) != mfa.RecoveryCodeCount {
		t.Fatalf("regenerate: %v %v", fresh, err)
	}
	_, err = verify(f, t, challenge(t, f, m.u.Email), auth.MFAProof{RecoveryCode: m.recovery[2]})
	wantCode(t, "an old-set code", err, latchkey.EInvalidMFACode)
	if _, err := verify(f, t, challenge(t, f, m.u.Email), auth.MFAProof{RecoveryCode: fresh[0]}); err != nil {
		t.Errorf("a new-set code: %v", err)
	}
}

// A session steps up with a code: its amr and auth_time change, the access
// token it gets says aal2, and a wrong code changes nothing.
func TestStepUp(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	m := enrolled(t, f, "ada@example.com")
	f.clock.Advance(time.Hour)
	p := principal(m.u, m.sess)
	p.AMR = []string{"pwd"}
	_, err := f.svc.StepUp(ctx, p, auth.MFAProof{Code: "12345"}, auth.Meta{})
	wantCode(t, "a wrong code", err, latchkey.EInvalidMFACode)
	tok, err := f.svc.StepUp(ctx, p, auth.MFAProof{Code: m.code(t, f)}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.tokens.Verify(tok.AccessToken.Reveal())
	if err != nil || c.ACR != "aal2" || c.SessionID != m.sess.ID || !c.AuthTime.Equal(f.clock.Now().Truncate(time.Second)) {
		t.Errorf("step-up token %+v %v", c, err)
	}
	sess, err := f.db.SessionByID(ctx, m.sess.ID)
	if err != nil || !slices.Equal(sess.AMR, []string{"pwd", "otp", "mfa"}) {
		t.Errorf("session %+v %v", sess, err)
	}
	_, err = f.svc.StepUp(ctx, p, auth.MFAProof{Code: m.code(t, f)}, auth.Meta{})
	wantCode(t, "the step-up code again", err, latchkey.EInvalidMFACode)
	// An account without a factor has nothing to step up with.
	other, os := f.user(t, "bob@example.com")
	_, err = f.svc.StepUp(ctx, principal(other, os), auth.MFAProof{Code: "123456"}, auth.Meta{})
	wantCode(t, "no factor", err, latchkey.EConflict)
}

// MF-05: removing the last authenticator needs a code and takes the
// recovery codes along; adding another needs aal2.
func TestRemoveAndAddFactors(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	m := enrolled(t, f, "ada@example.com")
	p := principal(m.u, m.sess)
	_, err := f.svc.EnrollTOTP(ctx, p, "laptop", auth.Meta{})
	wantCode(t, "a second factor from an aal1 session", err, latchkey.EInsufficientAuthentication)
	all, _ := f.db.ListTOTPFactors(ctx, m.u.ID)
	id := all[0].ID
	wantCode(t, "removing the last without a code", f.svc.RemoveTOTP(ctx, p, id, auth.MFAProof{}, auth.Meta{}), latchkey.EInsufficientAuthentication)
	wantCode(t, "with a wrong code", f.svc.RemoveTOTP(ctx, p, id, auth.MFAProof{Code: "1"}, auth.Meta{}), latchkey.EInvalidMFACode)
	wantCode(t, "another user's", f.svc.RemoveTOTP(ctx, p, "nope", auth.MFAProof{}, auth.Meta{}), latchkey.ENotFound)

	// From an aal2 session, a second one; removing one of two needs no code.
	tok, err := verify(f, t, challenge(t, f, m.u.Email), auth.MFAProof{Code: m.code(t, f)})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := f.svc.AuthenticateAccessToken(ctx, tok.AccessToken.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	e, err := f.svc.EnrollTOTP(ctx, p2, "laptop", auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.svc.ConfirmTOTP(ctx, p2, e.Factor.ID, codeAt(t, e.Secret.Base32(), f.clock.Now()), auth.Meta{})
	if err != nil || c.RecoveryCodes != nil {
		t.Fatalf("second confirmation: %+v %v", c, err)
	}
	if err := f.svc.RemoveTOTP(ctx, p2, id, auth.MFAProof{}, auth.Meta{}); err != nil {
		t.Fatalf("removing one of two: %v", err)
	}
	// The last one goes with a recovery code, and the codes go with it.
	if err := f.svc.RemoveTOTP(ctx, p2, e.Factor.ID, auth.MFAProof{RecoveryCode: m.recovery[0]}, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	st, err := f.svc.MFA(ctx, m.u.ID)
	if err != nil || st.Active() || len(st.TOTP) != 0 || st.RecoveryCodesLeft != 0 {
		t.Errorf("after removing the last: %+v %v", st, err)
	}
	if tok, err := f.svc.Login(ctx, m.u.Email, oldPassword, auth.Meta{}); err != nil || tok.Challenge != nil {
		t.Errorf("login after MFA off: %+v %v", tok, err)
	}
	if f.auditReasons(t, latchkey.AuditTOTPRemoved)["success mfa off"] != 1 {
		t.Error("not audited")
	}

	// At most MaxTOTPFactors, pending ones included; pending ones lapse.
	for i := range auth.MaxTOTPFactors {
		if _, err := f.svc.EnrollTOTP(ctx, p2, "", auth.Meta{}); err != nil {
			t.Fatalf("enrollment %d: %v", i, err)
		}
	}
	_, err = f.svc.EnrollTOTP(ctx, p2, "", auth.Meta{})
	wantCode(t, "one too many", err, latchkey.EConflict)
	f.clock.Advance(auth.EnrollmentTTL)
	if _, err := f.svc.EnrollTOTP(ctx, p2, "", auth.Meta{}); err != nil {
		t.Errorf("after the pending ones lapsed: %v", err)
	}
}

// Every way in asks for the second factor: social login, mail, the hosted
// page; a password reset keeps MFA; an administrator's reset removes it.
func TestEveryWayInAsksForTheSecondFactor(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	m := enrolled(t, f, "ada@example.com")

	code, err := f.svc.CreateOneTimeCode(ctx, m.u.ID, "github")
	if err != nil {
		t.Fatal(err)
	}
	social, err := f.svc.ExchangeOneTimeCode(ctx, code.Reveal(), auth.Meta{})
	if err != nil || social.Challenge == nil || social.AccessToken != "" {
		t.Fatalf("social login: %+v %v", social, err)
	}
	tok, err := verify(f, t, social.Challenge, auth.MFAProof{Code: m.code(t, f)})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := f.tokens.Verify(tok.AccessToken.Reveal()); c == nil || !slices.Equal(c.AMR, []string{"fed", "otp", "mfa"}) {
		t.Errorf("social amr %v", c)
	}

	f.mails(t)
	if err := f.svc.StartEmailSignIn(ctx, m.u.Email, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	mail := f.oneMail(t, "sign-in", m.u.Email)
	b, err := f.svc.VerifyEmailSignInCookie(ctx, auth.EmailProof{Token: mail.Token}, auth.Meta{})
	if err != nil || b.Challenge == nil || b.Cookie != "" {
		t.Fatalf("mailed sign-in: %+v %v", b, err)
	}
	f.clock.Advance(mfa.Period)
	b, err = f.svc.VerifyMFABrowser(ctx, b.Challenge.Token.Reveal(), auth.MFAProof{Code: m.code(t, f)}, auth.Meta{})
	if err != nil || b.Cookie == "" || !slices.Equal(b.Session.AMR, []string{"otp", "mfa"}) {
		t.Fatalf("browser second step: %+v %v", b, err)
	}

	_, _, err = f.svc.StartCookieSession(ctx, m.u, auth.Meta{}, auth.SignInPassword)
	wantCode(t, "a cookie session without the factor", err, latchkey.EInsufficientAuthentication)
	b, err = f.svc.SignInBrowser(ctx, m.u, auth.Meta{}, auth.SignInPassword)
	if err != nil || b.Challenge == nil {
		t.Fatalf("hosted sign-in: %+v %v", b, err)
	}

	// A reset by mail changes the password, not the factors.
	if err := f.svc.ForgotPassword(ctx, m.u.Email, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	reset := f.oneMail(t, "password-reset", m.u.Email)
	if err := f.svc.ResetPassword(ctx, auth.EmailProof{Token: reset.Token}, newPassword, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	after, err := f.svc.Login(ctx, m.u.Email, newPassword, auth.Meta{})
	if err != nil || after.Challenge == nil {
		t.Fatalf("login after a reset: %+v %v", after, err)
	}

	// An administrator's reset: factors, codes and sessions gone.
	n, err := f.svc.ResetMFA(ctx, m.u.ID, auth.Actor{UserID: "admin"})
	if err != nil || n != 1 {
		t.Fatalf("reset: %d %v", n, err)
	}
	if !f.revoked(t, m.sess.ID) || !f.revoked(t, tok.Session.ID) {
		t.Error("sessions survived the reset")
	}
	_, err = verify(f, t, after.Challenge, auth.MFAProof{Code: m.code(t, f)})
	wantCode(t, "a challenge from before the reset", err, latchkey.EInvalidGrant)
	if tok, err := f.svc.Login(ctx, m.u.Email, newPassword, auth.Meta{}); err != nil || tok.Challenge != nil {
		t.Errorf("login after the reset: %+v %v", tok, err)
	}
	if f.auditReasons(t, latchkey.AuditMFAResetByAdmin)["success by admin admin"] != 1 {
		t.Error("reset not audited")
	}
}

// MF-03: the secret is sealed with the master key, bound to its row.
func TestTOTPSecretSealedAtRest(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	m := enrolled(t, f, "ada@example.com")
	all, err := f.db.ListTOTPFactors(ctx, m.u.ID)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := totpSecretBytes(m.secret)
	if err != nil || len(raw) != mfa.SecretBytes {
		t.Fatalf("secret %d bytes, %v", len(raw), err)
	}
	if len(all[0].SealedSecret) < len(raw)+16 || slices.Equal(all[0].SealedSecret[len(all[0].SealedSecret)-len(raw):], raw) {
		t.Error("the secret is stored in the clear")
	}
	for i := range all[0].SealedSecret {
		if i+len(raw) <= len(all[0].SealedSecret) && slices.Equal(all[0].SealedSecret[i:i+len(raw)], raw) {
			t.Fatal("the secret appears in the stored value")
		}
	}
}

func totpSecretBytes(b32 string) ([]byte, error) {
	return base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(b32)
}
