package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/latchkey/latchkey"
)

var errPasskeySignIn = latchkey.Errorf(latchkey.EInvalidCredentials, "The passkey could not be verified.")

// BeginPasskeySignIn starts a username-less sign-in: request options for
// navigator.credentials.get (PublicKeyCredentialRequestOptionsJSON) with
// no allowCredentials, so that the authenticator offers whichever
// discoverable passkey it holds for this site, and user verification
// required. The challenge is kept, hashed, for PasskeyChallengeTTL.
func (s *Service) BeginPasskeySignIn(ctx context.Context, m Meta) (json.RawMessage, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	assertion, _, err := rp.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	c := &latchkey.PasskeyChallenge{Hash: challengeHash(assertion.Response.Challenge), Purpose: latchkey.ChallengeSignIn,
		CreatedAt: now, ExpiresAt: now.Add(PasskeyChallengeTTL)}
	if err := s.store.CreatePasskeyChallenge(ctx, c); err != nil {
		return nil, err
	}
	return json.Marshal(assertion.Response)
}

// PasskeySignIn verifies an assertion (AuthenticationResponseJSON) for a
// challenge of BeginPasskeySignIn and starts a session: the normal token
// response. Its access token says how the user proved who they are: amr
// hwk or swk (see passkeyAMR) with mfa, acr aal2 (a passkey with user
// verification is something you have and something you know or are).
func (s *Service) PasskeySignIn(ctx context.Context, body []byte, m Meta) (*Tokens, error) {
	var st *newSession
	u, err := s.passkeySignIn(ctx, body, m, func(tx latchkey.Tx, u *latchkey.User, amr string) (err error) {
		st, err = s.startSessionTx(ctx, tx, u, m, passkeySignIn(amr))
		return err
	})
	if err != nil {
		return nil, err
	}
	s.sessionsEnded(st.ended)
	return s.tokens(u, st.sess, st.refresh)
}

