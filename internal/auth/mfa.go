package auth

import (
	"context"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/mfa"
)

// MFAConfig shapes second factors.
type MFAConfig struct {
	// Issuer names the service in authenticator apps (the otpauth URI's
	// issuer; default: Email.Product).
	Issuer string
	// RequiredRoles are the roles that act only from a session that proved
	// a second factor (--mfa-required-roles): see MFARequiredFor.
	RequiredRoles []string
}

// The numbers of second factors.
const (
	// EnrollmentTTL is how long a new TOTP factor waits for its first code.
	EnrollmentTTL = 30 * time.Minute
	// MaxTOTPFactors bounds a user's authenticators, pending ones included.
	MaxTOTPFactors = 10
	// MaxFactorName bounds an authenticator's name, in characters.
	MaxFactorName = 64
	// MaxCodeLength bounds a TOTP or recovery code before any work.
	MaxCodeLength = 64
)

// RecoveryKeyPurpose is the purpose under which the key of recovery-code
// hashes is derived from the master key (crypt.DeriveKey).
const RecoveryKeyPurpose = "latchkey recovery codes v1"

var (
	errInvalidMFACode = latchkey.Errorf(latchkey.EInvalidMFACode, "The code is incorrect, or was used already.")
	errNoFactor       = latchkey.Errorf(latchkey.ENotFound, "No such authenticator.")
	errStepUpFirst    = latchkey.Errorf(latchkey.EInsufficientAuthentication,
		"This needs a session that proved a second factor: verify a code (POST /v1/auth/mfa/verify) and try again.")
	errNeedsMFASession = latchkey.Errorf(latchkey.EForbidden, "This needs a signed-in session; an API key has none.")
)

// MFAProof is a second factor as a person gives it: a TOTP code or a
// recovery code, exactly one of them.
type MFAProof struct {
	Code         string
	RecoveryCode string
}

func (p MFAProof) check() error {
	switch {
	case (p.Code == "") == (p.RecoveryCode == ""):
		return latchkey.Errorf(latchkey.EInvalidRequest, "Give either code or recovery_code.")
	case len(p.Code) > MaxCodeLength || len(p.RecoveryCode) > MaxCodeLength:
		return errInvalidMFACode
	}
	return nil
}

// method is the proof's name in the audit log.
func (p MFAProof) method() string {
	if p.RecoveryCode != "" {
		return "recovery_code"
	}
	return "totp"
}

// TOTPEnrollment is a new, unconfirmed authenticator and what the person
// needs to add it to their app. It is shown once: the secret is never
// shown again.
type TOTPEnrollment struct {
	Factor *latchkey.TOTPFactor
	Secret mfa.Secret
	URI    string // otpauth://
	QRSVG  string // the URI as a QR code, an SVG document
}

// MFAStatus is a user's second factors.
type MFAStatus struct {
	// TOTP lists the confirmed authenticators and the pending ones whose
	// enrollment has not lapsed, oldest first.
	TOTP []latchkey.TOTPFactor
	// RecoveryCodesLeft counts the unused recovery codes.
	RecoveryCodesLeft int
}

// Active reports whether the user has a confirmed factor.
func (m *MFAStatus) Active() bool {
	return slices.ContainsFunc(m.TOTP, func(f latchkey.TOTPFactor) bool { return f.Confirmed() })
}

