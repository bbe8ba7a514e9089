package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey"
)

// utc normalises times read back from timestamptz, which pgx returns in
// the local zone.
func utc(ts ...*time.Time) {
	for _, t := range ts {
		*t = t.UTC()
	}
}

func utcp(ts ...**time.Time) {
	for _, t := range ts {
		if *t != nil {
			v := (*t).UTC()
			*t = &v
		}
	}
}

const userCols = `id, email, name, roles, disabled, password_hash, email_verified_at, created_at, updated_at`

func scanUser(row pgx.Row) (*latchkey.User, error) {
	var u latchkey.User
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Roles, &u.Disabled, &u.PasswordHash, &u.EmailVerifiedAt, &u.CreatedAt, &u.UpdatedAt); err != nil {
		return nil, err
	}
	u.Roles = unlist(u.Roles)
	utc(&u.CreatedAt, &u.UpdatedAt)
	utcp(&u.EmailVerifiedAt)
	return &u, nil
}

func (q *queries) CreateUser(ctx context.Context, u *latchkey.User) error {
	if u.ID == "" {
		u.ID = latchkey.NewID(u.CreatedAt)
	}
	_, err := q.q.Exec(ctx, `INSERT INTO users (`+userCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		u.ID, u.Email, u.Name, list(u.Roles), u.Disabled, u.PasswordHash, u.EmailVerifiedAt, u.CreatedAt, u.UpdatedAt)
	return mapErr("create user", err)
}

func (q *queries) UserByID(ctx context.Context, id string) (*latchkey.User, error) {
	u, err := scanUser(q.q.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	if err != nil {
		return nil, rowErr("user by id", "User", err)
	}
	return u, nil
}

func (q *queries) UserByEmail(ctx context.Context, email string) (*latchkey.User, error) {
	u, err := scanUser(q.q.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE email = $1`, email))
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
		args = append(args, v)
		set = append(set, name+" = $"+strconv.Itoa(len(args)))
	}
	if p.Email != nil {
		col("email", *p.Email)
	}
	if p.Name != nil {
		col("name", *p.Name)
	}
	if p.Roles != nil {
		col("roles", list(*p.Roles))
	}
	if p.Disabled != nil {
		col("disabled", *p.Disabled)
	}
	if p.EmailVerifiedAt != nil {
		col("email_verified_at", p.EmailVerifiedAt.At)
	}
	col("updated_at", p.UpdatedAt)
	args = append(args, id)
	u, err := scanUser(q.q.QueryRow(ctx, `UPDATE users SET `+strings.Join(set, ", ")+
		` WHERE id = $`+strconv.Itoa(len(args))+` RETURNING `+userCols, args...))
	if err != nil {
		return nil, rowErr("update user", "User", err)
	}
	return u, nil
}

// SetPasswordHash is a compare-and-set in one statement: PostgreSQL
// re-checks the old hash under the row lock, so of concurrent calls with
// the same old hash only the first to take the lock matches.
func (q *queries) SetPasswordHash(ctx context.Context, id, oldHash, newHash string, at time.Time) error {
	tag, err := q.q.Exec(ctx, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3 AND password_hash = $4`,
		newHash, at, id, oldHash)
	err = affected("set password hash", "User", tag, err)
	if !latchkey.IsCode(err, latchkey.ENotFound) {
		return err
	}
	// No row matched: an unknown user, or a hash changed meanwhile.
	var one int
	if err := q.q.QueryRow(ctx, `SELECT 1 FROM users WHERE id = $1`, id).Scan(&one); err != nil {
		return rowErr("set password hash", "User", err)
	}
	return latchkey.Errorf(latchkey.EConflict, "The password was changed meanwhile.")
}

// DeleteUser relies on ON DELETE CASCADE for the user's sessions, refresh
// tokens, API keys, identities and one-time codes.
func (q *queries) DeleteUser(ctx context.Context, id string) error {
	tag, err := q.q.Exec(ctx, `DELETE FROM users WHERE id = $1`, id)
	return affected("delete user", "User", tag, err)
}

func (q *queries) ListUsers(ctx context.Context, f latchkey.UserFilter) ([]latchkey.User, string, error) {
	limit := pageLimit(f.Limit)
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Cursor != "" {
		where = append(where, `id < `+arg(f.Cursor))
	}
	if f.Query != "" {
		where = append(where, `email ILIKE `+arg("%"+likeEscape(f.Query)+"%")+` ESCAPE '\'`)
	}
	return listPage(ctx, q.q, "users", `SELECT `+userCols+` FROM users`, where, args, limit,
		func(r pgx.Row) (latchkey.User, error) {
			u, err := scanUser(r)
			if err != nil {
				return latchkey.User{}, err
			}
			return *u, nil
		},
		func(u *latchkey.User) string { return u.ID })
}

// CountActiveUsersWithRole locks the rows it counts (FOR UPDATE), so that
// two transactions that each remove a different holder of the role and
// then count the rest cannot both see one left: one waits for the other,
// or PostgreSQL breaks the deadlock by failing one of them. (The last-admin
// rule depends on this; SQLite serialises write transactions anyway.)
func (q *queries) CountActiveUsersWithRole(ctx context.Context, role string) (int, error) {
	var n int
	err := q.q.QueryRow(ctx, `SELECT count(*) FROM (SELECT id FROM users WHERE NOT disabled AND $1 = ANY (roles) FOR UPDATE) AS holders`, role).Scan(&n)
	if err != nil {
		return 0, mapErr("count users", err)
	}
	return n, nil
}
