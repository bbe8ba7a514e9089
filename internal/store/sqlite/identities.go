package sqlite

import (
	"context"
	"database/sql"

	"github.com/latchkey/latchkey"
)

const identityCols = `id, user_id, provider, subject, email, created_at`

func scanIdentity(s scanner) (*latchkey.Identity, error) {
	var i latchkey.Identity
	var created int64
	if err := s.Scan(&i.ID, &i.UserID, &i.Provider, &i.Subject, &i.Email, &created); err != nil {
		return nil, err
	}
	i.CreatedAt = fromMicro(created)
	return &i, nil
}

func (q *queries) CreateIdentity(ctx context.Context, i *latchkey.Identity) error {
	if i.ID == "" {
		i.ID = latchkey.NewID(i.CreatedAt)
	}
	_, err := q.w.exec(ctx, `INSERT INTO identities (`+identityCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		i.ID, i.UserID, i.Provider, i.Subject, i.Email, micro(i.CreatedAt))
	return mapErr("create identity", err)
}

func (q *queries) IdentityByProviderSubject(ctx context.Context, provider, subject string) (*latchkey.Identity, error) {
	i, err := scanIdentity(q.r.queryRow(ctx, `SELECT `+identityCols+` FROM identities WHERE provider = ? AND subject = ?`, provider, subject))
	if err != nil {
		return nil, rowErr("identity by subject", "Identity", err)
	}
	return i, nil
}

func (q *queries) ListIdentities(ctx context.Context, userID string) ([]latchkey.Identity, error) {
	rows, err := q.r.query(ctx, `SELECT `+identityCols+` FROM identities WHERE user_id = ? ORDER BY created_at DESC, id DESC`, userID)
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
	res, err := q.w.exec(ctx, `DELETE FROM identities WHERE id = ? AND user_id = ?`, id, userID)
	return affected("delete identity", "Identity", res, err)
}

const signingKeyCols = `id, algorithm, state, public_key, sealed_private, created_at, activated_at, retired_at`

func (q *queries) CreateSigningKey(ctx context.Context, k *latchkey.SigningKey) error {
	_, err := q.w.exec(ctx, `INSERT INTO signing_keys (`+signingKeyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Algorithm, k.State, k.PublicKey, k.SealedPrivate, micro(k.CreatedAt), nullMicro(k.ActivatedAt), nullMicro(k.RetiredAt))
	return mapErr("create signing key", err)
}

func (q *queries) ListSigningKeys(ctx context.Context) ([]latchkey.SigningKey, error) {
	rows, err := q.r.query(ctx, `SELECT `+signingKeyCols+` FROM signing_keys ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, mapErr("list signing keys", err)
	}
	defer rows.Close()
	var out []latchkey.SigningKey
	for rows.Next() {
		var k latchkey.SigningKey
		var created int64
		var activated, retired sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.State, &k.PublicKey, &k.SealedPrivate, &created, &activated, &retired); err != nil {
			return nil, mapErr("list signing keys", err)
		}
		k.CreatedAt, k.ActivatedAt, k.RetiredAt = fromMicro(created), fromNullMicro(activated), fromNullMicro(retired)
		out = append(out, k)
	}
	return out, mapErr("list signing keys", rows.Err())
}

func (q *queries) UpdateSigningKey(ctx context.Context, k *latchkey.SigningKey) error {
	res, err := q.w.exec(ctx, `UPDATE signing_keys SET state = ?, activated_at = ?, retired_at = ? WHERE id = ?`,
		k.State, nullMicro(k.ActivatedAt), nullMicro(k.RetiredAt), k.ID)
	return affected("update signing key", "Signing key", res, err)
}

func (q *queries) DeleteSigningKey(ctx context.Context, id string) error {
	res, err := q.w.exec(ctx, `DELETE FROM signing_keys WHERE id = ?`, id)
	return affected("delete signing key", "Signing key", res, err)
}