// MFA returns the user's second factors.
func (s *Service) MFA(ctx context.Context, userID string) (*MFAStatus, error) {
	all, err := s.store.ListTOTPFactors(ctx, userID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	st := &MFAStatus{}
	for _, f := range all {
		if f.Confirmed() || (f.ExpiresAt != nil && now.Before(*f.ExpiresAt)) {
			st.TOTP = append(st.TOTP, f)
		}
	}
	if st.RecoveryCodesLeft, err = s.store.CountRecoveryCodes(ctx, userID); err != nil {
		return nil, err
	}
	return st, nil
}

// HasMFA reports whether the user has a confirmed second factor: a
// sign-in then asks for it.
func (s *Service) HasMFA(ctx context.Context, userID string) (bool, error) {
	return hasActiveFactor(ctx, s.store, userID)
}

// HasSecondFactor reports whether the user can reach aal2 at all: an
// active authenticator app, or a passkey (which proves two factors on its
// own when passkeys are on). Unlike HasMFA it does not mean a password
// sign-in asks for a second step: that is the authenticator app's switch.
func (s *Service) HasSecondFactor(ctx context.Context, userID string) (bool, error) {
	if has, err := s.HasMFA(ctx, userID); has || err != nil {
		return has, err
	}
	if !s.PasskeysEnabled() {
		return false, nil
	}
	passkeys, err := s.store.ListPasskeys(ctx, userID)
	return len(passkeys) > 0, err
}

// UsersWithMFA reports which of the users of a page (at most 200) have a
// confirmed second factor, in one query: a user list shows it without a
// query per user.
func (s *Service) UsersWithMFA(ctx context.Context, users []latchkey.User) (map[string]bool, error) {
	ids := make([]string, len(users))
	for i := range users {
		ids[i] = users[i].ID
	}
	with, err := s.store.UsersWithMFA(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(with))
	for _, id := range with {
		out[id] = true
	}
	return out, nil
}

func hasActiveFactor(ctx context.Context, st latchkey.MFAStore, userID string) (bool, error) {
	all, err := st.ListTOTPFactors(ctx, userID)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(all, func(f latchkey.TOTPFactor) bool { return f.Confirmed() }), nil
}

// MFARequiredFor reports whether u holds a role of --mfa-required-roles:
// such a user acts in that role only from a session at aal2.
func (s *Service) MFARequiredFor(u *latchkey.User) bool {
	return slices.ContainsFunc(s.mfa.RequiredRoles, u.HasRole)
}

// MFARequiredForRole reports whether role is one of --mfa-required-roles.
func (s *Service) MFARequiredForRole(role string) bool {
	return slices.Contains(s.mfa.RequiredRoles, role)
}

// EnrollTOTP starts adding an authenticator app: a fresh secret (160
// bits), sealed with the master key and stored unconfirmed until
// ConfirmTOTP sees a code from it. A user who already has a factor adds
// another only from a session that proved one (aal2): a stolen
// single-factor session must not enroll the thief's phone.
func (s *Service) EnrollTOTP(ctx context.Context, p *Principal, name string, m Meta) (*TOTPEnrollment, error) {
	if p.SessionID == "" {
		return nil, errNeedsMFASession
	}
	st, err := s.MFA(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	if st.Active() && p.ACR() != ACRMultiFactor {
		return nil, errStepUpFirst
	}
	if len(st.TOTP) >= MaxTOTPFactors {
		return nil, latchkey.Errorf(latchkey.EConflict, "An account has at most %d authenticators; remove one first.", MaxTOTPFactors)
	}
	if name, err = cleanFactorName(name, len(st.TOTP)); err != nil {
		return nil, err
	}
	secret, err := mfa.NewSecret()
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	f := &latchkey.TOTPFactor{ID: latchkey.NewID(now), UserID: p.User.ID, Name: name, CreatedAt: now,
		ExpiresAt: ptrTo(now.Add(EnrollmentTTL))}
	if f.SealedSecret, err = s.sealer.Seal(secret.Bytes(), factorAAD(f)); err != nil {
		return nil, err
	}
	if err := s.store.CreateTOTPFactor(ctx, f); err != nil {
		return nil, err
	}
	uri := mfa.URI(s.mfa.Issuer, p.User.Email, secret)
	svg, err := mfa.QRSVG(uri)
	if err != nil {
		return nil, err
	}
	return &TOTPEnrollment{Factor: f, Secret: secret, URI: uri, QRSVG: svg}, nil
}

// cleanFactorName checks an authenticator's name, or names the n-th one.
func cleanFactorName(name string, n int) (string, error) {
	name, err := CleanName(name)
	if err != nil || utf8.RuneCountInString(name) > MaxFactorName {
		return "", latchkey.Errorf(latchkey.EInvalidRequest, "The name must be text of at most %d characters.", MaxFactorName)
	}
	if name == "" {
		name = "Authenticator app"
		if n > 0 {
			name += " " + strconv.Itoa(n+1)
		}
	}
	return name, nil
}

// factorAAD binds a sealed secret to its factor and user: a ciphertext
// copied to another row does not open.
func factorAAD(f *latchkey.TOTPFactor) []byte {
	return []byte("latchkey totp secret\x00" + f.UserID + "\x00" + f.ID)
}

// openSecret unseals a factor's secret.
func (s *Service) openSecret(f *latchkey.TOTPFactor) (mfa.Secret, error) {
	raw, err := s.sealer.Open(f.SealedSecret, factorAAD(f))
	if err != nil {
		return mfa.Secret{}, err
	}
	return mfa.SecretFromBytes(raw)
}

// TOTPConfirmation is an authenticator made active; RecoveryCodes is the
// first set of recovery codes, made when the account had none (shown
// once), or nil.
type TOTPConfirmation struct {
	Factor        *latchkey.TOTPFactor
	RecoveryCodes []string
}

// ConfirmTOTP activates a pending authenticator when code is a current
// code of it. The code's time step is recorded as used, so the enrollment
// code cannot sign in later (MF-01). The first active factor comes with a
// first set of recovery codes.
func (s *Service) ConfirmTOTP(ctx context.Context, p *Principal, id, code string, m Meta) (*TOTPConfirmation, error) {
	if p.SessionID == "" {
		return nil, errNeedsMFASession
	}
	if code == "" || len(code) > MaxCodeLength {
		return nil, latchkey.Errorf(latchkey.EInvalidRequest, "code is required.")
	}
	all, err := s.store.ListTOTPFactors(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(all, func(f latchkey.TOTPFactor) bool { return f.ID == id })
	now := s.now().UTC()
	if i < 0 || all[i].Confirmed() || all[i].ExpiresAt == nil || !now.Before(*all[i].ExpiresAt) {
		return nil, latchkey.Errorf(latchkey.ENotFound, "No such pending authenticator; start again (POST /v1/me/mfa/totp).")
	}
	f := &all[i]
	secret, err := s.openSecret(f)
	if err != nil {
		return nil, err
	}
	step, ok := mfa.Match(secret, mfa.NormalizeCode(code), now)
	if !ok {
		return nil, s.mfaFailed(ctx, p.User.ID, p.SessionID, "enroll_wrong_code", m)
	}
	out := &TOTPConfirmation{Factor: f}
	err = s.store.InTx(ctx, func(tx latchkey.Tx) error {
		out.RecoveryCodes = nil
		if err := tx.ConfirmTOTPFactor(ctx, p.User.ID, id, step, now); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, latchkey.AuditTOTPAdded, latchkey.OutcomeSuccess, "", p.User.ID, p.SessionID, m); err != nil {
			return err
		}
		active := 0
		factors, err := tx.ListTOTPFactors(ctx, p.User.ID)
		if err != nil {
			return err
		}
		for _, f := range factors {
			if f.Confirmed() {
				active++
			}
		}
		left, err := tx.CountRecoveryCodes(ctx, p.User.ID)
		if err != nil || active > 1 || left > 0 {
			return err
		}
		out.RecoveryCodes, err = s.newRecoveryCodes(ctx, tx, p.User.ID, p.SessionID, m)
		return err
	})
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return nil, latchkey.Errorf(latchkey.ENotFound, "No such pending authenticator; start again (POST /v1/me/mfa/totp).")
	}
	if err != nil {
		return nil, err
	}
	f.ConfirmedAt, f.ExpiresAt, f.LastStep, f.LastUsedAt = &now, nil, step, &now
	return out, nil
}

// newRecoveryCodes replaces the user's recovery codes with a fresh set
// within tx, audits it, and returns the codes (shown this once).
func (s *Service) newRecoveryCodes(ctx context.Context, tx latchkey.Tx, userID, sessionID string, m Meta) ([]string, error) {
	codes, err := mfa.NewRecoveryCodes()
	if err != nil {
		return nil, err
	}
	hashes := make([][]byte, len(codes))
	for i, c := range codes {
		hashes[i] = mfa.HashRecoveryCode(s.recoveryKey, c)
	}
	if err := tx.ReplaceRecoveryCodes(ctx, userID, hashes, s.now().UTC()); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, tx, latchkey.AuditRecoveryCodes, latchkey.OutcomeSuccess, "", userID, sessionID, m); err != nil {
		return nil, err
	}
	return codes, nil
}

