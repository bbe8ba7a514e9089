package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/jsoncheck"
)

// Passkey limits.
const (
	MaxPasskeysPerUser   = 20
	MaxPasskeyNameLength = 64
	// PasskeyChallengeTTL is how long a ceremony may take, from begin to
	// finish; the browser is told the same (the options' timeout).
	PasskeyChallengeTTL = 5 * time.Minute
	// MaxPasskeyResponseBytes bounds the credential a browser sends back
	// (an attestation with a certificate chain is a few KiB).
	MaxPasskeyResponseBytes = 64 << 10
)

// PasskeyConfig is the WebAuthn relying party. It comes from
// configuration only (--webauthn-rp-id, the origins of --issuer and
// --public-url, --webauthn-origins), never from a request: a forged Host
// header must not change which site a passkey is for.
type PasskeyConfig struct {
	// RPID is the relying party ID, a domain; "" turns passkeys off.
	RPID string
	// RPName is what authenticators show for it.
	RPName string
	// Origins are the exact origins (scheme://host[:port]) a browser may
	// report in a ceremony.
	Origins []string
}

// relyingParty is go-webauthn set up for latchkey: user verification
// required (a passkey sign-in is then multi-factor), resident keys
// preferred (username-less sign-in), no attestation asked for.
type relyingParty struct {
	cfg PasskeyConfig
	wa  *webauthn.WebAuthn
}

func newRelyingParty(c PasskeyConfig) (*relyingParty, error) {
	if c.RPID == "" {
		return nil, nil
	}
	if c.RPName == "" {
		c.RPName = "latchkey"
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:                  c.RPID,
		RPDisplayName:         c.RPName,
		RPOrigins:             c.Origins,
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementPreferred,
			RequireResidentKey: protocol.ResidentKeyNotRequired(),
			UserVerification:   protocol.VerificationRequired,
		},
		// The options tell the browser how long it has; latchkey's own
		// clock enforces it (the challenge row expires), not go-webauthn's.
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: PasskeyChallengeTTL, TimeoutUVD: PasskeyChallengeTTL},
			Registration: webauthn.TimeoutConfig{Timeout: PasskeyChallengeTTL, TimeoutUVD: PasskeyChallengeTTL},
		},
	})
	if err != nil {
		return nil, err
	}
	return &relyingParty{cfg: c, wa: wa}, nil
}

var (
	errPasskeysOff = latchkey.Errorf(latchkey.ENotFound, "Passkeys are not enabled on this server.")
	errPasskeyGone = latchkey.Errorf(latchkey.ENotFound, "No such passkey.")
	// errCeremonyUnknown: the challenge in the response was never issued,
	// was spent already, expired, or belongs to another session.
	errCeremonyUnknown = latchkey.Errorf(latchkey.EInvalidRequest,
		"This passkey request is unknown, was used already or expired: start again.")
)

// PasskeysEnabled reports whether the relying party is configured.
func (s *Service) PasskeysEnabled() bool { return s.passkeys != nil }

// relyingParty returns the configured relying party, or errPasskeysOff.
func (s *Service) relyingParty() (*relyingParty, error) {
	if s.passkeys == nil {
		return nil, errPasskeysOff
	}
	return s.passkeys, nil
}

// passkeyUser is an account as go-webauthn sees it. Its user handle is
// latchkey's user id: opaque, and no personal data.
type passkeyUser struct {
	u     *latchkey.User
	creds []webauthn.Credential
}

func (p passkeyUser) WebAuthnID() []byte   { return []byte(p.u.ID) }
func (p passkeyUser) WebAuthnName() string { return p.u.Email }
func (p passkeyUser) WebAuthnDisplayName() string {
	if p.u.Name != "" {
		return p.u.Name
	}
	return p.u.Email
}
func (p passkeyUser) WebAuthnCredentials() []webauthn.Credential { return p.creds }

// CleanPasskeyName checks a passkey's name; "" becomes "Passkey".
func CleanPasskeyName(name string) (string, error) {
	name, err := CleanName(name)
	if err != nil || utf8.RuneCountInString(name) > MaxPasskeyNameLength {
		return "", latchkey.Errorf(latchkey.EInvalidRequest, "A passkey's name is text of at most %d characters, without control characters.", MaxPasskeyNameLength)
	}
	if name == "" {
		name = "Passkey"
	}
	return name, nil
}

