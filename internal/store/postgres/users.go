package postgres

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

func (q *queries) CreateUser(ctx context.Context, u *latchkey.User) error {
	return q.insert(ctx, "create user", u.ID, `INSERT INTO users (`+sqlstore.UserCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		u.ID, u.Email, u.Name, list(u.Roles), u.Disabled, u.PasswordHash, u.EmailVerifiedAt, u.CreatedAt, u.UpdatedAt)
}

func (q *queries) UserByID(ctx context.Context, id string) (*latchkey.User, error) {
	return sqlstore.One(errs, "user by id", "User", q.q.QueryRow(ctx, `SELECT `+sqlstore.UserCols+` FROM users WHERE id = $1`, id), scanUser)
}

func (q *queries) UserByEmail(ctx context.Context, email string) (*latchkey.User, error) {
	return sqlstore.One(errs, "user by email", "User", q.q.QueryRow(ctx, `SELECT `+sqlstore.UserCols+` FROM users WHERE email = $1`, email), scanUser)
}

// UpdateUser writes only the columns the patch sets, so that it never
// carries a stale value of another column back over a concurrent change.
func (q *queries) UpdateUser(ctx context.Context, id string, p latchkey.UserPatch) (*latchkey.User, error) {
	a := &sqlstore.Args{Mark: sqlstore.Dollar}
	query := `UPDATE users SET ` + sqlstore.UserSet(a, p, encoder{}) + ` WHERE id = ` + a.Add(id) + ` RETURNING ` + sqlstore.UserCols
	return sqlstore.One(errs, "update user", "User", q.q.QueryRow(ctx, query, a.List...), scanUser)
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
	l := sqlstore.NewListing(sqlstore.Dollar, f.Page)
	if f.Query != "" {
		l.And(`email ILIKE ` + l.Add("%"+sqlstore.LikeEscape(f.Query)+"%") + ` ESCAPE '\'`)
	}
	return sqlstore.ListPage(ctx, errs, q.q.Query, "users", l, `SELECT `+sqlstore.UserCols+` FROM users`, scanUser, userID)
}

func userID(u *latchkey.User) string { return u.ID }

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
