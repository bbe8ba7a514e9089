package auth

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/crypt"
	"github.com/latchkey/latchkey/internal/password"
	"github.com/latchkey/latchkey/internal/token"
)

// MaxNameLength bounds a display name, in characters.
const MaxNameLength = 200

var errEmailNotVerified = latchkey.Errorf(latchkey.EEmailNotVerified,
	"Confirm your email address first: open the link we mailed you, or ask for a new one (POST /v1/auth/email-verification).")

var errInvalidCredentials = latchkey.Errorf(latchkey.EInvalidCredentials, "The email or password is incorrect.")

// SignupInput is what a new account is made from.
type SignupInput struct {
	Email    string
	Password string
	Name     string
	Roles    []string // default: [user]
}

// CreateUser validates and stores a new account and audits it; it starts no
// session and sends no mail (the CLI uses it directly).
func (s *Service) CreateUser(ctx context.Context, in SignupInput, m Meta) (*latchkey.User, error) {
	return s.createUser(ctx, in, m, false)
}

// checkSignup validates what a new account is made from, and returns its
// canonical address and clean name.
func (s *Service) checkSignup(in SignupInput) (email, name string, err error) {
	if email, err = CanonicalEmail(in.Email); err != nil {
		return "", "", err
	}
	if name, err = CleanName(in.Name); err != nil {
		return "", "", err
	}
	if err := s.policy.Check(in.Password, email); err != nil {
		return "", "", err
	}
	return email, name, nil
}

// createUser is CreateUser; verify also queues the verification mail in
// the transaction that creates the account.
func (s *Service) createUser(ctx context.Context, in SignupInput, m Meta, verify bool) (*latchkey.User, error) {
	email, name, err := s.checkSignup(in)
	if err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	roles := in.Roles
	if len(roles) == 0 {
		roles = []string{latchkey.RoleUser}
	}
	if roles, err = ValidateRoles(roles); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	u := &latchkey.User{ID: latchkey.NewID(now), Email: email, Name: name, Roles: roles, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	err = s.store.InTx(ctx, func(tx latchkey.Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, latchkey.AuditSignup, latchkey.OutcomeSuccess, "", u.ID, "", m); err != nil {
			return err
		}
		if !verify {
			return nil
		}
		return s.mailVerification(ctx, tx, u, m)
	})
	if latchkey.IsCode(err, latchkey.EConflict) {
		return nil, latchkey.Errorf(latchkey.EConflict, "An account with this email address already exists.")
	}
	if err != nil {
		return nil, err
	}
	if verify {
		s.mailQueued()
	}
	return u, nil
}

// Signup creates an account and signs it in; unless --email-verification
// is off, it also mails a verification link. With verification required
// it is refused: SignupPending is the sign-up then.
func (s *Service) Signup(ctx context.Context, in SignupInput, m Meta) (*Tokens, error) {
	if s.EmailVerificationRequired() {
		return nil, latchkey.Errorf(latchkey.EInternal, "sign-up with tokens while email verification is required")
	}
	in.Roles = nil // sign-up never chooses roles
	u, err := s.createUser(ctx, in, m, s.verificationMode() != VerificationOff)
	if err != nil {
		return nil, err
	}
	return s.StartSession(ctx, u, m, SignUpPassword)
}

// Login checks an email and password and starts a session. A wrong
// password, an unknown email and a disabled account all give the same
// error after the same amount of hashing work.
func (s *Service) Login(ctx context.Context, emailIn, pw string, m Meta) (*Tokens, error) {
	if err := password.CheckLength(pw); err != nil {
		return nil, err
	}
	u, err := s.CheckPassword(ctx, emailIn, pw, m)
	if err != nil {
		return nil, err
	}
	return s.StartSession(ctx, u, m, SignInPassword)
}

