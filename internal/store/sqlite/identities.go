package sqlite

import (
	"context"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

func (q *queries) CreateIdentity(ctx context.Context, i *latchkey.Identity) error {
	return q.insert(ctx, "create identity", i.ID, `INSERT INTO identities (`+sqlstore.IdentityCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		i.ID, i.UserID, i.Provider, i.Subject, i.Email, micro(i.CreatedAt))
}

func (q *queries) IdentityByProviderSubject(ctx context.Context, provider, subject string) (*latchkey.Identity, error) {
	return sqlstore.One(errs, "identity by subject", "Identity", q.r.queryRow(ctx, `SELECT `+sqlstore.IdentityCols+` FROM identities WHERE provider = ? AND subject = ?`, provider, subject), scanIdentity)
}

func (q *queries) ListIdentities(ctx context.Context, userID string) ([]latchkey.Identity, error) {
	return sqlstore.List(ctx, errs, q.r.query, "list identities", `SELECT `+sqlstore.IdentityCols+` FROM identities WHERE user_id = ? ORDER BY created_at DESC, id DESC`,
		[]any{userID}, scanIdentity)
}

func (q *queries) DeleteIdentity(ctx context.Context, userID, id string) error {
	res, err := q.w.exec(ctx, `DELETE FROM identities WHERE id = ? AND user_id = ?`, id, userID)
	return affected("delete identity", "Identity", res, err)
}

func (q *queries) CreateSigningKey(ctx context.Context, k *latchkey.SigningKey) error {
	_, err := q.w.exec(ctx, `INSERT INTO signing_keys (`+sqlstore.SigningKeyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Algorithm, k.State, k.PublicKey, k.SealedPrivate, micro(k.CreatedAt), nullMicro(k.ActivatedAt), nullMicro(k.RetiredAt))
	return mapErr("create signing key", err)
}

func (q *queries) ListSigningKeys(ctx context.Context) ([]latchkey.SigningKey, error) {
	return sqlstore.List(ctx, errs, q.r.query, "list signing keys", `SELECT `+sqlstore.SigningKeyCols+` FROM signing_keys ORDER BY created_at DESC, id DESC`, nil, scanSigningKey)
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
