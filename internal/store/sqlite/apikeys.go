package sqlite

import (
	"context"
	"encoding/json"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

func (q *queries) CreateAPIKey(ctx context.Context, k *latchkey.APIKey) error {
	return q.insert(ctx, "create api key", k.ID, `INSERT INTO api_keys (`+sqlstore.APIKeyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.UserID, k.Name, k.Prefix, k.Hash, encodeList(k.Scopes), micro(k.CreatedAt),
		nullMicro(k.ExpiresAt), nullMicro(k.LastUsedAt), nullMicro(k.RevokedAt), encodeList(k.Audiences))
}

func (q *queries) APIKeyByHash(ctx context.Context, hash []byte) (*latchkey.APIKey, error) {
	return sqlstore.One(errs, "api key by hash", "API key", q.r.queryRow(ctx, `SELECT `+sqlstore.APIKeyCols+` FROM api_keys WHERE hash = ?`, hash), scanAPIKey)
}

func (q *queries) APIKeyByID(ctx context.Context, id string) (*latchkey.APIKey, error) {
	return sqlstore.One(errs, "api key by id", "API key", q.r.queryRow(ctx, `SELECT `+sqlstore.APIKeyCols+` FROM api_keys WHERE id = ?`, id), scanAPIKey)
}

func (q *queries) ListAPIKeys(ctx context.Context, userID string) ([]latchkey.APIKey, error) {
	return sqlstore.List(ctx, errs, q.r.query, "list api keys", `SELECT `+sqlstore.APIKeyCols+` FROM api_keys
		WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at DESC, id DESC`, []any{userID}, scanAPIKey)
}

func (q *queries) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	res, err := q.w.exec(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, micro(at), id)
	return affected("revoke api key", "API key", res, err)
}

func (q *queries) RevokeUserAPIKeys(ctx context.Context, userID string, at time.Time) ([]string, error) {
	return q.returningIDs(ctx, "revoke api keys",
		`UPDATE api_keys SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL RETURNING id`, micro(at), userID)
}

// TouchAPIKeys writes every key's last use in one statement; a time never
// moves backwards. Unknown IDs are ignored (the key may have been deleted
// since it was used).
func (q *queries) TouchAPIKeys(ctx context.Context, lastUsed map[string]time.Time) error {
	if len(lastUsed) == 0 {
		return nil
	}
	m := make(map[string]int64, len(lastUsed))
	for id, t := range lastUsed {
		m[id] = micro(t)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return mapErr("touch api keys", err)
	}
	_, err = q.w.exec(ctx, `UPDATE api_keys SET last_used_at = max(coalesce(api_keys.last_used_at, j.value), j.value)
		FROM json_each(?) AS j WHERE api_keys.id = j.key`, string(b))
	return mapErr("touch api keys", err)
}
