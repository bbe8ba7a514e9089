package auth

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/crypt"
)

// OneTimeCodeTTL is how long a one-time login code can be exchanged.
const OneTimeCodeTTL = 60 * time.Second

// MaxOneTimeCodeLength bounds what is hashed and looked up.
const MaxOneTimeCodeLength = 128

// OAuthProfile is who a social login provider says the user is. Email may
// be trusted for linking only when EmailVerified.
type OAuthProfile struct {
	Provider      string
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
}

// OAuth login refusals. Their reasons go to the audit log as
// "oauth:<reason>".
var (
	errOAuthDisabled = latchkey.Errorf(latchkey.EForbidden, "This account is disabled.")
	errOAuthNoEmail  = latchkey.Errorf(latchkey.EInvalidCredentials,
		"The provider did not share an email address; allow latchkey to read it and try again.")
	errOAuthUnverified = latchkey.Errorf(latchkey.EConflict,
		"An account with this email address already exists, and the provider has not verified that the address is yours. "+
			"Sign in with your password, or verify the address with the provider first.")
	// Answered to someone the provider has just shown to hold the address,
	// so saying that an account exists tells them only about their own
	// address; it says nothing of how the account signs in or why it
	// cannot be linked.
	errOAuthLinkNeedsVerified = latchkey.Errorf(latchkey.EConflict,
		"An account with this email address already exists and cannot be linked to this provider automatically. "+
			"Sign in to that account first, then link the provider from your account page.")
	errCodeInvalid = latchkey.Errorf(latchkey.EInvalidGrant, "The code is invalid, expired or already used.")
)

// OAuthLogin finds or makes the account of a provider identity, in one
// audited transaction. The identity (provider, subject) is the key:
//   - a known identity signs in to its user;
//   - a new identity whose provider-verified email is an existing
//     account's is linked to it (oauth.linked) only when that account's
//     own address was proven (User.EmailVerified); the account's other
//     sessions end;
//   - an unverified email that matches an existing account never links or
//     signs in: whoever controls the provider account could claim any
//     address there;
//   - a verified email that matches an account whose address was never
//     proven is refused too (pre-account takeover, see below);
//   - otherwise a new user (roles [user], no password) is created, its
//     address verified when the provider vouches for it.
//
// Failures are audited as login.failed with reason "oauth:<reason>".
func (s *Service) OAuthLogin(ctx context.Context, p OAuthProfile, m Meta) (*latchkey.User, error) {
	if p.Provider == "" || p.Subject == "" {
		return nil, s.OAuthFailed(ctx, "", "no_subject", m, latchkey.Errorf(latchkey.EInvalidCredentials, "The sign-in with this provider failed."))
	}
	var (
		u       *latchkey.User
		refused string
		refusal error
		linked  bool
		ended   []string
	)
	err := s.store.InTx(ctx, func(tx latchkey.Tx) error {
		u, refused, refusal, linked, ended = nil, "", nil, false, nil
		now := s.now().UTC()
		id, err := tx.IdentityByProviderSubject(ctx, p.Provider, p.Subject)
		switch {
		case err == nil:
			if u, err = tx.UserByID(ctx, id.UserID); err != nil {
				return err
			}
			if u.Disabled {
				refused, refusal = "disabled", errOAuthDisabled
				return nil
			}
			return s.audit(ctx, tx, latchkey.AuditOAuthLogin, latchkey.OutcomeSuccess, p.Provider, u.ID, "", m)
		case !latchkey.IsCode(err, latchkey.ENotFound):
			return err
		}

		email, err := CanonicalEmail(p.Email)
		if err != nil {
			refused, refusal = "no_email", errOAuthNoEmail
			return nil
		}
		existing, err := tx.UserByEmail(ctx, email)
		switch {
		case err == nil && !p.EmailVerified:
			u, refused, refusal = existing, "unverified_email", errOAuthUnverified
			return nil
		case err == nil && existing.Disabled:
			u, refused, refusal = existing, "disabled", errOAuthDisabled
			return nil
		case err == nil && !existing.EmailVerified():
			// Nobody proved that this account's address belongs to whoever
			// made the account: anyone can sign up with someone else's
			// address and a password of their own. Linking would give the
			// address's owner an account that the squatter's password still
			// opens (pre-account takeover, EM-07). Nor may the address get a
			// second account. The owner signs in to it first and links the
			// provider from the account page (LinkIdentity).
			u, refused, refusal = existing, "link_requires_verified_email", errOAuthLinkNeedsVerified
			return nil
		case err == nil:
			// Both the account and the provider proved the address: the
			// same person holds both, so the identity may join the account.
			u, linked = existing, true
			if err := s.createIdentity(ctx, tx, u.ID, p, email, now); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, latchkey.AuditOAuthLinked, latchkey.OutcomeSuccess, p.Provider, u.ID, "", m); err != nil {
				return err
			}
			// The account now opens another way; any session it had before
			// (this sign-in's own session does not exist yet) is ended, so
			// that nothing started before the link outlives it.
			if ended, err = s.endSessionsOnLink(ctx, tx, u.ID, "", p.Provider, m); err != nil {
				return err
			}
			return s.audit(ctx, tx, latchkey.AuditOAuthLogin, latchkey.OutcomeSuccess, p.Provider, u.ID, "", m)
		case !latchkey.IsCode(err, latchkey.ENotFound):
			return err
		}

		name, err := CleanName(p.Name)
		if err != nil {
			name = "" // a provider's odd display name is no reason to refuse the login
		}
		u = &latchkey.User{ID: latchkey.NewID(now), Email: email, Name: name, Roles: []string{latchkey.RoleUser}, CreatedAt: now, UpdatedAt: now}
		if p.EmailVerified {
			// The provider proved the address just now; an unverified one
			// stays unproven, so that it can never be auto-linked later.
			verified := now
			u.EmailVerifiedAt = &verified
		}
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		if err := s.createIdentity(ctx, tx, u.ID, p, email, now); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, latchkey.AuditSignup, latchkey.OutcomeSuccess, "oauth:"+p.Provider, u.ID, "", m); err != nil {
			return err
		}
		return s.audit(ctx, tx, latchkey.AuditOAuthLogin, latchkey.OutcomeSuccess, p.Provider, u.ID, "", m)
	})
	if latchkey.IsCode(err, latchkey.EConflict) {
		// A concurrent login of the same identity or email won the race.
		refused, refusal, err = "conflict", latchkey.WrapError(latchkey.EConflict, "The sign-in collided with another one; please try again.", err), nil
	}
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		userID := ""
		if u != nil {
			userID = u.ID
		}
		return nil, s.OAuthFailed(ctx, userID, refused, m, refusal)
	}
	if linked {
		s.events.UserChanged(u.ID) // cached identity lists must show the new link
	}
	s.sessionsEnded(ended)
	s.events.Login("success")
	return u, nil
}

