package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
)

func TestEmailChange(t *testing.T) {
	f := newFixture(t)
	u, sess := f.user(t, "ada@example.com")
	p := principal(u, sess)
	if err := f.svc.RequestEmailChange(t.Context(), p, "Ada.New@Example.com", auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	byKind := map[string]sentMail{}
	for _, m := range f.mails(t) {
		byKind[m.Kind+" "+m.To] = m
	}
	confirm, ok1 := byKind["email-change ada.new@example.com"]
	notice, ok2 := byKind["email-change-notice ada@example.com"]
	if len(byKind) != 2 || !ok1 || !ok2 {
		t.Fatalf("mails %v", byKind)
	}
	if !strings.HasPrefix(confirm.Link, testPublicURL+auth.PageConfirmEmail+"?token=") || confirm.Code == "" ||
		!strings.HasPrefix(notice.Link, testPublicURL+auth.PageCancelEmailChange+"?token=") || !strings.Contains(notice.Text, "ada.new@example.com") {
		t.Fatalf("links %q %q", confirm.Link, notice.Link)
	}
	if f.reload(t, u.ID).Email != "ada@example.com" {
		t.Fatal("the address changed before confirmation")
	}
	// Another account cannot spend it, and the token survives the try.
	bob, bobSess := f.user(t, "bob@example.com")
	_, err := f.svc.ConfirmEmailChange(t.Context(), principal(bob, bobSess), auth.EmailProof{Token: confirm.Token}, auth.Meta{})
	wantCode(t, "bob confirming ada's change", err, latchkey.EInvalidGrant)
	changed, err := f.svc.ConfirmEmailChange(t.Context(), p, auth.EmailProof{Email: "ada.new@example.com", Code: confirm.Code}, auth.Meta{})
	if err != nil || changed.Email != "ada.new@example.com" || !changed.EmailVerified() {
		t.Fatalf("confirm: %v %+v", err, changed)
	}
	if f.auditReasons(t, latchkey.AuditEmailChanged)["success "] != 1 || f.auditReasons(t, latchkey.AuditEmailChangeRequested)["success "] != 1 {
		t.Error("not audited")
	}
	_, err = f.svc.ConfirmEmailChange(t.Context(), p, auth.EmailProof{Token: confirm.Token}, auth.Meta{})
	wantCode(t, "the link after the code", err, latchkey.EInvalidGrant)

	// A second change while the old address can still undo the first would
	// mail its notice to the new address and void the old one's cancel
	// link: it is refused, and the cancel link keeps working.
	wantCode(t, "a second change at once", f.svc.RequestEmailChange(t.Context(), p, "third@example.com", auth.Meta{}), latchkey.EConflict)
	if n := len(f.mails(t)); n != 0 {
		t.Errorf("the refused change mailed %d messages", n)
	}

	// "This wasn't me", after the change: back to the old address, every
	// session ended.
	if err := f.svc.CancelEmailChange(t.Context(), notice.Token, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	if got := f.reload(t, u.ID).Email; got != "ada@example.com" || !f.revoked(t, sess.ID) {
		t.Errorf("after cancel: address %s, session revoked %v", got, f.revoked(t, sess.ID))
	}
	wantCode(t, "cancel twice", f.svc.CancelEmailChange(t.Context(), notice.Token, auth.Meta{}), latchkey.EInvalidGrant)

	// Once the old address has used its link, nothing is left to protect:
	// a new change may start.
	f.clock.Advance(time.Second)
	u = f.reload(t, u.ID)
	if err := f.svc.RequestEmailChange(t.Context(), principal(u, f.session(t, u)), "fourth@example.com", auth.Meta{}); err != nil {
		t.Errorf("a change after the cancel: %v", err)
	}
}

func TestEmailChangeCancelBeforeConfirm(t *testing.T) {
	f := newFixture(t)
	u, sess := f.user(t, "ada@example.com")
	if err := f.svc.RequestEmailChange(t.Context(), principal(u, sess), "evil@example.com", auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	var confirm, notice sentMail
	for _, m := range f.mails(t) {
		if m.Kind == "email-change" {
			confirm = m
		} else {
			notice = m
		}
	}
	if err := f.svc.CancelEmailChange(t.Context(), notice.Token, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	if !f.revoked(t, sess.ID) {
		t.Error("the session survived the cancel")
	}
	sess2 := f.session(t, u)
	_, err := f.svc.ConfirmEmailChange(t.Context(), principal(u, sess2), auth.EmailProof{Token: confirm.Token}, auth.Meta{})
	wantCode(t, "confirming a cancelled change", err, latchkey.EInvalidGrant)
}

// TestEmailChangeToTakenAddress: the same answer as for a free address; no
// confirmation goes out (the owner of the taken address learns nothing),
// the old address still gets its notice; a change confirmed after the
// address was taken meanwhile is refused.
func TestEmailChangeToTakenAddress(t *testing.T) {
	f := newFixture(t)
	u, sess := f.user(t, "ada@example.com")
	f.user(t, "bob@example.com")
	if err := f.svc.RequestEmailChange(t.Context(), principal(u, sess), "bob@example.com", auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	f.oneMail(t, "email-change-notice", "ada@example.com")

	if err := f.svc.RequestEmailChange(t.Context(), principal(u, sess), "carol@example.com", auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	var confirm sentMail
	for _, m := range f.mails(t) {
		if m.Kind == "email-change" {
			confirm = m
		}
	}
	f.user(t, "carol@example.com")
	_, err := f.svc.ConfirmEmailChange(t.Context(), principal(u, sess), auth.EmailProof{Token: confirm.Token}, auth.Meta{})
	wantCode(t, "an address taken meanwhile", err, latchkey.EInvalidGrant)
	if f.reload(t, u.ID).Email != "ada@example.com" {
		t.Error("changed")
	}
	wantCode(t, "the current address", f.svc.RequestEmailChange(t.Context(), principal(u, sess), "ADA@example.com", auth.Meta{}), latchkey.EInvalidRequest)
}

func TestEmailSignIn(t *testing.T) {
	f := newFixture(t)
	u := f.passwordUser(t, "ada@example.com")
	for _, addr := range []string{"nobody@example.com", "ada@example.com"} {
		if err := f.svc.StartEmailSignIn(t.Context(), addr, auth.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	m := f.oneMail(t, "sign-in", "ada@example.com")
	if !strings.HasPrefix(m.Link, testPublicURL+auth.PageEmailSignIn+"?token=") || !strings.Contains(m.Text, "15 minutes") {
		t.Errorf("mail %s", m.Text)
	}
	tok, err := f.svc.VerifyEmailSignIn(t.Context(), auth.EmailProof{Email: "ada@example.com", Code: m.Code}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := f.tokens.Verify(tok.AccessToken.Reveal()); err != nil || c.Subject != u.ID || !c.EmailVerified {
		t.Errorf("token: %+v %v", c, err)
	}
	if !f.reload(t, u.ID).EmailVerified() || f.auditReasons(t, latchkey.AuditEmailSignIn)["success "] != 1 {
		t.Error("not verified, or not audited")
	}
	_, err = f.svc.VerifyEmailSignIn(t.Context(), auth.EmailProof{Token: m.Token}, auth.Meta{})
	wantCode(t, "the link after the code", err, latchkey.EInvalidGrant)

	// Expiry, and a reset voids a pending sign-in mail.
	_ = f.svc.StartEmailSignIn(t.Context(), "ada@example.com", auth.Meta{})
	late := f.oneMail(t, "sign-in", "ada@example.com")
	f.clock.Advance(auth.EmailSignInTTL)
	_, err = f.svc.VerifyEmailSignIn(t.Context(), auth.EmailProof{Token: late.Token}, auth.Meta{})
	wantCode(t, "after 15 minutes", err, latchkey.EInvalidGrant)
}

func TestEmailSignInOff(t *testing.T) {
	f := newFixture(t, func(c *auth.Config) { c.Email.SignIn = false })
	f.passwordUser(t, "ada@example.com")
	wantCode(t, "start", f.svc.StartEmailSignIn(t.Context(), "ada@example.com", auth.Meta{}), latchkey.ENotFound)
	_, err := f.svc.VerifyEmailSignIn(t.Context(), auth.EmailProof{Email: "ada@example.com", Code: "12345678"}, auth.Meta{})
	wantCode(t, "verify", err, latchkey.ENotFound)
	if len(f.mails(t)) != 0 {
		t.Error("mail sent")
	}
}

func TestAdminSetsEmailVerified(t *testing.T) {
	f := newFixture(t)
	u := f.passwordUser(t, "ada@example.com")
	yes, no := true, false
	got, err := f.svc.UpdateUser(t.Context(), u.ID, auth.UserChanges{EmailVerified: &yes}, auth.Actor{})
	if err != nil || !got.EmailVerified() || !f.reload(t, u.ID).EmailVerified() {
		t.Fatalf("set: %v", err)
	}
	if got, err = f.svc.UpdateUser(t.Context(), u.ID, auth.UserChanges{EmailVerified: &no}, auth.Actor{}); err != nil || got.EmailVerified() {
		t.Fatalf("clear: %v", err)
	}
	if n := f.auditReasons(t, latchkey.AuditUserUpdated)["success changed email_verified; by the command line"]; n != 2 {
		t.Errorf("audited %d times: %v", n, f.auditReasons(t, latchkey.AuditUserUpdated))
	}
}
