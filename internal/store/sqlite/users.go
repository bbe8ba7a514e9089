package sqlite

import (
	"context"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

// queries implements latchkey.Tx on a reader and a writer, which are the
// two pools outside a transaction and the same transaction inside one.
type queries struct {
	r, w runner
}

func (q *queries) CreateUser(ctx context.Context, u *latchkey.User) error {
	return q.insert(ctx, "create user", u.ID, `INSERT INTO users (`+sqlstore.UserCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Email, u.Name, encodeList(u.Roles), boolInt(u.Disabled), u.PasswordHash, nullMicro(u.EmailVerifiedAt),
		micro(u.CreatedAt), micro(u.UpdatedAt))
}

func (q *queries) UserByID(ctx context.Context, id string) (*latchkey.User, error) {
	return sqlstore.One(errs, "user by id", "User", q.r.queryRow(ctx, `SELECT `+sqlstore.UserCols+` FROM users WHERE id = ?`, id), scanUser)
}

func (q *queries) UserByEmail(ctx context.Context, email string) (*latchkey.User, error) {
	return sqlstore.One(errs, "user by email", "User", q.r.queryRow(ctx, `SELECT `+sqlstore.UserCols+` FROM users WHERE email = ?`, email), scanUser)
}

// UpdateUser writes only the columns the patch sets, so that it never
// carries a stale value of another column back over a concurrent change.
func (q *queries) UpdateUser(ctx context.Context, id string, p latchkey.UserPatch) (*latchkey.User, error) {
	a := &sqlstore.Args{Mark: sqlstore.Question}
	query := `UPDATE users SET ` + sqlstore.UserSet(a, p, encoder{}) + ` WHERE id = ` + a.Add(id) + ` RETURNING ` + sqlstore.UserCols
	return sqlstore.One(errs, "update user", "User", q.w.queryRow(ctx, query, a.List...), scanUser)
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
	l := sqlstore.NewListing(sqlstore.Question, f.Page)
	if f.Query != "" {
		// LIKE is case-insensitive for ASCII in SQLite; lower() covers the
		// rest of what a canonical email can hold.
		l.And(`lower(email) LIKE ` + l.Add("%"+sqlstore.LikeEscape(strings.ToLower(f.Query))+"%") + ` ESCAPE '\'`)
	}
	return sqlstore.ListPage(ctx, errs, q.r.query, "users", l, `SELECT `+sqlstore.UserCols+` FROM users`, scanUser, userID)
}

func userID(u *latchkey.User) string { return u.ID }

func (q *queries) CountActiveUsersWithRole(ctx context.Context, role string) (int, error) {
	var n int
	err := q.r.queryRow(ctx, `SELECT count(*) FROM users WHERE disabled = 0
		AND EXISTS (SELECT 1 FROM json_each(users.roles) WHERE json_each.value = ?)`, role).Scan(&n)
	if err != nil {
		return 0, mapErr("count users", err)
	}
	return n, nil
}
