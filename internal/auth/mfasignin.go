package auth

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/crypt"
	"github.com/latchkey/latchkey/internal/mail"
)

// The MFA step of a sign-in.
const (
	// MFATokenTTL is how long a sign-in waits for its second factor.
	MFATokenTTL = 5 * time.Minute
	// MaxMFAAttempts is how many codes one challenge tests; the next
	// attempt finds it dead, and the sign-in starts again with the first
	// factor (which has its own limits).
	MaxMFAAttempts = 5
	// MaxMFATokenLength bounds an mfa_token before it is hashed.
	MaxMFATokenLength = 128
)

// Second-factor kinds a challenge offers (its "factors").
const (
	FactorTOTP         = "totp"
	FactorRecoveryCode = "recovery_code"
)

// MFAChallenge is a sign-in that proved its first factor and waits for the
// second. Token is the mfa_token: 256 random bits, of which the server
// keeps only the SHA-256. The record behind it, not the token, carries
// the state — which user, how the first step signed in, attempts, single
// use — because single use and an attempt count need a server-side record
// anyway; a sealed, self-contained token would add a second secret format
// and still need that record to be revocable and single use (MF-04).
type MFAChallenge struct {
	Token     latchkey.Secret
	ExpiresAt time.Time
	Factors   []string // FactorTOTP, and FactorRecoveryCode while codes are left
}

var errMFATokenInvalid = latchkey.Errorf(latchkey.EInvalidGrant,
	"The sign-in is over: the mfa_token expired, was used, or saw too many wrong codes. Sign in again.")

// needsSecondFactor reports whether a sign-in of u that proved how must
// prove a second factor before it gets a session: u has an active one,
// and how did not prove several factors already.
func needsSecondFactor(ctx context.Context, tx latchkey.Tx, u *latchkey.User, how SignIn) (bool, error) {
	if slices.Contains(how.AMR, AMRMFA) {
		return false, nil
	}
	return hasActiveFactor(ctx, tx, u.ID)
}

