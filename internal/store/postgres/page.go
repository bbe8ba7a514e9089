package postgres

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// listPage runs a newest-first listing. where holds the conditions of the
// filters that are set (so that each combination can use its index); the
// query asks for one row more than a page to learn whether another page
// follows, and the next page's cursor is the id of this page's last row.
func listPage[T any](ctx context.Context, q querier, what, selectFrom string, where []string, args []any, limit int,
	scan func(pgx.Row) (T, error), id func(*T) string) ([]T, string, error) {
	query := selectFrom
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	args = append(args, limit+1)
	query += ` ORDER BY id DESC LIMIT $` + strconv.Itoa(len(args))
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, "", mapErr("list "+what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, "", mapErr("list "+what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, "", mapErr("list "+what, err)
	}
	if len(out) <= limit {
		return out, "", nil
	}
	out = out[:limit]
	return out, id(&out[limit-1]), nil
}
