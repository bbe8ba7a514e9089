package sqlite

import (
	"context"
	"strings"
)

// listPage runs a newest-first listing. where holds the conditions of the
// filters that are set (so that each combination can use its index); the
// query asks for one row more than a page to learn whether another page
// follows, and the next page's cursor is the id of this page's last row.
func listPage[T any](ctx context.Context, r runner, what, selectFrom string, where []string, args []any, limit int,
	scan func(scanner) (T, error), id func(*T) string) ([]T, string, error) {
	query := selectFrom
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY id DESC LIMIT ?`
	rows, err := r.query(ctx, query, append(args, limit+1)...)
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
