package sqlite

import (
	"context"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

func (q *queries) CreateResource(ctx context.Context, r *latchkey.Resource) error {
	return q.insert(ctx, "create resource", r.ID, `INSERT INTO oauth_resources (id, name, created_at) VALUES (?, ?, ?)`, r.ID, r.Name, micro(r.CreatedAt))
}

func (q *queries) ResourceByID(ctx context.Context, id string) (*latchkey.Resource, error) {
	return sqlstore.One(errs, "resource", "Resource", q.r.queryRow(ctx, `SELECT id, name, created_at FROM oauth_resources WHERE id = ?`, id), scanResource)
}

func (q *queries) ListResources(ctx context.Context) ([]latchkey.Resource, error) {
	return sqlstore.List(ctx, errs, q.r.query, "list resources", `SELECT id, name, created_at FROM oauth_resources ORDER BY id`, nil, scanResource)
}

func (q *queries) DeleteResource(ctx context.Context, id string) error {
	res, err := q.w.exec(ctx, `DELETE FROM oauth_resources WHERE id = ?`, id)
	return affected("delete resource", "Resource", res, err)
}

func (q *queries) SetAPIKeyAudiences(ctx context.Context, id, userID string, audiences []string) error {
	res, err := q.w.exec(ctx, `UPDATE api_keys SET audiences = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL`, encodeList(audiences), id, userID)
	return affected("set api key audiences", "API key", res, err)
}

func scanResource(s sqlstore.Scanner) (*latchkey.Resource, error) {
	var r latchkey.Resource
	var created int64
	if err := s.Scan(&r.ID, &r.Name, &created); err != nil {
		return nil, err
	}
	r.CreatedAt = fromMicro(created)
	return &r, nil
}
