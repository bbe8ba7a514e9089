package web

import (
	"context"

	"github.com/latchkey/latchkey"
)

// APIKeys is what the account page needs of API-key management: the use
// cases behind /v1/api-keys, reached through this narrow interface.
type APIKeys interface {
	// ListAPIKeys returns the user's keys that are not revoked.
	ListAPIKeys(ctx context.Context, userID string) ([]latchkey.APIKey, error)
	// CreateAPIKey issues a key and returns it in full, the only time it is
	// ever available.
	CreateAPIKey(ctx context.Context, userID, name string, m KeyMeta) (latchkey.Secret, *latchkey.APIKey, error)
	// RevokeAPIKey revokes one of the user's keys (ENotFound for another
	// user's key).
	RevokeAPIKey(ctx context.Context, userID, keyID string, m KeyMeta) error
}

// KeyMeta is who asked, for the audit log.
type KeyMeta struct {
	IP        string
	UserAgent string
	SessionID string
}
