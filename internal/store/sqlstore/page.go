package sqlstore

import (
	"context"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey"
)

// LikeEscape escapes LIKE wildcards so that s matches literally (with
// ESCAPE '\').
func LikeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Question is SQLite's placeholder: ?.
func Question(int) string { return "?" }

// Dollar is PostgreSQL's n-th placeholder: $n.
func Dollar(n int) string { return "$" + strconv.Itoa(n) }

// Args collects the arguments of a statement that is built piece by piece.
type Args struct {
	// Mark is the driver's n-th placeholder (1-based): Question or Dollar.
	Mark func(n int) string
	List []any
}

// Add appends v and returns its placeholder.
func (a *Args) Add(v any) string {
	a.List = append(a.List, v)
	return a.Mark(len(a.List))
}

// Listing is a newest-first listing of rows whose id sorts by creation,
// one page at a time: the next page's cursor is the id of this page's
// last row, and a page holds the rows whose id is below the cursor.
type Listing struct {
	Args
	// Where holds the conditions of the filters that are set, so that each
	// combination can use its index.
	Where  []string
	cursor string
	limit  int
}

// NewListing starts the listing of page p, with placeholders mark. The
// page size is 50 by default and 200 at most.
func NewListing(mark func(n int) string, p latchkey.Page) *Listing {
	limit := p.Limit
	switch {
	case limit <= 0:
		limit = 50
	case limit > 200:
		limit = 200
	}
	return &Listing{Args: Args{Mark: mark}, cursor: p.Cursor, limit: limit}
}

// And adds a condition.
func (l *Listing) And(cond string) { l.Where = append(l.Where, cond) }

// Query is selectFrom with the conditions, the cursor's, the order, and a
// limit of one row more than a page, to learn whether another follows;
// and its arguments. Call it once.
func (l *Listing) Query(selectFrom string) (string, []any) {
	if l.cursor != "" {
		l.And(`id < ` + l.Add(l.cursor))
	}
	q := selectFrom
	if len(l.Where) > 0 {
		q += ` WHERE ` + strings.Join(l.Where, ` AND `)
	}
	q += ` ORDER BY id DESC LIMIT ` + l.Add(l.limit+1)
	return q, l.List
}

// Page cuts the rows that Query read to a page and returns the next
// page's cursor ("" when no page follows).
func Page[T any](l *Listing, rows []T, id func(*T) string) ([]T, string) {
	if len(rows) <= l.limit {
		return rows, ""
	}
	rows = rows[:l.limit]
	return rows, id(&rows[l.limit-1])
}

// ListPage reads a page of listing l (see List) and returns the next
// page's cursor too; what names the rows in errors ("users").
func ListPage[T any, R Rows](ctx context.Context, e Errors, run Query[R], what string, l *Listing, selectFrom string,
	scan func(Scanner) (*T, error), id func(*T) string) ([]T, string, error) {
	query, args := l.Query(selectFrom)
	rows, err := List(ctx, e, run, "list "+what, query, args, scan)
	if err != nil {
		return nil, "", err
	}
	page, next := Page(l, rows, id)
	return page, next, nil
}
