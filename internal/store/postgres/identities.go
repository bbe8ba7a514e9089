package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey"
)

const identityCols = `id, user_id, provider, subject, email, created_at`

func scanIdentity(row pgx.Row) (*latchkey.Identity, error) {
	var i latchkey.Identity
	if err := row.Scan(&i.ID, &i.UserID, &i.Provider, &i.Subject, &i.Email, &i.CreatedAt); err != nil {
		return nil, err
	}
	utc(&i.CreatedAt)
	return &i, nil
}

func (q *queries) CreateIdentity(ctx context.Context, i *latchkey.Identity) error {
	if i.ID == "" {
		i.ID = latchkey.NewID(i.CreatedAt)
	}
	_, err := q.q.Exec(ctx, `INSERT INTO identities (`+identityCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		i.ID, i.UserID, i.Provider, i.Subject, i.Email, i.CreatedAt)
	return mapErr("create identity", err)
}

func (q *queries) IdentityByProviderSubject(ctx context.Context, provider, subject string) (*latchkey.Identity, error) {
	i, err := scanIdentity(q.q.QueryRow(ctx, `SELECT `+identityCols+` FROM identities WHERE provider = $1 AND subject = $2`, provider, subject))
	if err != nil {
		return nil, rowErr("identity by subject", "Identity", err)
	}
	return i, nil
}

func (q *queries) ListIdentities(ctx context.Context, userID string) ([]latchkey.Identity, error) {
	rows, err := q.q.Query(ctx, `SELECT `+identityCols+` FROM identities WHERE user_id = $1 ORDER BY created_at DESC, id DESC`, userID)
	if err != nil {
		return nil, mapErr("list identities", err)
	}
	defer rows.Close()
	var out []latchkey.Identity
	for rows.Next() {
		i, err := scanIdentity(rows)
		if err != nil {
			return nil, mapErr("list identities", err)
		}
		out = append(out, *i)
	}
	return out, mapErr("list identities", rows.Err())
}

func (q *queries) DeleteIdentity(ctx context.Context, userID, id string) error {
	tag, err := q.q.Exec(ctx, `DELETE FROM identities WHERE id = $1 AND user_id = $2`, id, userID)
	return affected("delete identity", "Identity", tag, err)
}

const signingKeyCols = `id, algorithm, state, public_key, sealed_private, created_at, activated_at, retired_at`

func (q *queries) CreateSigningKey(ctx context.Context, k *latchkey.SigningKey) error {
	_, err := q.q.Exec(ctx, `INSERT INTO signing_keys (`+signingKeyCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		k.ID, k.Algorithm, k.State, k.PublicKey, k.SealedPrivate, k.CreatedAt, k.ActivatedAt, k.RetiredAt)
	return mapErr("create signing key", err)
}

func (q *queries) ListSigningKeys(ctx context.Context) ([]latchkey.SigningKey, error) {
	rows, err := q.q.Query(ctx, `SELECT `+signingKeyCols+` FROM signing_keys ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, mapErr("list signing keys", err)
	}
	defer rows.Close()
	var out []latchkey.SigningKey
	for rows.Next() {
		var k latchkey.SigningKey
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.State, &k.PublicKey, &k.SealedPrivate, &k.CreatedAt, &k.ActivatedAt, &k.RetiredAt); err != nil {
			return nil, mapErr("list signing keys", err)
		}
		utc(&k.CreatedAt)
		utcp(&k.ActivatedAt, &k.RetiredAt)
		out = append(out, k)
	}
	return out, mapErr("list signing keys", rows.Err())
}

func (q *queries) UpdateSigningKey(ctx context.Context, k *latchkey.SigningKey) error {
	tag, err := q.q.Exec(ctx, `UPDATE signing_keys SET state = $1, activated_at = $2, retired_at = $3 WHERE id = $4`,
		k.State, k.ActivatedAt, k.RetiredAt, k.ID)
	return affected("update signing key", "Signing key", tag, err)
}

func (q *queries) DeleteSigningKey(ctx context.Context, id string) error {
	tag, err := q.q.Exec(ctx, `DELETE FROM signing_keys WHERE id = $1`, id)
	return affected("delete signing key", "Signing key", tag, err)
}