// CheckPassword returns the enabled user with this email and password, or
// invalid_credentials; with --email-verification required, an unproven
// address is refused with email_not_verified (after the password was
// checked: the refusal tells only the password's owner something). Failures
// are audited as login.failed.
func (s *Service) CheckPassword(ctx context.Context, emailIn, pw string, m Meta) (*latchkey.User, error) {
	if err := password.CheckLength(pw); err != nil {
		return nil, err
	}
	email, err := CanonicalEmail(emailIn)
	if err != nil {
		// Still refuse in constant work: a malformed email is not a hint.
		return nil, s.loginFailedAfterDummy(ctx, pw, "", "malformed_email", m)
	}
	u, err := s.store.UserByEmail(ctx, email)
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return nil, s.loginFailedAfterDummy(ctx, pw, "", "unknown_email", m)
	}
	if err != nil {
		return nil, err
	}
	if u.PasswordHash == "" {
		return nil, s.loginFailedAfterDummy(ctx, pw, u.ID, "no_password", m)
	}
	ok, rehash, err := s.hasher.Verify(ctx, pw, u.PasswordHash)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, s.loginFailed(ctx, u.ID, "wrong_password", m)
	}
	if u.Disabled {
		return nil, s.loginFailed(ctx, u.ID, "disabled", m)
	}
	if s.EmailVerificationRequired() && !u.EmailVerified() {
		if err := s.Audit(ctx, latchkey.AuditEvent{Type: latchkey.AuditLoginFailed, UserID: u.ID, IP: m.IP, UserAgent: m.UserAgent,
			Outcome: latchkey.OutcomeFailure, Reason: "email_not_verified"}); err != nil {
			return nil, err
		}
		return nil, errEmailNotVerified
	}
	if rehash {
		s.upgradeHash(ctx, u, pw)
	}
	return u, nil
}

// loginFailedAfterDummy spends the same hashing work as a real check, so
// that an unknown email cannot be told from a wrong password by timing. A
// busy hasher is reported as such for every kind of failure alike.
func (s *Service) loginFailedAfterDummy(ctx context.Context, pw, userID, reason string, m Meta) error {
	if err := s.hasher.VerifyDummy(ctx, pw); err != nil {
		return err
	}
	return s.loginFailed(ctx, userID, reason, m)
}

func (s *Service) loginFailed(ctx context.Context, userID, reason string, m Meta) error {
	s.events.Login("failure")
	err := s.Audit(ctx, latchkey.AuditEvent{Type: latchkey.AuditLoginFailed, UserID: userID, IP: m.IP, UserAgent: m.UserAgent,
		Outcome: latchkey.OutcomeFailure, Reason: reason})
	if err != nil {
		return err // fail closed: an unrecorded failure is not answered as a plain 401
	}
	return errInvalidCredentials
}

// upgradeHash re-hashes a password whose stored parameters are outdated.
// It replaces only the hash it verified: if the password was changed
// meanwhile, the new one stays. Failure is logged, not fatal: the login
// itself was valid.
func (s *Service) upgradeHash(ctx context.Context, u *latchkey.User, pw string) {
	hash, err := s.hasher.Hash(ctx, pw)
	if err == nil {
		err = s.store.SetPasswordHash(ctx, u.ID, u.PasswordHash, hash, s.now().UTC())
		if latchkey.IsCode(err, latchkey.EConflict) {
			return
		}
	}
	if err != nil {
		s.log.WarnContext(ctx, "password rehash failed", "user_id", u.ID, "err", err)
		return
	}
	u.PasswordHash, u.UpdatedAt = hash, s.now().UTC()
}

