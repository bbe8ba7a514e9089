package auth

import (
	"context"
	"encoding/json"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/crypt"
)

// FactorPasskey is the second factor a challenge offers to a user who has
// passkeys (see BeginMFAPasskey).
const FactorPasskey = "passkey"

var errMFAPasskey = latchkey.Errorf(latchkey.EInvalidMFACode, "The passkey could not be verified.")

// BeginMFAPasskey starts the second step of a sign-in with a passkey
// instead of a code: request options listing the passkeys of the
// challenge's user (allowCredentials), user verification required, the
// WebAuthn challenge bound to this sign-in's MFA challenge. It charges the
// MFA challenge nothing; MFAPasskey does.
func (s *Service) BeginMFAPasskey(ctx context.Context, token string, m Meta) (json.RawMessage, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	if token == "" || len(token) > MaxMFATokenLength {
		return nil, errMFATokenInvalid
	}
	now := s.now().UTC()
	ch, err := s.store.MFAChallengeByHash(ctx, crypt.Hash(token))
	if latchkey.IsCode(err, latchkey.ENotFound) || (err == nil && (ch.ConsumedAt != nil || !now.Before(ch.ExpiresAt) || ch.Attempts >= MaxMFAAttempts)) {
		return nil, errMFATokenInvalid
	}
	if err != nil {
		return nil, err
	}
	u, err := s.store.UserByID(ctx, ch.UserID)
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListPasskeys(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, latchkey.Errorf(latchkey.EInvalidRequest, "This account has no passkey: enter a code instead.")
	}
	user := passkeyUser{u: u}
	for _, pk := range list {
		user.creds = append(user.creds, webauthn.Credential{ID: pk.CredentialID, Transport: transports(pk.Transports)})
	}
	assertion, _, err := rp.wa.BeginLogin(user, webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, err
	}
	c := &latchkey.PasskeyChallenge{Hash: challengeHash(assertion.Response.Challenge), Purpose: latchkey.ChallengeSecondFactor,
		UserID: u.ID, SessionID: ch.ID, CreatedAt: now, ExpiresAt: now.Add(PasskeyChallengeTTL)}
	if err := s.store.CreatePasskeyChallenge(ctx, c); err != nil {
		return nil, err
	}
	return json.Marshal(assertion.Response)
}

// MFAPasskey completes a sign-in with a passkey as its second factor: the
// mfa_token and an assertion for BeginMFAPasskey's options. Like a code,
// each call charges the MFA challenge one attempt first (MF-02), and the
// challenge is spent by the sign-in it completes (MF-04); the passkey
// must be the user's, and its counter and flags are held to the sign-in's
// policy (PK-02). The session's amr adds the key (hwk or swk) and mfa to
// the first step's. A refused passkey answers invalid_mfa_code, a dead
// challenge invalid_grant.
func (s *Service) MFAPasskey(ctx context.Context, token string, body []byte, m Meta) (*Tokens, error) {
	return s.tokensAfter(ctx, m, func(start func(latchkey.Tx, *latchkey.User, SignIn) error) (*latchkey.User, error) {
		return s.mfaPasskey(ctx, token, body, m, start)
	})
}

// MFAPasskeyBrowser is MFAPasskey for the hosted login page: the session's
// credential is a cookie.
func (s *Service) MFAPasskeyBrowser(ctx context.Context, token string, body []byte, m Meta) (*BrowserSignIn, error) {
	return s.cookieAfter(ctx, m, func(start func(latchkey.Tx, *latchkey.User, SignIn) error) (*latchkey.User, error) {
		return s.mfaPasskey(ctx, token, body, m, start)
	})
}

func (s *Service) mfaPasskey(ctx context.Context, token string, body []byte, m Meta,
	start func(tx latchkey.Tx, u *latchkey.User, how SignIn) error) (*latchkey.User, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	parsed, err := readAssertion(body)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	ch, u, err := s.attemptChallenge(ctx, token, now, m)
	if err != nil {
		return nil, err
	}
	fail := func(reason string) error {
		s.events.Login("failure")
		if err := s.mfaFailed(ctx, u.ID, "", reason, m); !latchkey.IsCode(err, latchkey.EInvalidMFACode) {
			return err
		}
		return errMFAPasskey
	}
	c, err := s.spendChallenge(ctx, latchkey.ChallengeSecondFactor, parsed.Response.CollectedClientData.Challenge)
	if latchkey.IsCode(err, latchkey.EInvalidRequest) || (err == nil && (c.UserID != u.ID || c.SessionID != ch.ID)) {
		return nil, fail("passkey_challenge")
	}
	if err != nil {
		return nil, err
	}
	pk, err := s.store.PasskeyByCredentialID(ctx, parsed.RawID)
	if latchkey.IsCode(err, latchkey.ENotFound) || (err == nil && pk.UserID != u.ID) {
		return nil, fail("passkey_unknown")
	}
	if err != nil {
		return nil, err
	}
	proof, reason := s.checkAssertion(ctx, rp, parsed, pk, u, false)
	if reason != "" {
		return nil, fail(reason)
	}
	var refused string
	err = s.store.InTx(ctx, func(tx latchkey.Tx) error {
		var err error
		if refused, err = s.recordPasskeyUse(ctx, tx, proof, "", m); refused != "" || err != nil {
			return err
		}
		won, err := tx.ConsumeMFAChallenge(ctx, ch.ID, now)
		if err != nil {
			return err
		}
		if !won {
			return errMFATokenInvalid // a concurrent request completed it
		}
		if err := s.audit(ctx, tx, latchkey.AuditMFAVerified, latchkey.OutcomeSuccess, "passkey "+pk.ID+" "+proof.amr, u.ID, "", m); err != nil {
			return err
		}
		return start(tx, u, SignIn{Audit: ch.Audit, AMR: AddAMR(ch.AMR, proof.amr, AMRMFA)})
	})
	if err != nil {
		return nil, err
	}
	if refused != "" {
		return nil, fail(refused)
	}
	return u, nil
}
