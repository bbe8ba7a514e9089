package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

func (q *queries) CreateClient(ctx context.Context, c *latchkey.Client) error {
	return q.insert(ctx, "create client", c.ID, `INSERT INTO oauth_clients (`+sqlstore.ClientCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Name, c.Type, c.AuthMethod, nullBytes(c.SecretHash), nullBytes(c.PreviousSecretHash), nullMicro(c.PreviousSecretExpiresAt),
		c.JWKS, encodeList(c.RedirectURIs), encodeList(c.PostLogoutRedirectURIs), encodeList(c.GrantTypes), encodeList(c.Scopes),
		boolInt(c.FirstParty), micro(c.CreatedAt), micro(c.UpdatedAt), encodeList(c.Resources))
}

func (q *queries) ClientByID(ctx context.Context, id string) (*latchkey.Client, error) {
	return sqlstore.One(errs, "client by id", "Client", q.r.queryRow(ctx, `SELECT `+sqlstore.ClientCols+` FROM oauth_clients WHERE id = ?`, id), scanClient)
}

func (q *queries) ListClients(ctx context.Context) ([]latchkey.Client, error) {
	return sqlstore.List(ctx, errs, q.r.query, "list clients", `SELECT `+sqlstore.ClientCols+` FROM oauth_clients
		ORDER BY created_at DESC, id DESC`, nil, scanClient)
}

func (q *queries) UpdateClient(ctx context.Context, id string, p latchkey.ClientPatch) (*latchkey.Client, error) {
	a := &sqlstore.Args{Mark: sqlstore.Question}
	query := `UPDATE oauth_clients SET ` + sqlstore.ClientSet(a, p, encoder{}) + ` WHERE id = ` + a.Add(id) + ` RETURNING ` + sqlstore.ClientCols
	return sqlstore.One(errs, "update client", "Client", q.w.queryRow(ctx, query, a.List...), scanClient)
}

// RotateClientSecret is a compare-and-set on the current hash: SQLite runs
// one write at a time, so of concurrent rotations only the first matches.
func (q *queries) RotateClientSecret(ctx context.Context, id string, currentHash, newHash []byte, previousExpiresAt, at time.Time) error {
	res, err := q.w.exec(ctx, `UPDATE oauth_clients SET previous_secret_hash = secret_hash, previous_secret_expires_at = ?,
		secret_hash = ?, updated_at = ? WHERE id = ? AND secret_hash IS ?`,
		micro(previousExpiresAt), newHash, micro(at), id, nullBytes(currentHash))
	err = affected("rotate client secret", "Client", res, err)
	if !latchkey.IsCode(err, latchkey.ENotFound) {
		return err
	}
	var one int
	if err := q.r.queryRow(ctx, `SELECT 1 FROM oauth_clients WHERE id = ?`, id).Scan(&one); err != nil {
		return rowErr("rotate client secret", "Client", err)
	}
	return latchkey.Errorf(latchkey.EConflict, "The client's secret was changed meanwhile.")
}

func (q *queries) DeleteClient(ctx context.Context, id string) error {
	res, err := q.w.exec(ctx, `DELETE FROM oauth_clients WHERE id = ?`, id)
	return affected("delete client", "Client", res, err)
}

func scanClient(s sqlstore.Scanner) (*latchkey.Client, error) {
	var c latchkey.Client
	var redirects, logouts, grants, scopes, resources string
	var prevExpires sql.NullInt64
	var created, updated int64
	if err := s.Scan(&c.ID, &c.Name, &c.Type, &c.AuthMethod, &c.SecretHash, &c.PreviousSecretHash, &prevExpires, &c.JWKS,
		&redirects, &logouts, &grants, &scopes, &c.FirstParty, &created, &updated, &resources); err != nil {
		return nil, err
	}
	for _, l := range []struct {
		s   string
		dst *[]string
	}{{redirects, &c.RedirectURIs}, {logouts, &c.PostLogoutRedirectURIs}, {grants, &c.GrantTypes}, {scopes, &c.Scopes}, {resources, &c.Resources}} {
		v, err := decodeList(l.s)
		if err != nil {
			return nil, err
		}
		*l.dst = v
	}
	c.PreviousSecretExpiresAt = fromNullMicro(prevExpires)
	c.CreatedAt, c.UpdatedAt = fromMicro(created), fromMicro(updated)
	return &c, nil
}
