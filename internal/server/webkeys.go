package server

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/apikey"
	"github.com/latchkey/latchkey/internal/web"
)

// storeAPIKeys implements web.APIKeys on the store: the key is generated
// by internal/apikey, only its hash is stored, and the change and its
// audit event are written in one transaction.
type storeAPIKeys struct {
	store latchkey.Store
	now   func() time.Time
}

var _ web.APIKeys = storeAPIKeys{}

func (k storeAPIKeys) ListAPIKeys(ctx context.Context, userID string) ([]latchkey.APIKey, error) {
	return k.store.ListAPIKeys(ctx, userID)
}

func (k storeAPIKeys) CreateAPIKey(ctx context.Context, userID, name string, m web.KeyMeta) (latchkey.Secret, *latchkey.APIKey, error) {
	key, prefix, hash, err := apikey.Generate()
	if err != nil {
		return "", nil, err
	}
	now := k.now().UTC()
	ak := &latchkey.APIKey{ID: latchkey.NewID(now), UserID: userID, Name: name, Prefix: prefix, Hash: hash[:], CreatedAt: now}
	err = k.store.InTx(ctx, func(tx latchkey.Tx) error {
		if err := tx.CreateAPIKey(ctx, ak); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, keyAudit(latchkey.AuditAPIKeyCreated, userID, ak.ID, now, m))
	})
	if err != nil {
		return "", nil, err
	}
	return key, ak, nil
}

func (k storeAPIKeys) RevokeAPIKey(ctx context.Context, userID, keyID string, m web.KeyMeta) error {
	return k.store.InTx(ctx, func(tx latchkey.Tx) error {
		ak, err := tx.APIKeyByID(ctx, keyID)
		if latchkey.IsCode(err, latchkey.ENotFound) || (err == nil && (ak.UserID != userID || ak.RevokedAt != nil)) {
			return latchkey.Errorf(latchkey.ENotFound, "No such API key.")
		}
		if err != nil {
			return err
		}
		now := k.now().UTC()
		if err := tx.RevokeAPIKey(ctx, keyID, now); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, keyAudit(latchkey.AuditAPIKeyRevoked, userID, keyID, now, m))
	})
}

func keyAudit(typ, userID, keyID string, now time.Time, m web.KeyMeta) *latchkey.AuditEvent {
	return &latchkey.AuditEvent{ID: latchkey.NewID(now), Time: now, Type: typ, UserID: userID, SessionID: m.SessionID,
		APIKeyID: keyID, IP: m.IP, UserAgent: truncateUA(m.UserAgent), Outcome: latchkey.OutcomeSuccess}
}

func truncateUA(ua string) string {
	if len(ua) > 512 {
		return ua[:512]
	}
	return ua
}
