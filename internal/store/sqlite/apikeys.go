package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/latchkey/latchkey"
)

const apiKeyCols = `id, user_id, name, prefix, hash, scopes, created_at, expires_at, last_used_at, revoked_at`

func scanAPIKey(s scanner) (*latchkey.APIKey, error) {
	var k latchkey.APIKey
	var scopes string
	var created int64
	var expires, lastUsed, revoked sql.NullInt64
	if err := s.Scan(&k.ID, &k.UserID, &k.Name, &k.Prefix, &k.Hash, &scopes, &created, &expires, &lastUsed, &revoked); err != nil {
		return nil, err
	}
	var err error
	if k.Scopes, err = decodeList(scopes); err != nil {
		return nil, err
	}
	k.CreatedAt = fromMicro(created)
	k.ExpiresAt, k.LastUsedAt, k.RevokedAt = fromNullMicro(expires), fromNullMicro(lastUsed), fromNullMicro(revoked)
	return &k, nil
}

func (q *queries) CreateAPIKey(ctx context.Context, k *latchkey.APIKey) error {
	if k.ID == "" {
		k.ID = latchkey.NewID(k.CreatedAt)
	}
	_, err := q.w.exec(ctx, `INSERT INTO api_keys (`+apiKeyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.UserID, k.Name, k.Prefix, k.Hash, encodeList(k.Scopes), micro(k.CreatedAt),
		nullMicro(k.ExpiresAt), nullMicro(k.LastUsedAt), nullMicro(k.RevokedAt))
	return mapErr("create api key", err)
}

func (q *queries) APIKeyByHash(ctx context.Context, hash []byte) (*latchkey.APIKey, error) {
	k, err := scanAPIKey(q.r.queryRow(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE hash = ?`, hash))
	if err != nil {
		return nil, rowErr("api key by hash", "API key", err)
	}
	return k, nil
}

func (q *queries) APIKeyByID(ctx context.Context, id string) (*latchkey.APIKey, error) {
	k, err := scanAPIKey(q.r.queryRow(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE id = ?`, id))
	if err != nil {
		return nil, rowErr("api key by id", "API key", err)
	}
	return k, nil
}

func (q *queries) ListAPIKeys(ctx context.Context, userID string) ([]latchkey.APIKey, error) {
	rows, err := q.r.query(ctx, `SELECT `+apiKeyCols+` FROM api_keys
		WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at DESC, id DESC`, userID)
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