// PasskeySignInCookie is PasskeySignIn for a browser on the hosted login
// page: the new session's credential is a cookie.
func (s *Service) PasskeySignInCookie(ctx context.Context, body []byte, m Meta) (latchkey.Secret, *latchkey.Session, error) {
	var c *cookieSession
	_, err := s.passkeySignIn(ctx, body, m, func(tx latchkey.Tx, u *latchkey.User, amr string) (err error) {
		// A passkey proves two factors: no second step follows.
		c, err = s.startCookieSessionTx(ctx, tx, u, m, passkeySignIn(amr), false)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	b := s.cookieSessionStarted(c, "")
	return b.Cookie, b.Session, nil
}

// passkeySignIn is how a passkey sign-in authenticates the session: the
// key (hwk or swk) and, since user verification was required, a PIN or
// biometric on the authenticator too, which makes it multi-factor (mfa,
// acr aal2). The use case writes its own audit event.
func passkeySignIn(key string) SignIn {
	return SignIn{AMR: []string{key, AMRMFA}}
}

// passkeySignIn checks an assertion and, in one transaction, records the
// passkey's use and starts the session that start creates. In order:
// the challenge is spent (once, whatever follows); the credential is
// found by its id and must belong to the user handle the authenticator
// returned; then checkAssertion and recordPasskeyUse.
func (s *Service) passkeySignIn(ctx context.Context, body []byte, m Meta,
	start func(tx latchkey.Tx, u *latchkey.User, amr string) error) (*latchkey.User, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	parsed, err := readAssertion(body)
	if err != nil {
		return nil, err
	}
	fail := func(userID, reason string) error { return s.passkeyFailed(ctx, userID, reason, m) }
	if _, err := s.spendChallenge(ctx, latchkey.ChallengeSignIn, parsed.Response.CollectedClientData.Challenge); err != nil {
		if !latchkey.IsCode(err, latchkey.EInvalidRequest) {
			return nil, err
		}
		return nil, fail("", "passkey_challenge")
	}
	pk, err := s.store.PasskeyByCredentialID(ctx, parsed.RawID)
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return nil, fail("", "passkey_unknown")
	}
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(parsed.Response.UserHandle, []byte(pk.UserID)) {
		return nil, fail(pk.UserID, "passkey_user_handle")
	}
	u, err := s.store.UserByID(ctx, pk.UserID)
	if err != nil {
		return nil, err
	}
	proof, reason := s.checkAssertion(ctx, rp, parsed, pk, u, true)
	if reason != "" {
		return nil, fail(u.ID, reason)
	}
	if u.Disabled {
		return nil, fail(u.ID, "disabled")
	}
	if s.EmailVerificationRequired() && !u.EmailVerified() {
		if err := s.Audit(ctx, latchkey.AuditEvent{Type: latchkey.AuditLoginFailed, UserID: u.ID, IP: m.IP, UserAgent: m.UserAgent,
			Outcome: latchkey.OutcomeFailure, Reason: "email_not_verified"}); err != nil {
			return nil, err
		}
		return nil, errEmailNotVerified
	}
	var refused string
	err = s.store.InTx(ctx, func(tx latchkey.Tx) error {
		var err error
		if refused, err = s.recordPasskeyUse(ctx, tx, proof, "", m); refused != "" || err != nil {
			return err
		}
		if err := start(tx, u, proof.amr); err != nil {
			return err
		}
		return s.audit(ctx, tx, latchkey.AuditPasskeySignIn, latchkey.OutcomeSuccess, "passkey "+pk.ID+" "+proof.amr, u.ID, "", m)
	})
	if err != nil {
		return nil, err
	}
	if refused != "" {
		return nil, fail(u.ID, refused)
	}
	s.events.Login("success")
	return u, nil
}

// passkeyProof is an assertion that go-webauthn verified, and what its
// use is to record.
type passkeyProof struct {
	pk  *latchkey.Passkey
	use latchkey.PasskeyUse
	amr string // hwk or swk
}

// checkAssertion verifies an assertion of pk, user u's passkey, for a
// challenge already spent (parsed carries it): go-webauthn checks the
// origin, the RP ID hash, user presence and verification and the
// signature; discoverable: the authenticator returned a user handle (a
// username-less sign-in) rather than being asked for u's credentials. It
// returns the proof, or why it was refused (a login.failed reason). The
// flags the proof records follow latchkey's policy:
//
//   - The backed-up flag (BS) changes as a synced passkey syncs, and is
//     recorded.
//   - The backup-eligible flag (BE) should never change, but real
//     authenticators flip it (iCloud Keychain before its first sync,
//     password-manager upgrades); go-webauthn would refuse such a
//     sign-in ("Backup Eligible flag inconsistency"), locking the owner
//     out (supabase/auth#2732). latchkey accepts it: the signature proves
//     the key, whatever the flag. BE, once seen, stays recorded (the key
//     may have been synced), and a credential registered before flags
//     were kept gets them now.
func (s *Service) checkAssertion(ctx context.Context, rp *relyingParty, parsed *protocol.ParsedCredentialAssertionData,
	pk *latchkey.Passkey, u *latchkey.User, discoverable bool) (*passkeyProof, string) {
	flags := parsed.Response.AuthenticatorData.Flags
	cred := webauthn.Credential{ID: pk.CredentialID, PublicKey: pk.PublicKey, AttestationType: pk.AttestationType,
		Transport: transports(pk.Transports), Authenticator: webauthn.Authenticator{AAGUID: pk.AAGUID, SignCount: pk.SignCount},
		// The library's BE check is latchkey's policy's to make (above).
		Flags: webauthn.CredentialFlags{BackupEligible: flags.HasBackupEligible()}}
	user := passkeyUser{u: u, creds: []webauthn.Credential{cred}}
	session := webauthn.SessionData{Challenge: parsed.Response.CollectedClientData.Challenge, RelyingPartyID: rp.cfg.RPID,
		UserVerification: protocol.VerificationRequired}
	var err error
	if discoverable {
		found := func(_, _ []byte) (webauthn.User, error) { return user, nil }
		_, _, err = rp.wa.ValidatePasskeyLogin(found, session, parsed)
	} else {
		session.UserID, session.AllowedCredentialIDs = user.WebAuthnID(), [][]byte{pk.CredentialID}
		_, err = rp.wa.ValidateLogin(user, session, parsed)
	}
	if err != nil {
		reason := "passkey_" + ceremonyReason(err)
		s.log.InfoContext(ctx, "passkey refused", "user_id", u.ID, "passkey_id", pk.ID, "reason", reason, "err", err)
		return nil, reason
	}
	use := latchkey.PasskeyUse{SignCount: parsed.Response.AuthenticatorData.Counter,
		BackupEligible: flags.HasBackupEligible() || (pk.BackupEligible != nil && *pk.BackupEligible),
		BackedUp:       flags.HasBackupState(), At: s.now().UTC()}
	return &passkeyProof{pk: pk, use: use, amr: passkeyAMR(use.BackupEligible)}, ""
}

// recordPasskeyUse records a verified use in tx, or says why it is
// refused (refused != "", nothing else written but the audit of a
// suspected clone):
//
//   - Counters: the new counter must be greater than the stored one, or
//     both zero (authenticators that keep no counter, such as synced
//     passkeys, always say 0). Anything else is refused and audited as a
//     possible cloned authenticator (PK-02). The check is the store's
//     compare-and-set, so two uses of one counter cannot both pass.
//   - A passkey removed since it was read is refused.
//   - Changed flags are recorded (see checkAssertion) and audited.
func (s *Service) recordPasskeyUse(ctx context.Context, tx latchkey.Tx, proof *passkeyProof, sessionID string, m Meta) (refused string, err error) {
	pk, use := proof.pk, proof.use
	switch err := tx.UsePasskey(ctx, pk.ID, use); {
	case latchkey.IsCode(err, latchkey.EConflict):
		s.log.WarnContext(ctx, "passkey refused", "user_id", pk.UserID, "passkey_id", pk.ID, "reason", "passkey_counter")
		return "passkey_counter", s.audit(ctx, tx, latchkey.AuditPasskeyCloneSuspected, latchkey.OutcomeFailure,
			fmt.Sprintf("passkey %s: counter %d after %d", pk.ID, use.SignCount, pk.SignCount), pk.UserID, sessionID, m)
	case latchkey.IsCode(err, latchkey.ENotFound):
		return "passkey_removed", nil
	case err != nil:
		return "", err
	}
	if change := flagChange(pk, use); change != "" {
		return "", s.audit(ctx, tx, latchkey.AuditPasskeyFlagsChanged, latchkey.OutcomeSuccess, "passkey "+pk.ID+": "+change,
			pk.UserID, sessionID, m)
	}
	return "", nil
}

// flagChange describes how the flags of a use differ from the stored
// ones, or "" when they do not.
func flagChange(pk *latchkey.Passkey, use latchkey.PasskeyUse) string {
	show := func(b *bool) string {
		if b == nil {
			return "unknown"
		}
		return fmt.Sprint(*b)
	}
	var out []byte
	if pk.BackupEligible == nil || *pk.BackupEligible != use.BackupEligible {
		out = fmt.Appendf(out, "backup_eligible %s->%t", show(pk.BackupEligible), use.BackupEligible)
	}
	if pk.BackedUp == nil || *pk.BackedUp != use.BackedUp {
		if len(out) > 0 {
			out = append(out, ", "...)
		}
		out = fmt.Appendf(out, "backed_up %s->%t", show(pk.BackedUp), use.BackedUp)
	}
	return string(out)
}

// passkeyFailed audits a refused passkey sign-in as login.failed (userID
// "" when no account is known) and returns the one error every refusal
// gets.
func (s *Service) passkeyFailed(ctx context.Context, userID, reason string, m Meta) error {
	s.events.Login("failure")
	if err := s.Audit(ctx, latchkey.AuditEvent{Type: latchkey.AuditLoginFailed, UserID: userID, IP: m.IP, UserAgent: m.UserAgent,
		Outcome: latchkey.OutcomeFailure, Reason: reason}); err != nil {
		return err
	}
	return errPasskeySignIn
}