func errTooManyPasskeys() error {
	return latchkey.Errorf(latchkey.EConflict, "An account may have at most %d passkeys: remove one first.", MaxPasskeysPerUser)
}

// BeginPasskeyRegistration starts registering a passkey for the signed-in
// user (the route asks for a fresh sign-in): it returns the creation
// options for navigator.credentials.create (PublicKeyCredentialCreation-
// OptionsJSON), with the user's passkeys in excludeCredentials so that an
// authenticator cannot register twice. The challenge is kept, hashed, for
// PasskeyChallengeTTL, bound to this user and session; name is the new
// passkey's ("" for the default).
func (s *Service) BeginPasskeyRegistration(ctx context.Context, p *Principal, name string, m Meta) (json.RawMessage, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	if p.SessionID == "" {
		return nil, latchkey.Errorf(latchkey.EForbidden, "Registering a passkey needs a signed-in session; an API key has none.")
	}
	if name, err = CleanPasskeyName(name); err != nil {
		return nil, err
	}
	existing, err := s.store.ListPasskeys(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	if len(existing) >= MaxPasskeysPerUser {
		return nil, errTooManyPasskeys()
	}
	exclude := make([]protocol.CredentialDescriptor, 0, len(existing))
	for _, pk := range existing {
		exclude = append(exclude, protocol.CredentialDescriptor{Type: protocol.PublicKeyCredentialType,
			CredentialID: pk.CredentialID, Transport: transports(pk.Transports)})
	}
	creation, _, err := rp.wa.BeginRegistration(passkeyUser{u: p.User}, webauthn.WithExclusions(exclude))
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	c := &latchkey.PasskeyChallenge{Hash: challengeHash(creation.Response.Challenge), Purpose: latchkey.ChallengeRegister,
		UserID: p.User.ID, SessionID: p.SessionID, Name: name, CreatedAt: now, ExpiresAt: now.Add(PasskeyChallengeTTL)}
	if err := s.store.CreatePasskeyChallenge(ctx, c); err != nil {
		return nil, err
	}
	return json.Marshal(creation.Response)
}

// FinishPasskeyRegistration verifies what navigator.credentials.create
// returned (RegistrationResponseJSON, as @simplewebauthn/browser or
// PublicKeyCredential.toJSON give it) and stores the passkey. The
// challenge is spent first, whatever the outcome; it must have been begun
// by this user in this session. A credential registered already, to this
// account or another, is refused (PK-03).
func (s *Service) FinishPasskeyRegistration(ctx context.Context, p *Principal, body []byte, m Meta) (*latchkey.Passkey, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	fail := func(reason string, err error) error {
		if aerr := s.Audit(ctx, latchkey.AuditEvent{Type: latchkey.AuditPasskeyRegistered, UserID: p.User.ID, SessionID: p.SessionID,
			IP: m.IP, UserAgent: m.UserAgent, Outcome: latchkey.OutcomeFailure, Reason: reason}); aerr != nil {
			return aerr
		}
		return err
	}
	parsed, err := readRegistration(body)
	if err != nil {
		return nil, fail("unreadable", err)
	}
	c, err := s.spendChallenge(ctx, latchkey.ChallengeRegister, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return nil, fail("challenge", err)
	}
	if c.UserID != p.User.ID || c.SessionID != p.SessionID {
		return nil, fail("challenge_of_another_session", errCeremonyUnknown)
	}
	session := webauthn.SessionData{Challenge: parsed.Response.CollectedClientData.Challenge, RelyingPartyID: rp.cfg.RPID,
		UserID: []byte(p.User.ID), UserVerification: protocol.VerificationRequired, CredParams: webauthn.CredentialParametersDefault()}
	cred, err := rp.wa.CreateCredential(passkeyUser{u: p.User}, session, parsed)
	if err != nil {
		reason := ceremonyReason(err)
		return nil, fail(reason, latchkey.WrapError(latchkey.EInvalidRequest, "The passkey could not be registered: "+reasonText(reason)+".", err))
	}
	now := s.now().UTC()
	be, bs := cred.Flags.BackupEligible, cred.Flags.BackupState
	pk := &latchkey.Passkey{ID: latchkey.NewID(now), UserID: p.User.ID, CredentialID: cred.ID, PublicKey: cred.PublicKey,
		AAGUID: cred.Authenticator.AAGUID, SignCount: cred.Authenticator.SignCount, BackupEligible: &be, BackedUp: &bs,
		AttestationType: cred.AttestationType, Name: c.Name, CreatedAt: now}
	for _, t := range cred.Transport {
		pk.Transports = append(pk.Transports, string(t))
	}
	err = s.store.InTx(ctx, func(tx latchkey.Tx) error {
		existing, err := tx.ListPasskeys(ctx, p.User.ID)
		if err != nil {
			return err
		}
		if len(existing) >= MaxPasskeysPerUser {
			return errTooManyPasskeys()
		}
		if err := tx.CreatePasskey(ctx, pk); latchkey.IsCode(err, latchkey.EConflict) {
			return errPasskeyTaken
		} else if err != nil {
			return err
		}
		return s.audit(ctx, tx, latchkey.AuditPasskeyRegistered, latchkey.OutcomeSuccess, "passkey "+pk.ID+" "+passkeyAMR(be),
			p.User.ID, p.SessionID, m)
	})
	switch {
	case errors.Is(err, errPasskeyTaken):
		return nil, fail("credential_registered_already", err)
	case latchkey.IsCode(err, latchkey.EConflict):
		return nil, fail("too_many", err)
	case err != nil:
		return nil, err
	}
	return pk, nil
}

var errPasskeyTaken = latchkey.Errorf(latchkey.EConflict, "This passkey is registered already.")

// ListPasskeys returns the user's passkeys, newest first.
func (s *Service) ListPasskeys(ctx context.Context, userID string) ([]latchkey.Passkey, error) {
	return s.store.ListPasskeys(ctx, userID)
}

// RenamePasskey names one of the principal's passkeys.
func (s *Service) RenamePasskey(ctx context.Context, p *Principal, id, name string, m Meta) error {
	name, err := CleanPasskeyName(name)
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx latchkey.Tx) error {
		if err := tx.RenamePasskey(ctx, p.User.ID, id, name); latchkey.IsCode(err, latchkey.ENotFound) {
			return errPasskeyGone
		} else if err != nil {
			return err
		}
		return s.audit(ctx, tx, latchkey.AuditPasskeyRenamed, latchkey.OutcomeSuccess, "passkey "+id, p.User.ID, p.SessionID, m)
	})
}