// endSessionsOnLink ends every live session of the user except keep (the
// session that asked for the link, or ""), auditing each as
// session.revoked with reason "identity_linked:<provider>". A link changes
// who can open the account; a session from before it, perhaps a squatter's,
// must not survive it.
func (s *Service) endSessionsOnLink(ctx context.Context, tx latchkey.Tx, userID, keep, provider string, m Meta) ([]string, error) {
	ended, err := tx.RevokeUserSessions(ctx, userID, keep, s.now().UTC())
	if err != nil {
		return nil, err
	}
	for _, id := range ended {
		if err := s.audit(ctx, tx, latchkey.AuditSessionRevoked, latchkey.OutcomeSuccess, "identity_linked:"+provider, userID, id, m); err != nil {
			return nil, err
		}
	}
	return ended, nil
}

func (s *Service) createIdentity(ctx context.Context, tx latchkey.Tx, userID string, p OAuthProfile, email string, now time.Time) error {
	return tx.CreateIdentity(ctx, &latchkey.Identity{ID: latchkey.NewID(now), UserID: userID, Provider: p.Provider,
		Subject: p.Subject, Email: email, CreatedAt: now})
}

// OAuthFailed audits a failed social login as login.failed with reason
// "oauth:<reason>" and returns refusal, or the audit error: an unrecorded
// failure is not answered as a plain refusal (fail closed).
func (s *Service) OAuthFailed(ctx context.Context, userID, reason string, m Meta, refusal error) error {
	s.events.Login("failure")
	err := s.Audit(ctx, latchkey.AuditEvent{Type: latchkey.AuditLoginFailed, UserID: userID, IP: m.IP, UserAgent: m.UserAgent,
		Outcome: latchkey.OutcomeFailure, Reason: truncate("oauth:"+reason, 200)})
	if err != nil {
		return err
	}
	return refusal
}

// CreateOneTimeCode makes the code that carries a social login back to an
// app: 256 bits from crypto/rand, single use, valid OneTimeCodeTTL. Only
// its SHA-256 is stored.
func (s *Service) CreateOneTimeCode(ctx context.Context, userID, provider string) (latchkey.Secret, error) {
	code := crypt.RandomToken(32)
	now := s.now().UTC()
	err := s.store.CreateOneTimeCode(ctx, &latchkey.OneTimeCode{Hash: crypt.Hash(code), UserID: userID, Provider: provider,
		CreatedAt: now, ExpiresAt: now.Add(OneTimeCodeTTL)})
	if err != nil {
		return "", err
	}
	return latchkey.Secret(code), nil
}

