package auth

import (
	"context"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/apikey"
)

// API-key limits.
const (
	MaxAPIKeyNameLength = 100
	MaxAPIKeyScopes     = 32
	MinAPIKeyLifetime   = time.Second
	MaxAPIKeyLifetime   = 10 * 365 * 24 * time.Hour
)

var scopePattern = regexp.MustCompile(`^[A-Za-z0-9_:./*-]{1,64}$`)

// APIKeyInput describes a key to create.
type APIKeyInput struct {
	Name      string
	Scopes    []string
	ExpiresIn time.Duration // 0: never expires
}

func (in APIKeyInput) validate() error {
	if in.Name == "" || utf8.RuneCountInString(in.Name) > MaxAPIKeyNameLength {
		return latchkey.Errorf(latchkey.EInvalidRequest, "name is required and must be at most %d characters.", MaxAPIKeyNameLength)
	}
	if _, err := CleanName(in.Name); err != nil {
		return latchkey.Errorf(latchkey.EInvalidRequest, "name contains a control character.")
	}
	if len(in.Scopes) > MaxAPIKeyScopes {
		return latchkey.Errorf(latchkey.EInvalidRequest, "A key may carry at most %d scopes.", MaxAPIKeyScopes)
	}
	for _, s := range in.Scopes {
		if !scopePattern.MatchString(s) {
			return latchkey.Errorf(latchkey.EInvalidRequest, "Scopes are 1 to 64 characters of letters, digits and _ : . / * -.")
		}
	}
	if in.ExpiresIn != 0 && (in.ExpiresIn < MinAPIKeyLifetime || in.ExpiresIn > MaxAPIKeyLifetime) {
		return latchkey.Errorf(latchkey.EInvalidRequest, "expires_in must be between 1 second and 10 years.")
	}
	return nil
}

// CreateAPIKey issues a key for the principal's user. The plaintext is
// returned this once; only its SHA-256 is stored.
func (s *Service) CreateAPIKey(ctx context.Context, p *Principal, in APIKeyInput, m Meta) (*latchkey.APIKey, latchkey.Secret, error) {
	return s.CreateAPIKeyFor(ctx, p.User, p.SessionID, in, m)
}

// CreateAPIKeyFor issues a key for u (the CLI uses it directly).
func (s *Service) CreateAPIKeyFor(ctx context.Context, u *latchkey.User, sessionID string, in APIKeyInput, m Meta) (*latchkey.APIKey, latchkey.Secret, error) {
	if err := in.validate(); err != nil {
		return nil, "", err
	}
	secret, prefix, hash, err := apikey.Generate()
	if err != nil {
		return nil, "", err
	}
	now := s.now().UTC()
	k := &latchkey.APIKey{ID: latchkey.NewID(now), UserID: u.ID, Name: in.Name, Prefix: prefix, Hash: hash[:],
		Scopes: in.Scopes, CreatedAt: now}
	if in.ExpiresIn > 0 {
		exp := now.Add(in.ExpiresIn)
		k.ExpiresAt = &exp
	}
	err = s.store.InTx(ctx, func(tx latchkey.Tx) error {
		if err := tx.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, s.event(latchkey.AuditAPIKeyCreated, u.ID, sessionID, k.ID, m))
	})
	if err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

// ListAPIKeys returns the user's keys that are not revoked.
func (s *Service) ListAPIKeys(ctx context.Context, userID string) ([]latchkey.APIKey, error) {
	return s.store.ListAPIKeys(ctx, userID)
}

// RevokeAPIKey revokes one of the user's keys at once. Another user's key
// is reported as not found, so ids cannot be probed.
func (s *Service) RevokeAPIKey(ctx context.Context, p *Principal, id string, m Meta) error {
	return s.RevokeAPIKeyOf(ctx, p.User.ID, p.SessionID, id, m)
}

// RevokeAPIKeyOf revokes key id if it belongs to userID.
func (s *Service) RevokeAPIKeyOf(ctx context.Context, userID, sessionID, id string, m Meta) error {
	err := s.store.InTx(ctx, func(tx latchkey.Tx) error {
		k, err := tx.APIKeyByID(ctx, id)
		if latchkey.IsCode(err, latchkey.ENotFound) || (err == nil && (k.UserID != userID || k.RevokedAt != nil)) {
			return latchkey.Errorf(latchkey.ENotFound, "No such API key.")
		}
		if err != nil {
			return err
		}
		if err := tx.RevokeAPIKey(ctx, id, s.now().UTC()); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, s.event(latchkey.AuditAPIKeyRevoked, userID, sessionID, id, m))
	})
	if err != nil {
		return err
	}
	s.events.APIKeysRevoked([]string{id})
	return nil
}

// AuthenticateAPIKey verifies an API key (format and checksum first, with
// no database lookup; then a short-lived cache; then the store).
func (s *Service) AuthenticateAPIKey(ctx context.Context, key string) (*Principal, error) {
	if s.keys == nil {
		return nil, latchkey.Errorf(latchkey.EInvalidAPIKey, "The API key is invalid.")
	}
	res, err := s.keys.Verify(ctx, key)
	if err != nil {
		return nil, err
	}
	p := &Principal{User: res.User, APIKey: res.Key, Via: "api_key"}
	if len(res.Key.Scopes) > 0 {
		p.Scopes = res.Key.Scopes
	}
	return p, nil
}

func (s *Service) event(typ, userID, sessionID, keyID string, m Meta) *latchkey.AuditEvent {
	return &latchkey.AuditEvent{ID: latchkey.NewID(s.now()), Time: s.now().UTC(), Type: typ, UserID: userID,
		SessionID: sessionID, APIKeyID: keyID, IP: m.IP, UserAgent: truncate(m.UserAgent, 512), Outcome: latchkey.OutcomeSuccess}
}
