package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// queries implements latchkey.Tx on a reader and a writer, which are the
// two pools outside a transaction and the same transaction inside one.
type queries struct {
	r, w runner
}

const userCols = `id, email, name, roles, disabled, password_hash, email_verified_at, created_at, updated_at`

func scanUser(s scanner) (*latchkey.User, error) {
	var u latchkey.User
	var roles string
	var created, updated int64
	var verified sql.NullInt64
	if err := s.Scan(&u.ID, &u.Email, &u.Name, &roles, &u.Disabled, &u.PasswordHash, &verified, &created, &updated); err != nil {
		return nil, err
	}
	var err error
	if u.Roles, err = decodeList(roles); err != nil {
		return nil, err
	}
	u.EmailVerifiedAt = fromNullMicro(verified)
	u.CreatedAt, u.UpdatedAt = fromMicro(created), fromMicro(updated)
	return &u, nil
}

func (q *queries) CreateUser(ctx context.Context, u *latchkey.User) error {
	if u.ID == "" {
		u.ID = latchkey.NewID(u.CreatedAt)
	}
	_, err := q.w.exec(ctx, `INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Email, u.Name, encodeList(u.Roles), boolInt(u.Disabled), u.PasswordHash, nullMicro(u.EmailVerifiedAt),
		micro(u.CreatedAt), micro(u.UpdatedAt))
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

// UpdateUser writes only the columns the patch sets, so that it never
// carries a stale value of another column back over a concurrent change.
func (q *queries) UpdateUser(ctx context.Context, id string, p latchkey.UserPatch) (*latchkey.User, error) {
	var set []string
	var args []any
	col := func(name string, v any) {
		set = append(set, name+" = ?")
		args = append(args, v)
	}
	if p.Email != nil {
		col("email", *p.Email)
	}
	if p.Name != nil {
		col("name", *p.Name)
	}
	if p.Roles != nil {
		col("roles", encodeList(*p.Roles))
	}
	if p.Disabled != nil {
		col("disabled", boolInt(*p.Disabled))
	}
	if p.EmailVerifiedAt != nil {
		col("email_verified_at", nullMicro(p.EmailVerifiedAt.At))
	}
	col("updated_at", micro(p.UpdatedAt))
	u, err := scanUser(q.w.queryRow(ctx, `UPDATE users SET `+strings.Join(set, ", ")+` WHERE id = ? RETURNING `+userCols,
		append(args, id)...))
	if err != nil {
		return nil, rowErr("update user", "User", err)
	}
	return u, nil
}

// SetPasswordHash is a compare-and-set: SQLite runs one write at a time,
// so of concurrent calls with the same old hash only the first matches.
func (q *queries) SetPasswordHash(ctx context.Context, id, oldHash, newHash string, at time.Time) error {
	res, err := q.w.exec(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ? AND password_hash = ?`,
		newHash, micro(at), id, oldHash)
	err = affected("set password hash", "User", res, err)
	if !latchkey.IsCode(err, latchkey.ENotFound) {
		return err
	}
	// No row matched: an unknown user, or a hash changed meanwhile.
	var one int
	if err := q.r.queryRow(ctx, `SELECT 1 FROM users WHERE id = ?`, id).Scan(&one); err != nil {
		return rowErr("set password hash", "User", err)
	}
	return latchkey.Errorf(latchkey.EConflict, "The password was changed meanwhile.")
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