// ExchangeOneTimeCode consumes a one-time code (atomically: a second use
// finds nothing) and starts a session for its user. An unknown, used or
// expired code, or one whose user is gone or disabled, is invalid_grant.
func (s *Service) ExchangeOneTimeCode(ctx context.Context, code string, m Meta) (*Tokens, error) {
	if code == "" || len(code) > MaxOneTimeCodeLength {
		return nil, s.OAuthFailed(ctx, "", "code_malformed", m, errCodeInvalid)
	}
	c, err := s.store.ConsumeOneTimeCode(ctx, crypt.Hash(code), s.now().UTC())
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return nil, s.OAuthFailed(ctx, "", "code_invalid", m, errCodeInvalid)
	}
	if err != nil {
		return nil, err
	}
	if !s.now().Before(c.ExpiresAt) {
		return nil, s.OAuthFailed(ctx, c.UserID, "code_expired", m, errCodeInvalid)
	}
	u, err := s.store.UserByID(ctx, c.UserID)
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return nil, s.OAuthFailed(ctx, c.UserID, "user_gone", m, errCodeInvalid)
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, s.OAuthFailed(ctx, u.ID, "disabled", m, errCodeInvalid)
	}
	return s.StartSession(ctx, u, m, SignInFederated)
}

// ListIdentities returns the social-login identities linked to the user.
// Like sessions, they are cached for a moment (GET /v1/me lists them on
// every call); linking and unlinking report UserChanged, which empties the
// cache here and on every other instance.
func (s *Service) ListIdentities(ctx context.Context, userID string) ([]latchkey.Identity, error) {
	now := s.now()
	if list, _, ok := s.sessions.getIdentities(userID, now); ok {
		return list, nil
	}
	_, epoch, _ := s.sessions.getIdentities(userID, now)
	list, err := s.store.ListIdentities(ctx, userID)
	if err != nil {
		return nil, err
	}
	s.sessions.putIdentities(userID, list, epoch, now)
	return list, nil
}

var errLastLoginMethod = latchkey.Errorf(latchkey.EConflict,
	"This is your only way to sign in; set a password or link another provider before unlinking it.")

// UnlinkIdentity removes one of the user's identities, unless it is their
// last way to sign in (no password and no other identity). Another user's
// identity is reported as not found.
func (s *Service) UnlinkIdentity(ctx context.Context, userID, identityID string, m Meta) error {
	err := s.store.InTx(ctx, func(tx latchkey.Tx) error {
		u, err := tx.UserByID(ctx, userID)
		if err != nil {
			return err
		}
		ids, err := tx.ListIdentities(ctx, userID)
		if err != nil {
			return err
		}
		var found *latchkey.Identity
		for i := range ids {
			if ids[i].ID == identityID {
				found = &ids[i]
			}
		}
		if found == nil {
			return latchkey.Errorf(latchkey.ENotFound, "No such identity.")
		}
		if u.PasswordHash == "" && len(ids) < 2 {
			return errLastLoginMethod
		}
		if err := tx.DeleteIdentity(ctx, userID, identityID); err != nil {
			if latchkey.IsCode(err, latchkey.ENotFound) {
				return latchkey.Errorf(latchkey.ENotFound, "No such identity.")
			}
			return err
		}
		return s.audit(ctx, tx, latchkey.AuditUserUpdated, latchkey.OutcomeSuccess, "identity_unlinked:"+found.Provider, userID, "", m)
	})
	if err == nil {
		s.events.UserChanged(userID)
	}
	return err
}

// Explicit-link refusals. Their reasons go to the audit log as an
// oauth.linked failure.
var (
	errLinkSessionEnded = latchkey.Errorf(latchkey.ETokenRequired,
		"Your session ended before the provider answered. Sign in again and link the provider from your account page.")
	// Told to someone the provider has just shown to hold that provider
	// account: it is about their own identity.
	errIdentityTaken = latchkey.Errorf(latchkey.EConflict,
		"This provider account is already linked to another account. Unlink it there first.")
	errLinkCollided = latchkey.Errorf(latchkey.EConflict, "The link collided with another one; please try again.")
)