var errLastFactor = latchkey.Errorf(latchkey.EConflict,
	"Your role needs a second factor: add another passkey or an authenticator app before removing your last passkey.")

// RemovePasskey removes one of the principal's passkeys (the route asks
// for a fresh sign-in). Another user's passkey is reported as not found,
// so ids cannot be probed. A user whose role requires a second factor
// (--mfa-required-roles) cannot remove the last one: without a passkey or
// an active authenticator app, no sign-in of theirs could reach aal2.
func (s *Service) RemovePasskey(ctx context.Context, p *Principal, id string, m Meta) error {
	return s.store.InTx(ctx, func(tx latchkey.Tx) error {
		if err := tx.DeletePasskey(ctx, p.User.ID, id); latchkey.IsCode(err, latchkey.ENotFound) {
			return errPasskeyGone
		} else if err != nil {
			return err
		}
		if s.MFARequiredFor(p.User) {
			left, err := tx.ListPasskeys(ctx, p.User.ID)
			if err != nil {
				return err
			}
			app, err := hasActiveFactor(ctx, tx, p.User.ID)
			if err != nil {
				return err
			}
			if len(left) == 0 && !app {
				return errLastFactor // rolls the removal back
			}
		}
		return s.audit(ctx, tx, latchkey.AuditPasskeyRemoved, latchkey.OutcomeSuccess, "passkey "+id, p.User.ID, p.SessionID, m)
	})
}

// spendChallenge consumes the challenge a response carries (its
// clientDataJSON's challenge, base64url): once, whatever comes next.
func (s *Service) spendChallenge(ctx context.Context, purpose, encoded string) (*latchkey.PasskeyChallenge, error) {
	raw, ok := decodeChallenge(encoded)
	if !ok {
		return nil, errCeremonyUnknown
	}
	c, err := s.store.ConsumePasskeyChallenge(ctx, purpose, challengeHash(raw), s.now().UTC())
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return nil, errCeremonyUnknown
	}
	return c, err
}

