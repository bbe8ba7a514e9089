package postgres

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

func (q *queries) CreateAPIKey(ctx context.Context, k *latchkey.APIKey) error {
	return q.insert(ctx, "create api key", k.ID, `INSERT INTO api_keys (`+sqlstore.APIKeyCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		k.ID, k.UserID, k.Name, k.Prefix, k.Hash, list(k.Scopes), k.CreatedAt, k.ExpiresAt, k.LastUsedAt, k.RevokedAt, list(k.Audiences))
}

func (q *queries) APIKeyByHash(ctx context.Context, hash []byte) (*latchkey.APIKey, error) {
	return sqlstore.One(errs, "api key by hash", "API key", q.q.QueryRow(ctx, `SELECT `+sqlstore.APIKeyCols+` FROM api_keys WHERE hash = $1`, hash), scanAPIKey)
}

func (q *queries) APIKeyByID(ctx context.Context, id string) (*latchkey.APIKey, error) {
	return sqlstore.One(errs, "api key by id", "API key", q.q.QueryRow(ctx, `SELECT `+sqlstore.APIKeyCols+` FROM api_keys WHERE id = $1`, id), scanAPIKey)
}

func (q *queries) ListAPIKeys(ctx context.Context, userID string) ([]latchkey.APIKey, error) {
	return sqlstore.List(ctx, errs, q.q.Query, "list api keys", `SELECT `+sqlstore.APIKeyCols+` FROM api_keys
		WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC`, []any{userID}, scanAPIKey)
}

func (q *queries) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	tag, err := q.q.Exec(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2`, at, id)
	return affected("revoke api key", "API key", tag, err)
}

func (q *queries) RevokeUserAPIKeys(ctx context.Context, userID string, at time.Time) ([]string, error) {
	return q.returningIDs(ctx, "revoke api keys",
		`UPDATE api_keys SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL RETURNING id`, at, userID)
}

// TouchAPIKeys writes every key's last use in one statement; a time never
// moves backwards (GREATEST ignores NULL). Unknown IDs are ignored.
func (q *queries) TouchAPIKeys(ctx context.Context, lastUsed map[string]time.Time) error {
	if len(lastUsed) == 0 {
		return nil
	}
	ids := make([]string, 0, len(lastUsed))
	times := make([]time.Time, 0, len(lastUsed))
	for id, t := range lastUsed {
		ids, times = append(ids, id), append(times, t)
	}
	_, err := q.q.Exec(ctx, `UPDATE api_keys AS k SET last_used_at = GREATEST(k.last_used_at, v.t)
		FROM unnest($1::text[], $2::timestamptz[]) AS v (id, t) WHERE k.id = v.id`, ids, times)
	return mapErr("touch api keys", err)
}