// LinkIdentity links a provider identity to the user who asked for it from
// the account page. The flow that brought p back was started by that user's
// session sessionID, with a recent sign-in (the route's policy), and was
// sealed with both; the session must still be live. It reports whether it
// linked anything: an identity already linked to this user is left as it is.
//
// No email rule applies here, unlike OAuthLogin: the user proved they hold
// the account (a fresh session) and the provider proved they hold the
// identity, whatever addresses either names. An identity linked to another
// user is refused. The user's other sessions end. Refusals are audited as
// an oauth.linked failure with their reason.
func (s *Service) LinkIdentity(ctx context.Context, userID, sessionID string, p OAuthProfile, m Meta) (bool, error) {
	var (
		refused string
		refusal error
		linked  bool
		ended   []string
	)
	err := s.store.InTx(ctx, func(tx latchkey.Tx) error {
		refused, refusal, linked, ended = "", nil, false, nil
		now := s.now().UTC()
		if p.Provider == "" || p.Subject == "" {
			refused, refusal = "no_subject", latchkey.Errorf(latchkey.EInvalidCredentials, "The sign-in with this provider failed.")
			return nil
		}
		// Signing out, being signed out or disabled while at the provider
		// cancels the link: it was asked for by that session only.
		sess, u, why, err := s.liveSession(ctx, tx, sessionID, now)
		if err != nil {
			return err
		}
		if why == "" && sess.UserID != userID {
			why = "session_mismatch"
		}
		if why != "" {
			refused, refusal = "link_"+why, errLinkSessionEnded
			return nil
		}
		id, err := tx.IdentityByProviderSubject(ctx, p.Provider, p.Subject)
		switch {
		case err == nil && id.UserID == userID:
			return nil // already this user's: nothing to change
		case err == nil:
			// It opens another account; moving it would take that account's
			// way in away from it, or let its holder into this one.
			refused, refusal = "identity_linked_elsewhere", errIdentityTaken
			return nil
		case !latchkey.IsCode(err, latchkey.ENotFound):
			return err
		}
		email, err := CanonicalEmail(p.Email)
		if err != nil {
			email = "" // the identity is (provider, subject); its address is only shown
		}
		if err := s.createIdentity(ctx, tx, userID, p, email, now); err != nil {
			return err
		}
		if p.EmailVerified && email == u.Email && !u.EmailVerified() {
			// The account's holder signed in recently and the provider
			// vouches for the account's own address: that proves it, as
			// for an account made by social login.
			if _, err := tx.UpdateUser(ctx, userID, latchkey.UserPatch{EmailVerifiedAt: &latchkey.TimePatch{At: &now}, UpdatedAt: now}); err != nil {
				return err
			}
		}
		if err := s.audit(ctx, tx, latchkey.AuditOAuthLinked, latchkey.OutcomeSuccess, p.Provider, userID, sessionID, m); err != nil {
			return err
		}
		// The account opens another way now: only the session that asked
		// for the link carries on (see endSessionsOnLink).
		if ended, err = s.endSessionsOnLink(ctx, tx, userID, sessionID, p.Provider, m); err != nil {
			return err
		}
		linked = true
		return nil
	})
	if latchkey.IsCode(err, latchkey.EConflict) {
		// A concurrent link of the same identity won the race.
		refused, refusal, err = "conflict", errLinkCollided, nil
	}
	if err != nil {
		return false, err
	}
	if refusal != nil {
		return false, s.linkFailed(ctx, userID, sessionID, p.Provider, refused, m, refusal)
	}
	if linked {
		s.events.UserChanged(userID) // cached identity lists must show the new link
		s.sessionsEnded(ended)
	}
	return linked, nil
}

// LinkSessionMismatch refuses a link whose callback arrived without the
// session that started it (signed out, or signed in as someone else,
// meanwhile), auditing it as an oauth.linked failure.
func (s *Service) LinkSessionMismatch(ctx context.Context, userID, sessionID, provider string, m Meta) error {
	return s.linkFailed(ctx, userID, sessionID, provider, "link_session_mismatch", m, errLinkSessionEnded)
}

// linkFailed audits a refused link as an oauth.linked failure with reason
// "<reason>:<provider>" and returns refusal, or the audit error: an
// unrecorded refusal is not answered as one (fail closed).
func (s *Service) linkFailed(ctx context.Context, userID, sessionID, provider, reason string, m Meta, refusal error) error {
	err := s.Audit(ctx, latchkey.AuditEvent{Type: latchkey.AuditOAuthLinked, UserID: userID, SessionID: sessionID,
		IP: m.IP, UserAgent: m.UserAgent, Outcome: latchkey.OutcomeFailure, Reason: truncate(reason+":"+provider, 200)})
	if err != nil {
		return err
	}
	return refusal
}
