package postgres

import (
	"context"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

func (q *queries) CreateResource(ctx context.Context, r *latchkey.Resource) error {
	return q.insert(ctx, "create resource", r.ID, `INSERT INTO oauth_resources (id, name, created_at) VALUES ($1, $2, $3)`, r.ID, r.Name, r.CreatedAt)
}

func (q *queries) ResourceByID(ctx context.Context, id string) (*latchkey.Resource, error) {
	return sqlstore.One(errs, "resource", "Resource", q.q.QueryRow(ctx, `SELECT id, name, created_at FROM oauth_resources WHERE id = $1`, id), scanResource)
}

func (q *queries) ListResources(ctx context.Context) ([]latchkey.Resource, error) {
	return sqlstore.List(ctx, errs, q.q.Query, "list resources", `SELECT id, name, created_at FROM oauth_resources ORDER BY id`, nil, scanResource)
}

func (q *queries) DeleteResource(ctx context.Context, id string) error {
	tag, err := q.q.Exec(ctx, `DELETE FROM oauth_resources WHERE id = $1`, id)
	return affected("delete resource", "Resource", tag, err)
}

func (q *queries) SetAPIKeyAudiences(ctx context.Context, id, userID string, audiences []string) error {
	tag, err := q.q.Exec(ctx, `UPDATE api_keys SET audiences = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL`, list(audiences), id, userID)
	return affected("set api key audiences", "API key", tag, err)
}

func scanResource(row sqlstore.Scanner) (*latchkey.Resource, error) {
	var r latchkey.Resource
	if err := row.Scan(&r.ID, &r.Name, &r.CreatedAt); err != nil {
		return nil, err
	}
	r.CreatedAt = r.CreatedAt.UTC()
	return &r, nil
}
