package auth

import (
	"context"
	"encoding/json"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/latchkey/latchkey"
)

var errNoPasskeys = latchkey.Errorf(latchkey.EInvalidRequest, "Your account has no passkey: confirm it's you with your password.")

// BeginPasskeyReauthentication starts confirming, with one of their
// passkeys, that the signed-in user is still at the keyboard (what a
// password re-authentication does, for accounts that sign in without
// one): request options listing the user's passkeys in allowCredentials,
// user verification required, the challenge bound to this user and
// session.
func (s *Service) BeginPasskeyReauthentication(ctx context.Context, p *Principal, m Meta) (json.RawMessage, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	if p.SessionID == "" {
		return nil, latchkey.Errorf(latchkey.EForbidden, "Re-authentication needs a signed-in session; an API key has none.")
	}
	list, err := s.store.ListPasskeys(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errNoPasskeys
	}
	user := passkeyUser{u: p.User}
	for _, pk := range list {
		user.creds = append(user.creds, webauthn.Credential{ID: pk.CredentialID, Transport: transports(pk.Transports)})
	}
	assertion, _, err := rp.wa.BeginLogin(user, webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	c := &latchkey.PasskeyChallenge{Hash: challengeHash(assertion.Response.Challenge), Purpose: latchkey.ChallengeReauthenticate,
		UserID: p.User.ID, SessionID: p.SessionID, CreatedAt: now, ExpiresAt: now.Add(PasskeyChallengeTTL)}
	if err := s.store.CreatePasskeyChallenge(ctx, c); err != nil {
		return nil, err
	}
	return json.Marshal(assertion.Response)
}

// ReauthenticateWithPasskey verifies an assertion for a challenge of
// BeginPasskeyReauthentication and records the moment as the session's
// authentication time, as Reauthenticate does for a password. The
// passkey must be the user's, and its counter and flags are held to the
// sign-in's policy. Since a passkey with user verification proves two
// factors, the session's record gains the key and mfa (a step-up to
// aal2). A refusal is audited as a failed session.reauthenticated and
// answered invalid_credentials.
func (s *Service) ReauthenticateWithPasskey(ctx context.Context, p *Principal, body []byte, m Meta) error {
	rp, err := s.relyingParty()
	if err != nil {
		return err
	}
	if p.SessionID == "" {
		return latchkey.Errorf(latchkey.EForbidden, "Re-authentication needs a signed-in session; an API key has none.")
	}
	parsed, err := readAssertion(body)
	if err != nil {
		return err
	}
	fail := func(reason string) error {
		if err := s.Audit(ctx, latchkey.AuditEvent{Type: latchkey.AuditReauthenticated, UserID: p.User.ID, SessionID: p.SessionID,
			IP: m.IP, UserAgent: m.UserAgent, Outcome: latchkey.OutcomeFailure, Reason: reason}); err != nil {
			return err
		}
		return errPasskeySignIn
	}
	c, err := s.spendChallenge(ctx, latchkey.ChallengeReauthenticate, parsed.Response.CollectedClientData.Challenge)
	if latchkey.IsCode(err, latchkey.EInvalidRequest) || (err == nil && (c.UserID != p.User.ID || c.SessionID != p.SessionID)) {
		return fail("passkey_challenge")
	}
	if err != nil {
		return err
	}
	pk, err := s.store.PasskeyByCredentialID(ctx, parsed.RawID)
	if latchkey.IsCode(err, latchkey.ENotFound) || (err == nil && pk.UserID != p.User.ID) {
		return fail("passkey_unknown")
	}
	if err != nil {
		return err
	}
	proof, reason := s.checkAssertion(ctx, rp, parsed, pk, p.User, false)
	if reason != "" {
		return fail(reason)
	}
	var refused string
	err = s.store.InTx(ctx, func(tx latchkey.Tx) error {
		var err error
		if refused, err = s.recordPasskeyUse(ctx, tx, proof, p.SessionID, m); refused != "" || err != nil {
			return err
		}
		err = tx.SetSessionAuth(ctx, p.SessionID, proof.use.At, AddAMR(p.AMR, proof.amr, AMRMFA))
		if latchkey.IsCode(err, latchkey.ENotFound) {
			return errRevoked
		} else if err != nil {
			return err
		}
		return s.audit(ctx, tx, latchkey.AuditReauthenticated, latchkey.OutcomeSuccess, "passkey "+pk.ID+" "+proof.amr, p.User.ID, p.SessionID, m)
	})
	if err != nil {
		return err
	}
	if refused != "" {
		return fail(refused)
	}
	s.events.SessionsChanged([]string{p.SessionID})
	return nil
}