// RegenerateRecoveryCodes makes a new set of recovery codes and voids the
// old one. It needs an active factor and a session that proved one.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, p *Principal, m Meta) ([]string, error) {
	if p.SessionID == "" {
		return nil, errNeedsMFASession
	}
	active, err := s.HasMFA(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	if !active {
		return nil, latchkey.Errorf(latchkey.EConflict, "Add an authenticator app first: recovery codes stand in for it.")
	}
	if p.ACR() != ACRMultiFactor {
		return nil, errStepUpFirst
	}
	var codes []string
	err = s.store.InTx(ctx, func(tx latchkey.Tx) error {
		codes, err = s.newRecoveryCodes(ctx, tx, p.User.ID, p.SessionID, m)
		return err
	})
	return codes, err
}

// RemoveTOTP removes one of the user's authenticators. Removing the last
// active one turns MFA off, so it needs a second factor now (MF-05): a
// current code (of any active authenticator, this one included) or a
// recovery code, which is spent; the recovery codes go with it.
func (s *Service) RemoveTOTP(ctx context.Context, p *Principal, id string, proof MFAProof, m Meta) error {
	if p.SessionID == "" {
		return errNeedsMFASession
	}
	all, err := s.store.ListTOTPFactors(ctx, p.User.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(all, func(f latchkey.TOTPFactor) bool { return f.ID == id })
	if i < 0 {
		return errNoFactor
	}
	active := 0
	for _, f := range all {
		if f.Confirmed() {
			active++
		}
	}
	last := all[i].Confirmed() && active == 1
	var match *proofMatch
	if last {
		if proof == (MFAProof{}) {
			return latchkey.Errorf(latchkey.EInsufficientAuthentication,
				"Removing your last authenticator turns two-step sign-in off: give a current code or a recovery code.")
		}
		if err := proof.check(); err != nil {
			return err
		}
		if match, err = s.matchProof(all, proof); err != nil {
			return err
		}
		if match == nil {
			return s.mfaFailed(ctx, p.User.ID, p.SessionID, "remove_wrong_code", m)
		}
	}
	spent := true
	err = s.store.InTx(ctx, func(tx latchkey.Tx) error {
		if match != nil {
			var err error
			if spent, err = match.spend(ctx, tx, p.User.ID, s.now().UTC()); err != nil || !spent {
				return err
			}
		}
		if err := tx.DeleteTOTPFactor(ctx, p.User.ID, id); latchkey.IsCode(err, latchkey.ENotFound) {
			return errNoFactor
		} else if err != nil {
			return err
		}
		if last {
			if err := tx.ReplaceRecoveryCodes(ctx, p.User.ID, nil, s.now().UTC()); err != nil {
				return err
			}
		}
		reason := ""
		if last {
			reason = "mfa off"
		}
		return s.audit(ctx, tx, latchkey.AuditTOTPRemoved, latchkey.OutcomeSuccess, reason, p.User.ID, p.SessionID, m)
	})
	if err != nil {
		return err
	}
	if !spent {
		return s.mfaFailed(ctx, p.User.ID, p.SessionID, "remove_spent_code", m)
	}
	return nil
}

// ResetMFA is an administrator's answer to a lost phone and lost codes:
// every factor, recovery code and pending challenge of the user goes, and
// every session ends (the next sign-in is by password alone).
func (s *Service) ResetMFA(ctx context.Context, id string, a Actor) (int, error) {
	var revoked []string
	var removed int
	err := s.store.InTx(ctx, func(tx latchkey.Tx) error {
		if _, err := tx.UserByID(ctx, id); err != nil {
			return notFoundUser(err)
		}
		var err error
		if removed, err = tx.DeleteMFA(ctx, id); err != nil {
			return err
		}
		if revoked, err = tx.RevokeUserSessions(ctx, id, "", s.now().UTC()); err != nil {
			return err
		}
		for _, sid := range revoked {
			if err := s.audit(ctx, tx, latchkey.AuditSessionRevoked, latchkey.OutcomeSuccess, "mfa reset "+a.describe(), id, sid, a.Meta); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, latchkey.AuditMFAResetByAdmin, latchkey.OutcomeSuccess, a.describe(), id, a.SessionID, a.Meta)
	})
	if err != nil {
		return 0, err
	}
	s.events.SessionsRevoked(revoked)
	return removed, nil
}

// mfaFailed audits a wrong second factor and returns invalid_mfa_code (or
// the audit's error: an unrecorded failure is not answered as a refusal).
func (s *Service) mfaFailed(ctx context.Context, userID, sessionID, reason string, m Meta) error {
	if err := s.Audit(ctx, latchkey.AuditEvent{Type: latchkey.AuditMFAFailed, UserID: userID, SessionID: sessionID,
		IP: m.IP, UserAgent: m.UserAgent, Outcome: latchkey.OutcomeFailure, Reason: reason}); err != nil {
		return err
	}
	return errInvalidMFACode
}

// proofMatch is a proof that matched a factor: a TOTP code's factor and
// time step, or a recovery code's hash. Spending it is the compare-and-set
// that makes it single use.
type proofMatch struct {
	factorIDs []string // the factors the code matched (one, in practice)
	step      int64
	recovery  []byte
}

// spend records the proof as used within tx and reports whether it was
// still unused: false for a replayed code or a spent recovery code.
func (pm *proofMatch) spend(ctx context.Context, tx latchkey.Tx, userID string, now time.Time) (bool, error) {
	if pm.recovery != nil {
		return tx.UseRecoveryCode(ctx, userID, pm.recovery, now)
	}
	for _, id := range pm.factorIDs {
		ok, err := tx.UseTOTPStep(ctx, id, pm.step, now)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// matchProof checks a proof against the user's active factors (all) or
// recovery-code key, without spending it; nil when it matches nothing. A
// TOTP code is checked against every active factor in constant time each.
func (s *Service) matchProof(all []latchkey.TOTPFactor, p MFAProof) (*proofMatch, error) {
	if p.RecoveryCode != "" {
		return &proofMatch{recovery: mfa.HashRecoveryCode(s.recoveryKey, p.RecoveryCode)}, nil
	}
	code := mfa.NormalizeCode(p.Code)
	now := s.now()
	var pm *proofMatch
	for i := range all {
		if !all[i].Confirmed() {
			continue
		}
		secret, err := s.openSecret(&all[i])
		if err != nil {
			return nil, err
		}
		if step, ok := mfa.Match(secret, code, now); ok {
			if pm == nil {
				pm = &proofMatch{step: step}
			}
			if step == pm.step {
				pm.factorIDs = append(pm.factorIDs, all[i].ID)
			}
		}
	}
	return pm, nil
}

func ptrTo[T any](v T) *T { return &v }

// PendingTOTP shows a pending authenticator's secret again, to its owner,
// until it is confirmed or its enrollment lapses: the hosted page shows
// the QR code again after a mistyped first code.
func (s *Service) PendingTOTP(ctx context.Context, p *Principal, id string) (*TOTPEnrollment, error) {
	all, err := s.store.ListTOTPFactors(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(all, func(f latchkey.TOTPFactor) bool { return f.ID == id })
	if i < 0 || all[i].Confirmed() || all[i].ExpiresAt == nil || !s.now().Before(*all[i].ExpiresAt) {
		return nil, latchkey.Errorf(latchkey.ENotFound, "No such pending authenticator; start again.")
	}
	secret, err := s.openSecret(&all[i])
	if err != nil {
		return nil, err
	}
	uri := mfa.URI(s.mfa.Issuer, p.User.Email, secret)
	svg, err := mfa.QRSVG(uri)
	if err != nil {
		return nil, err
	}
	return &TOTPEnrollment{Factor: &all[i], Secret: secret, URI: uri, QRSVG: svg}, nil
}