// newChallenge creates, within tx, the challenge of a sign-in that must
// prove its second factor. The first step is audited as mfa.challenged
// (reason: how it signed in); the sign-in itself is audited when it
// completes.
func (s *Service) newChallenge(ctx context.Context, tx latchkey.Tx, u *latchkey.User, how SignIn, m Meta) (*MFAChallenge, error) {
	left, err := tx.CountRecoveryCodes(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	token := crypt.RandomToken(32)
	c := &latchkey.MFAChallenge{ID: latchkey.NewID(now), Hash: crypt.Hash(token), UserID: u.ID, AMR: how.AMR,
		Audit: how.Audit, CreatedAt: now, ExpiresAt: now.Add(MFATokenTTL)}
	if err := tx.CreateMFAChallenge(ctx, c); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, tx, latchkey.AuditMFAChallenged, latchkey.OutcomeSuccess, strings.Join(how.AMR, " "), u.ID, "", m); err != nil {
		return nil, err
	}
	factors := []string{FactorTOTP}
	if left > 0 {
		factors = append(factors, FactorRecoveryCode)
	}
	if s.PasskeysEnabled() {
		passkeys, err := tx.ListPasskeys(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		if len(passkeys) > 0 {
			factors = append(factors, FactorPasskey) // BeginMFAPasskey
		}
	}
	return &MFAChallenge{Token: latchkey.Secret(token), ExpiresAt: c.ExpiresAt, Factors: factors}, nil
}

// MFAChallengeEmail returns the address of the account a live mfa_token
// belongs to, so that the server can apply the account's limits and
// back-off before the code is checked; "" for anything else.
func (s *Service) MFAChallengeEmail(ctx context.Context, token string) (string, error) {
	if token == "" || len(token) > MaxMFATokenLength {
		return "", nil
	}
	c, err := s.store.MFAChallengeByHash(ctx, crypt.Hash(token))
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	u, err := s.store.UserByID(ctx, c.UserID)
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return u.Email, nil
}

// VerifyMFA completes a sign-in with its second factor: the mfa_token and
// a TOTP code or a recovery code. It starts the session the first step
// would have started, its amr adding otp and mfa (acr aal2), and returns
// its tokens. Each call charges the challenge one attempt before the code
// is checked (MF-02); a code works once (MF-01); the token works once
// (MF-04). Wrong codes answer invalid_mfa_code; a dead challenge
// invalid_grant.
func (s *Service) VerifyMFA(ctx context.Context, token string, proof MFAProof, m Meta) (*Tokens, error) {
	return s.tokensAfter(ctx, m, func(start func(latchkey.Tx, *latchkey.User, SignIn) error) (*latchkey.User, error) {
		return s.completeChallenge(ctx, token, proof, m, start)
	})
}

// VerifyMFABrowser is VerifyMFA for the hosted login page: the session's
// credential is a cookie.
func (s *Service) VerifyMFABrowser(ctx context.Context, token string, proof MFAProof, m Meta) (*BrowserSignIn, error) {
	return s.cookieAfter(ctx, m, func(start func(latchkey.Tx, *latchkey.User, SignIn) error) (*latchkey.User, error) {
		return s.completeChallenge(ctx, token, proof, m, start)
	})
}

// secondStep completes a sign-in's second step, running start (which
// creates the session) inside the transaction that spends the proof.
type secondStep func(start func(tx latchkey.Tx, u *latchkey.User, how SignIn) error) (*latchkey.User, error)

// tokensAfter completes step and answers the new session's tokens.
func (s *Service) tokensAfter(ctx context.Context, m Meta, step secondStep) (*Tokens, error) {
	var st *newSession
	var how SignIn
	u, err := step(func(tx latchkey.Tx, u *latchkey.User, h SignIn) (err error) {
		how = h
		st, err = s.startSessionTx(ctx, tx, u, m, h)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.sessionStarted(u, st, how.Audit)
}

// cookieAfter completes step and answers the new browser session.
func (s *Service) cookieAfter(ctx context.Context, m Meta, step secondStep) (*BrowserSignIn, error) {
	var c *cookieSession
	var how SignIn
	_, err := step(func(tx latchkey.Tx, u *latchkey.User, h SignIn) (err error) {
		how = h
		c, err = s.startCookieSessionTx(ctx, tx, u, m, h, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.cookieSessionStarted(c, how.Audit), nil
}

// completeChallenge charges the challenge an attempt, checks the proof,
// and in one transaction spends the proof and the challenge and runs
// start with the sign-in's completed SignIn.
func (s *Service) completeChallenge(ctx context.Context, token string, proof MFAProof, m Meta,
	start func(tx latchkey.Tx, u *latchkey.User, how SignIn) error) (*latchkey.User, error) {
	if err := proof.check(); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	ch, u, err := s.attemptChallenge(ctx, token, now, m)
	if err != nil {
		return nil, err
	}
	factors, err := s.store.ListTOTPFactors(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	match, err := s.matchProof(factors, proof)
	if err != nil {
		return nil, err
	}
	if match == nil {
		return nil, s.wrongChallengeCode(ctx, u.ID, ch, "wrong_"+proof.method(), m)
	}
	spent, left := false, 0
	err = s.store.InTx(ctx, func(tx latchkey.Tx) error {
		var err error
		if spent, err = match.spend(ctx, tx, u.ID, now); err != nil || !spent {
			return err
		}
		won, err := tx.ConsumeMFAChallenge(ctx, ch.ID, now)
		if err != nil {
			return err
		}
		if !won {
			return errMFATokenInvalid // a concurrent request completed it
		}
		if err := s.audit(ctx, tx, latchkey.AuditMFAVerified, latchkey.OutcomeSuccess, proof.method(), u.ID, "", m); err != nil {
			return err
		}
		if proof.RecoveryCode != "" {
			if left, err = s.recoveryCodeUsed(ctx, tx, u, "", m); err != nil {
				return err
			}
		}
		return start(tx, u, SignIn{Audit: ch.Audit, AMR: AddAMR(ch.AMR, AMROTP, AMRMFA)})
	})
	if err != nil {
		return nil, err
	}
	if !spent {
		return nil, s.wrongChallengeCode(ctx, u.ID, ch, "spent_"+proof.method(), m)
	}
	if proof.RecoveryCode != "" {
		s.mailQueued()
		s.log.InfoContext(ctx, "recovery code used", "user_id", u.ID, "left", left)
	}
	return u, nil
}

// attemptChallenge charges the live challenge of token one attempt (before
// any proof is checked, so that the sixth try finds it dead) and returns it
// with its user, who must still exist and be enabled.
func (s *Service) attemptChallenge(ctx context.Context, token string, now time.Time, m Meta) (*latchkey.MFAChallenge, *latchkey.User, error) {
	if token == "" || len(token) > MaxMFATokenLength {
		return nil, nil, s.challengeRefused(ctx, "", "malformed", m)
	}
	ch, err := s.store.AttemptMFAChallenge(ctx, crypt.Hash(token), now, MaxMFAAttempts)
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return nil, nil, s.challengeRefused(ctx, "", "challenge_invalid", m)
	}
	if err != nil {
		return nil, nil, err
	}
	u, err := s.store.UserByID(ctx, ch.UserID)
	if latchkey.IsCode(err, latchkey.ENotFound) || (err == nil && u.Disabled) {
		return nil, nil, s.challengeRefused(ctx, ch.UserID, "user_gone_or_disabled", m)
	}
	if err != nil {
		return nil, nil, err
	}
	return ch, u, nil
}

// recoveryCodeUsed audits a spent recovery code and queues the notice to
// the account's address, within tx; it returns how many codes are left.
func (s *Service) recoveryCodeUsed(ctx context.Context, tx latchkey.Tx, u *latchkey.User, sessionID string, m Meta) (int, error) {
	left, err := tx.CountRecoveryCodes(ctx, u.ID)
	if err != nil {
		return 0, err
	}
	if err := s.audit(ctx, tx, latchkey.AuditRecoveryUsed, latchkey.OutcomeSuccess, "", u.ID, sessionID, m); err != nil {
		return 0, err
	}
	return left, s.queueMail(ctx, tx, mail.KindRecoveryCodeUsed, u.Email, mail.Data{Link: s.link(PageAccount, ""), Left: left})
}

// PageAccount is the hosted account page.
const PageAccount = "/account"

// challengeRefused audits an mfa_token that is no (longer a) live
// challenge and returns invalid_grant.
func (s *Service) challengeRefused(ctx context.Context, userID, reason string, m Meta) error {
	if err := s.Audit(ctx, latchkey.AuditEvent{Type: latchkey.AuditMFAFailed, UserID: userID, IP: m.IP, UserAgent: m.UserAgent,
		Outcome: latchkey.OutcomeFailure, Reason: reason}); err != nil {
		return err
	}
	return errMFATokenInvalid
}

// wrongChallengeCode audits a wrong code against a challenge and says how
// many attempts it has left.
func (s *Service) wrongChallengeCode(ctx context.Context, userID string, ch *latchkey.MFAChallenge, reason string, m Meta) error {
	s.events.Login("failure")
	if err := s.mfaFailed(ctx, userID, "", reason, m); !latchkey.IsCode(err, latchkey.EInvalidMFACode) {
		return err
	}
	if left := MaxMFAAttempts - ch.Attempts; left > 0 {
		return latchkey.Errorf(latchkey.EInvalidMFACode, "The code is incorrect, or was used already; %d attempts left.", left)
	}
	return latchkey.Errorf(latchkey.EInvalidMFACode, "The code is incorrect, or was used already. That was the last attempt: sign in again.")
}

// StepUp raises a live session to aal2 with a second factor, without a
// new sign-in: the session's amr gains otp and mfa, its auth_time becomes
// now, and the returned Tokens hold a new access token that says so (the
// session's refresh token stays as it is; the next refresh says so too).
// Wrong codes answer invalid_mfa_code; the route's limits and the
// account's back-off bound guessing.
func (s *Service) StepUp(ctx context.Context, p *Principal, proof MFAProof, m Meta) (*Tokens, error) {
	if p.SessionID == "" {
		return nil, errNeedsMFASession
	}
	if err := proof.check(); err != nil {
		return nil, err
	}
	factors, err := s.store.ListTOTPFactors(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(factors, func(f latchkey.TOTPFactor) bool { return f.Confirmed() }) {
		return nil, latchkey.Errorf(latchkey.EConflict, "This account has no authenticator to verify; add one first (POST /v1/me/mfa/totp).")
	}
	match, err := s.matchProof(factors, proof)
	if err != nil {
		return nil, err
	}
	if match == nil {
		return nil, s.mfaFailed(ctx, p.User.ID, p.SessionID, "step_up_wrong_"+proof.method(), m)
	}
	now := s.now().UTC()
	spent := false
	var sess *latchkey.Session
	err = s.store.InTx(ctx, func(tx latchkey.Tx) error {
		var err error
		if spent, err = match.spend(ctx, tx, p.User.ID, now); err != nil || !spent {
			return err
		}
		if err := tx.SetSessionAuth(ctx, p.SessionID, now, AddAMR(p.AMR, AMROTP, AMRMFA)); latchkey.IsCode(err, latchkey.ENotFound) {
			return errRevoked
		} else if err != nil {
			return err
		}
		if sess, err = tx.SessionByID(ctx, p.SessionID); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, latchkey.AuditMFAVerified, latchkey.OutcomeSuccess, "step_up:"+proof.method(), p.User.ID, p.SessionID, m); err != nil {
			return err
		}
		if proof.RecoveryCode != "" {
			_, err = s.recoveryCodeUsed(ctx, tx, p.User, p.SessionID, m)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if !spent {
		return nil, s.mfaFailed(ctx, p.User.ID, p.SessionID, "step_up_spent_"+proof.method(), m)
	}
	if proof.RecoveryCode != "" {
		s.mailQueued()
	}
	// Cached copies of the session, here and on other instances, carry
	// the old amr.
	s.events.SessionsChanged([]string{p.SessionID})
	at, exp, err := s.accessToken(p.User, sess)
	if err != nil {
		return nil, err
	}
	return &Tokens{AccessToken: latchkey.Secret(at), AccessExpiresAt: exp, RefreshExpiresAt: sess.ExpiresAt, Session: sess, User: p.User}, nil
}