// decodeChallenge reads a response's challenge (base64url, padding
// tolerated); no challenge latchkey issues is empty.
func decodeChallenge(encoded string) ([]byte, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(encoded, "="))
	return raw, err == nil && len(raw) > 0
}

// readRegistration and readAssertion check a finish's body and parse it;
// every refusal is a client error.
func readRegistration(body []byte) (*protocol.ParsedCredentialCreationData, error) {
	if err := checkCeremonyBody(body); err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		return nil, errUnreadablePasskey(err)
	}
	return parsed, nil
}

func readAssertion(body []byte) (*protocol.ParsedCredentialAssertionData, error) {
	if err := checkCeremonyBody(body); err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		return nil, errUnreadablePasskey(err)
	}
	return parsed, nil
}

func challengeHash(raw []byte) []byte {
	h := sha256.Sum256(raw)
	return h[:]
}

// checkCeremonyBody refuses what no browser sends: an oversized body, or
// JSON with duplicate or case-variant members (which two parsers could
// read differently). Unknown members are allowed: browsers add them
// (authenticatorAttachment, clientExtensionResults, …) as WebAuthn grows.
func checkCeremonyBody(body []byte) error {
	if len(body) > MaxPasskeyResponseBytes {
		return latchkey.Errorf(latchkey.EPayloadTooLarge, "The passkey response is larger than %d bytes.", MaxPasskeyResponseBytes)
	}
	if err := jsoncheck.Check(body); err != nil {
		return latchkey.Errorf(latchkey.EInvalidRequest, "%s", err.Error())
	}
	return nil
}

func errUnreadablePasskey(err error) error {
	return latchkey.WrapError(latchkey.EInvalidRequest, "The passkey response could not be read: send the credential as PublicKeyCredential.toJSON() gives it.", err)
}

func transports(l []string) []protocol.AuthenticatorTransport {
	out := make([]protocol.AuthenticatorTransport, 0, len(l))
	for _, t := range l {
		out = append(out, protocol.AuthenticatorTransport(t))
	}
	return out
}

// passkeyAMR is the RFC 8176 method a passkey proves: hwk for a key bound
// to one device (the authenticator says it is not backup-eligible, and
// never said so), swk for a synced passkey, whose private key may also
// live in a cloud keychain or password manager.
func passkeyAMR(backupEligible bool) string {
	if backupEligible {
		return AMRSoftware
	}
	return AMRHardware
}

// ceremonyReason names why go-webauthn refused a response, for the audit
// log and the registration error.
func ceremonyReason(err error) string {
	var pe *protocol.Error
	if !errors.As(err, &pe) {
		return "invalid_response"
	}
	switch {
	case pe.Details == "Error validating origin":
		return "wrong_origin"
	case strings.HasPrefix(pe.DevInfo, "RP Hash mismatch"):
		return "wrong_rp_id"
	case strings.HasPrefix(pe.DevInfo, "User verification required"):
		return "user_not_verified"
	case strings.HasPrefix(pe.DevInfo, "User presence required"):
		return "user_not_present"
	case pe.Details == "Error validating ceremony type":
		return "wrong_ceremony"
	case pe.Details == "Error validating cross origin flag" || strings.Contains(pe.Details, "topOrigin"):
		return "cross_origin"
	case strings.Contains(pe.Details, "Backup State"):
		return "invalid_flags"
	case pe.Type == protocol.ErrAssertionSignature.Type:
		return "bad_signature"
	}
	return "invalid_response"
}

var reasonTexts = map[string]string{
	"wrong_origin":      "it was made for another site (origin)",
	"wrong_rp_id":       "it was made for another relying party ID",
	"user_not_verified": "the authenticator did not verify the user (PIN or biometrics are required)",
	"user_not_present":  "the authenticator did not confirm the user's presence",
	"wrong_ceremony":    "it is not a registration response",
	"cross_origin":      "it was made in a frame of another site",
	"invalid_flags":     "the authenticator reported inconsistent flags",
	"bad_signature":     "its signature is invalid",
}

func reasonText(reason string) string {
	if t, ok := reasonTexts[reason]; ok {
		return t
	}
	return "the response is invalid"
}
