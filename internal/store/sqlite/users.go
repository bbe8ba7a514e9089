package sqlite

import (
	"context"
	"strings"

	"github.com/latchkey/latchkey"
)

// queries implements latchkey.Tx on a reader and a writer, which are the
// two pools outside a transaction and the same transaction inside one.
type queries struct {
	r, w runner
}

const userCols = `id, email, name, roles, disabled, password_hash, created_at, updated_at`

func scanUser(s scanner) (*latchkey.User, error) {
	var u latchkey.User
	var roles string
	var created, updated int64
	if err := s.Scan(&u.ID, &u.Email, &u.Name, &roles, &u.Disabled, &u.PasswordHash, &created, &updated); err != nil {
		return nil, err
	}
	var err error
	if u.Roles, err = decodeList(roles); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = fromMicro(created), fromMicro(updated)
	return &u, nil
}

func (q *queries) CreateUser(ctx context.Context, u *latchkey.User) error {
	if u.ID == "" {
		u.ID = latchkey.NewID(u.CreatedAt)
	}
	_, err := q.w.exec(ctx, `INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Email, u.Name, encodeList(u.Roles), boolInt(u.Disabled), u.PasswordHash, micro(u.CreatedAt), micro(u.UpdatedAt))
	return mapErr("create user", err)
}

func (q *queries) UserByID(ctx context.Context, id string) (*latchkey.User, error) {
	u, err := scanUser(q.r.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	if err != nil {
		return nil, rowErr("user by id", "User", err)
	}
	return u, nil
}

func (q *queries) UserByEmail(ctx context.Context, email string) (*latchkey.User, error) {
	u, err := scanUser(q.r.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE email = ?`, email))
	if err != nil {
		return nil, rowErr("user by email", "User", err)
	}
	return u, nil
}

func (q *queries) UpdateUser(ctx context.Context, u *latchkey.User) error {
	res, err := q.w.exec(ctx, `UPDATE users SET email = ?, name = ?, roles = ?, disabled = ?, password_hash = ?, updated_at = ? WHERE id = ?`,
		u.Email, u.Name, encodeList(u.Roles), boolInt(u.Disabled), u.PasswordHash, micro(u.UpdatedAt), u.ID)
	return affected("update user", "User", res, err)
}

// DeleteUser relies on ON DELETE CASCADE for the user's sessions, refresh
// tokens, API keys, identities and one-time codes.
func (q *queries) DeleteUser(ctx context.Context, id string) error {
	res, err := q.w.exec(ctx, `DELETE FROM users WHERE id = ?`, id)
	return affected("delete user", "User", res, err)
}

func (q *queries) ListUsers(ctx context.Context, f latchkey.UserFilter) ([]latchkey.User, string, error) {
	limit := pageLimit(f.Limit)
	var where []string
	var args []any
	if f.Cursor != "" {
		where = append(where, `id < ?`)
		args = append(args, f.Cursor)
	}
	if f.Query != "" {
		// LIKE is case-insensitive for ASCII in SQLite; lower() covers the
		// rest of what a canonical email can hold.
		where = append(where, `lower(email) LIKE ? ESCAPE '\'`)
		args = append(args, "%"+likeEscape(strings.ToLower(f.Query))+"%")
	}
	return listPage(ctx, q.r, "users", `SELECT `+userCols+` FROM users`, where, args, limit,
		func(r scanner) (latchkey.User, error) {
			u, err := scanUser(r)
			if err != nil {
				return latchkey.User{}, err
			}
			return *u, nil
		},
		func(u *latchkey.User) string { return u.ID })
}

func (q *queries) CountActiveUsersWithRole(ctx context.Context, role string) (int, error) {
	var n int
	err := q.r.queryRow(ctx, `SELECT count(*) FROM users WHERE disabled = 0
		AND EXISTS (SELECT 1 FROM json_each(users.roles) WHERE json_each.value = ?)`, role).Scan(&n)
	if err != nil {
		return 0, mapErr("count users", err)
	}
	return n, nil
}
