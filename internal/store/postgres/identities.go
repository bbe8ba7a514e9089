package postgres

import (
	"context"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

func (q *queries) CreateIdentity(ctx context.Context, i *latchkey.Identity) error {
	return q.insert(ctx, "create identity", i.ID, `INSERT INTO identities (`+sqlstore.IdentityCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		i.ID, i.UserID, i.Provider, i.Subject, i.Email, i.CreatedAt)
}

func (q *queries) IdentityByProviderSubject(ctx context.Context, provider, subject string) (*latchkey.Identity, error) {
	return sqlstore.One(errs, "identity by subject", "Identity", q.q.QueryRow(ctx, `SELECT `+sqlstore.IdentityCols+` FROM identities WHERE provider = $1 AND subject = $2`, provider, subject), scanIdentity)
}

func (q *queries) ListIdentities(ctx context.Context, userID string) ([]latchkey.Identity, error) {
	return sqlstore.List(ctx, errs, q.q.Query, "list identities", `SELECT `+sqlstore.IdentityCols+` FROM identities WHERE user_id = $1 ORDER BY created_at DESC, id DESC`,
		[]any{userID}, scanIdentity)
}

func (q *queries) DeleteIdentity(ctx context.Context, userID, id string) error {
	tag, err := q.q.Exec(ctx, `DELETE FROM identities WHERE id = $1 AND user_id = $2`, id, userID)
	return affected("delete identity", "Identity", tag, err)
}

func (q *queries) CreateSigningKey(ctx context.Context, k *latchkey.SigningKey) error {
	_, err := q.q.Exec(ctx, `INSERT INTO signing_keys (`+sqlstore.SigningKeyCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		k.ID, k.Algorithm, k.State, k.PublicKey, k.SealedPrivate, k.CreatedAt, k.ActivatedAt, k.RetiredAt)
	return mapErr("create signing key", err)
}

func (q *queries) ListSigningKeys(ctx context.Context) ([]latchkey.SigningKey, error) {
	return sqlstore.List(ctx, errs, q.q.Query, "list signing keys", `SELECT `+sqlstore.SigningKeyCols+` FROM signing_keys ORDER BY created_at DESC, id DESC`, nil, scanSigningKey)
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