// StartSession creates a session with its first refresh token, records
// how it was authenticated (how.AMR) and audits it (how.Audit, "" for
// none), and issues an access token.
func (s *Service) StartSession(ctx context.Context, u *latchkey.User, m Meta, how SignIn) (*Tokens, error) {
	var st *newSession
	err := s.store.InTx(ctx, func(tx latchkey.Tx) error {
		var err error
		st, err = s.startSessionTx(ctx, tx, u, m, how)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.sessionStarted(u, st, how.Audit)
}

// newSession is a session created in a transaction that has yet to commit.
type newSession struct {
	sess    *latchkey.Session
	refresh string
	ended   []string // sessions ended by the cap
}

// startSessionTx creates a session with its first refresh token within tx.
func (s *Service) startSessionTx(ctx context.Context, tx latchkey.Tx, u *latchkey.User, m Meta, how SignIn) (*newSession, error) {
	now := s.now().UTC()
	sess := &latchkey.Session{ID: latchkey.NewID(now), UserID: u.ID, CreatedAt: now, LastUsedAt: now, AuthTime: now,
		AMR: AddAMR(nil, how.AMR...), ExpiresAt: now.Add(s.cfg.RefreshTokenTTL), IP: m.IP, UserAgent: truncate(m.UserAgent, 512)}
	rt := crypt.RandomToken(32)
	if err := tx.CreateSession(ctx, sess); err != nil {
		return nil, err
	}
	ended, err := s.capSessions(ctx, tx, u.ID, m)
	if err != nil {
		return nil, err
	}
	if err := tx.CreateRefreshToken(ctx, &latchkey.RefreshToken{Hash: crypt.Hash(rt), SessionID: sess.ID, UserID: u.ID,
		CreatedAt: now, ExpiresAt: sess.ExpiresAt}); err != nil {
		return nil, err
	}
	if how.Audit != "" {
		if err := s.audit(ctx, tx, how.Audit, latchkey.OutcomeSuccess, "", u.ID, sess.ID, m); err != nil {
			return nil, err
		}
	}
	return &newSession{sess: sess, refresh: rt, ended: ended}, nil
}

// sessionStarted reports a committed new session and issues its tokens.
func (s *Service) sessionStarted(u *latchkey.User, st *newSession, auditType string) (*Tokens, error) {
	s.sessionsEnded(st.ended)
	if auditType == latchkey.AuditLoginSucceeded || auditType == latchkey.AuditEmailSignIn {
		s.events.Login("success")
	}
	return s.tokens(u, st.sess, st.refresh)
}

// MaxSessionsPerUser caps a user's live sessions. A sign-in beyond it ends
// the oldest ones (SES-10), so a script that signs in in a loop cannot grow
// the session table, or a user's session list, without bound.
const MaxSessionsPerUser = 100

// capSessions ends the user's oldest live sessions beyond the cap, inside
// the transaction that just created a new one, and audits each.
func (s *Service) capSessions(ctx context.Context, tx latchkey.Tx, userID string, m Meta) ([]string, error) {
	now := s.now().UTC()
	live, err := tx.ListSessions(ctx, userID, now) // newest first
	if err != nil || len(live) <= MaxSessionsPerUser {
		return nil, err
	}
	var ended []string
	for _, old := range live[MaxSessionsPerUser:] {
		if err := tx.RevokeSession(ctx, old.ID, now); err != nil {
			return nil, err
		}
		if err := s.audit(ctx, tx, latchkey.AuditSessionRevoked, latchkey.OutcomeSuccess, "session cap reached", userID, old.ID, m); err != nil {
			return nil, err
		}
		ended = append(ended, old.ID)
	}
	return ended, nil
}

func (s *Service) sessionsEnded(ids []string) {
	if len(ids) > 0 {
		s.events.SessionsRevoked(ids)
	}
}

// tokens issues an access token for the session and assembles the response.
func (s *Service) tokens(u *latchkey.User, sess *latchkey.Session, refresh string) (*Tokens, error) {
	at, exp, err := s.issuer.Issue(token.Grant{UserID: u.ID, SessionID: sess.ID, Roles: u.Roles,
		AuthTime: sess.AuthTime, EmailVerified: u.EmailVerified(), AMR: sess.AMR, ACR: ACRFor(sess.AMR)})
	if err != nil {
		return nil, err
	}
	s.events.TokensIssued("access")
	s.events.TokensIssued("refresh")
	return &Tokens{AccessToken: latchkey.Secret(at), AccessExpiresAt: exp, RefreshToken: latchkey.Secret(refresh),
		RefreshExpiresAt: sess.ExpiresAt, Session: sess, User: u}, nil
}

var errPasswordChangedMeanwhile = latchkey.Errorf(latchkey.EConflict, "The password was changed meanwhile; try again.")

// PasswordChange is a password change asked for by a signed-in user.
type PasswordChange struct {
	Current, New string
	// RevokeAPIKeys also revokes every API key of the account, as someone
	// does who fears a stolen session minted one.
	RevokeAPIKeys bool
}

// ChangePassword replaces the user's password after checking the current
// one, and ends every other session of theirs (and, if asked, every API
// key). The slow work (verifying, hashing) happens before the transaction;
// the transaction writes only the hash, and only if nobody changed it,
// revoked the session or disabled the user meanwhile.
func (s *Service) ChangePassword(ctx context.Context, p *Principal, c PasswordChange, m Meta) error {
	userID, sessionID, current, next := p.User.ID, p.SessionID, c.Current, c.New
	if err := password.CheckLength(current); err != nil {
		return err
	}
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	ok := false
	if u.PasswordHash != "" {
		if ok, _, err = s.hasher.Verify(ctx, current, u.PasswordHash); err != nil {
			return err
		}
	} else if err := s.hasher.VerifyDummy(ctx, current); err != nil {
		return err
	}
	if !ok {
		return latchkey.Errorf(latchkey.EInvalidCredentials, "The current password is incorrect.")
	}
	if err := s.policy.Check(next, u.Email); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	var revoked, keys []string
	err = s.store.InTx(ctx, func(tx latchkey.Tx) error {
		revoked, keys = nil, nil
		now := s.now().UTC()
		// The write comes first: on PostgreSQL it waits for the row lock
		// of any transaction that is changing the user, so the checks
		// below see what such a transaction decided.
		err := tx.SetPasswordHash(ctx, userID, u.PasswordHash, hash, now)
		if latchkey.IsCode(err, latchkey.EConflict) {
			return errPasswordChangedMeanwhile
		}
		if err != nil {
			return err
		}
		// A session revoked, or a user disabled, since the request was
		// authenticated makes the change fail as the request would have
		// had it come a moment later.
		sess, _, why, err := s.liveSession(ctx, tx, sessionID, now)
		if err != nil {
			return err
		}
		if why != "" || sess.UserID != userID {
			return errRevoked
		}
		if revoked, err = tx.RevokeUserSessions(ctx, userID, sessionID, now); err != nil {
			return err
		}
		if c.RevokeAPIKeys {
			if keys, err = s.revokeAllKeys(ctx, tx, userID, sessionID, m); err != nil {
				return err
			}
		}
		reason := ""
		if c.RevokeAPIKeys {
			reason = "api keys revoked"
		}
		return s.audit(ctx, tx, latchkey.AuditPasswordChanged, latchkey.OutcomeSuccess, reason, userID, sessionID, m)
	})
	if err != nil {
		return err
	}
	s.events.SessionsRevoked(revoked)
	if len(keys) > 0 {
		s.events.APIKeysRevoked(keys)
	}
	return nil
}

// UpdateProfile changes what a user may change about themselves; it
// writes only those fields.
func (s *Service) UpdateProfile(ctx context.Context, userID string, name *string, m Meta) (*latchkey.User, error) {
	p := latchkey.UserPatch{}
	if name != nil {
		clean, err := CleanName(*name)
		if err != nil {
			return nil, err
		}
		p.Name = &clean
	}
	var u *latchkey.User
	err := s.store.InTx(ctx, func(tx latchkey.Tx) error {
		p.UpdatedAt = s.now().UTC()
		var err error
		if u, err = tx.UpdateUser(ctx, userID, p); err != nil {
			return err
		}
		return s.audit(ctx, tx, latchkey.AuditUserUpdated, latchkey.OutcomeSuccess, "profile", u.ID, "", m)
	})
	return u, err
}

// CleanName trims a display name and refuses control characters (which
// would let a name forge log lines or reorder text with RTL overrides).
func CleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxNameLength {
		return "", latchkey.Errorf(latchkey.EInvalidRequest, "The name must be valid text of at most %d characters.", MaxNameLength)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return "", latchkey.Errorf(latchkey.EInvalidRequest, "The name contains a control character.")
		}
	}
	return name, nil
}
