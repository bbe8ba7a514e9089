package postgres

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

func (q *queries) CreateClient(ctx context.Context, c *latchkey.Client) error {
	return q.insert(ctx, "create client", c.ID, `INSERT INTO oauth_clients (`+sqlstore.ClientCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		c.ID, c.Name, c.Type, c.AuthMethod, nullBytes(c.SecretHash), nullBytes(c.PreviousSecretHash), c.PreviousSecretExpiresAt,
		c.JWKS, list(c.RedirectURIs), list(c.PostLogoutRedirectURIs), list(c.GrantTypes), list(c.Scopes),
		c.FirstParty, c.CreatedAt, c.UpdatedAt, list(c.Resources))
}

func (q *queries) ClientByID(ctx context.Context, id string) (*latchkey.Client, error) {
	return sqlstore.One(errs, "client by id", "Client", q.q.QueryRow(ctx, `SELECT `+sqlstore.ClientCols+` FROM oauth_clients WHERE id = $1`, id), scanClient)
}

func (q *queries) ListClients(ctx context.Context) ([]latchkey.Client, error) {
	return sqlstore.List(ctx, errs, q.q.Query, "list clients", `SELECT `+sqlstore.ClientCols+` FROM oauth_clients
		ORDER BY created_at DESC, id DESC`, nil, scanClient)
}

func (q *queries) UpdateClient(ctx context.Context, id string, p latchkey.ClientPatch) (*latchkey.Client, error) {
	a := &sqlstore.Args{Mark: sqlstore.Dollar}
	query := `UPDATE oauth_clients SET ` + sqlstore.ClientSet(a, p, encoder{}) + ` WHERE id = ` + a.Add(id) + ` RETURNING ` + sqlstore.ClientCols
	return sqlstore.One(errs, "update client", "Client", q.q.QueryRow(ctx, query, a.List...), scanClient)
}

// RotateClientSecret is a compare-and-set on the current hash in one
// statement: under concurrent rotations the row lock lets one match.
func (q *queries) RotateClientSecret(ctx context.Context, id string, currentHash, newHash []byte, previousExpiresAt, at time.Time) error {
	tag, err := q.q.Exec(ctx, `UPDATE oauth_clients SET previous_secret_hash = secret_hash, previous_secret_expires_at = $1,
		secret_hash = $2, updated_at = $3 WHERE id = $4 AND secret_hash IS NOT DISTINCT FROM $5`,
		previousExpiresAt, newHash, at, id, nullBytes(currentHash))
	err = affected("rotate client secret", "Client", tag, err)
	if !latchkey.IsCode(err, latchkey.ENotFound) {
		return err
	}
	var one int
	if err := q.q.QueryRow(ctx, `SELECT 1 FROM oauth_clients WHERE id = $1`, id).Scan(&one); err != nil {
		return rowErr("rotate client secret", "Client", err)
	}
	return latchkey.Errorf(latchkey.EConflict, "The client's secret was changed meanwhile.")
}

func (q *queries) DeleteClient(ctx context.Context, id string) error {
	tag, err := q.q.Exec(ctx, `DELETE FROM oauth_clients WHERE id = $1`, id)
	return affected("delete client", "Client", tag, err)
}

func scanClient(row sqlstore.Scanner) (*latchkey.Client, error) {
	var c latchkey.Client
	if err := row.Scan(&c.ID, &c.Name, &c.Type, &c.AuthMethod, &c.SecretHash, &c.PreviousSecretHash, &c.PreviousSecretExpiresAt, &c.JWKS,
		&c.RedirectURIs, &c.PostLogoutRedirectURIs, &c.GrantTypes, &c.Scopes, &c.FirstParty, &c.CreatedAt, &c.UpdatedAt, &c.Resources); err != nil {
		return nil, err
	}
	c.RedirectURIs, c.PostLogoutRedirectURIs = unlist(c.RedirectURIs), unlist(c.PostLogoutRedirectURIs)
	c.GrantTypes, c.Scopes, c.Resources = unlist(c.GrantTypes), unlist(c.Scopes), unlist(c.Resources)
	utc(&c.CreatedAt, &c.UpdatedAt)
	utcp(&c.PreviousSecretExpiresAt)
	return &c, nil
}
