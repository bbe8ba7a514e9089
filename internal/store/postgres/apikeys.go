package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey"
)

const apiKeyCols = `id, user_id, name, prefix, hash, scopes, created_at, expires_at, last_used_at, revoked_at`

func scanAPIKey(row pgx.Row) (*latchkey.APIKey, error) {
	var k latchkey.APIKey
	if err := row.Scan(&k.ID, &k.UserID, &k.Name, &k.Prefix, &k.Hash, &k.Scopes, &k.CreatedAt, &k.ExpiresAt, &k.LastUsedAt, &k.RevokedAt); err != nil {
		return nil, err
	}
	k.Scopes = unlist(k.Scopes)
	utc(&k.CreatedAt)
	utcp(&k.ExpiresAt, &k.LastUsedAt, &k.RevokedAt)
	return &k, nil
}

func (q *queries) CreateAPIKey(ctx context.Context, k *latchkey.APIKey) error {
	if k.ID == "" {
		k.ID = latchkey.NewID(k.CreatedAt)
	}
	_, err := q.q.Exec(ctx, `INSERT INTO api_keys (`+apiKeyCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		k.ID, k.UserID, k.Name, k.Prefix, k.Hash, list(k.Scopes), k.CreatedAt, k.ExpiresAt, k.LastUsedAt, k.RevokedAt)
	return mapErr("create api key", err)
}

func (q *queries) APIKeyByHash(ctx context.Context, hash []byte) (*latchkey.APIKey, error) {
	k, err := scanAPIKey(q.q.QueryRow(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE hash = $1`, hash))
	if err != nil {
		return nil, rowErr("api key by hash", "API key", err)
	}
	return k, nil
}

func (q *queries) APIKeyByID(ctx context.Context, id string) (*latchkey.APIKey, error) {
	k, err := scanAPIKey(q.q.QueryRow(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE id = $1`, id))
	if err != nil {
		return nil, rowErr("api key by id", "API key", err)
	}
	return k, nil
}

func (q *queries) ListAPIKeys(ctx context.Context, userID string) ([]latchkey.APIKey, error) {
	rows, err := q.q.Query(ctx, `SELECT `+apiKeyCols+` FROM api_keys
		WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC`, userID)
	if err != nil {
		return nil, mapErr("list api keys", err)
	}
	defer rows.Close()
	var out []latchkey.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, mapErr("list api keys", err)
		}
		out = append(out, *k)
	}
	return out, mapErr("list api keys", rows.Err())
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
