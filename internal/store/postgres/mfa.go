package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

// The writes below are single conditional statements: a concurrent one
// waits for the row lock and re-checks its condition against the
// committed row, so only one caller finds the row in the state it asks for.

func (q *queries) CreateTOTPFactor(ctx context.Context, f *latchkey.TOTPFactor) error {
	return q.insert(ctx, "create totp factor", f.ID, `INSERT INTO totp_factors (`+sqlstore.TOTPCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		f.ID, f.UserID, f.Name, f.SealedSecret, f.CreatedAt, f.ExpiresAt, f.ConfirmedAt, f.LastStep, f.LastUsedAt)
}

func (q *queries) ListTOTPFactors(ctx context.Context, userID string) ([]latchkey.TOTPFactor, error) {
	return sqlstore.List(ctx, errs, q.q.Query, "list totp factors", `SELECT `+sqlstore.TOTPCols+` FROM totp_factors
		WHERE user_id = $1 ORDER BY created_at, id`, []any{userID}, scanTOTPFactor)
}

func (q *queries) ConfirmTOTPFactor(ctx context.Context, userID, id string, step int64, at time.Time) error {
	tag, err := q.q.Exec(ctx, `UPDATE totp_factors SET confirmed_at = $1, expires_at = NULL, last_step = $2, last_used_at = $1
		WHERE id = $3 AND user_id = $4 AND confirmed_at IS NULL AND expires_at > $1`, at, step, id, userID)
	return affected("confirm totp factor", "Factor", tag, err)
}

func (q *queries) UseTOTPStep(ctx context.Context, id string, step int64, at time.Time) (bool, error) {
	tag, err := q.q.Exec(ctx, `UPDATE totp_factors SET last_step = $1, last_used_at = $2
		WHERE id = $3 AND confirmed_at IS NOT NULL AND last_step < $1`, step, at, id)
	return changedOne("use totp step", tag, err)
}

func (q *queries) DeleteTOTPFactor(ctx context.Context, userID, id string) error {
	tag, err := q.q.Exec(ctx, `DELETE FROM totp_factors WHERE id = $1 AND user_id = $2`, id, userID)
	return affected("delete totp factor", "Factor", tag, err)
}

// ReplaceRecoveryCodes deletes the old set and inserts the new one in two
// statements (the caller's transaction makes them one change).
func (q *queries) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte, at time.Time) error {
	if _, err := q.q.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
		return mapErr("replace recovery codes", err)
	}
	if len(hashes) == 0 {
		return nil
	}
	_, err := q.q.Exec(ctx, `INSERT INTO recovery_codes (user_id, hash, created_at) SELECT $1, h, $3 FROM unnest($2::bytea[]) AS h`,
		userID, hashes, at)
	return mapErr("replace recovery codes", err)
}

func (q *queries) UseRecoveryCode(ctx context.Context, userID string, hash []byte, at time.Time) (bool, error) {
	tag, err := q.q.Exec(ctx, `UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND hash = $3 AND used_at IS NULL`,
		at, userID, hash)
	return changedOne("use recovery code", tag, err)
}

func (q *queries) CountRecoveryCodes(ctx context.Context, userID string) (int, error) {
	var n int
	err := q.q.QueryRow(ctx, `SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL`, userID).Scan(&n)
	return n, mapErr("count recovery codes", err)
}

func (q *queries) UsersWithMFA(ctx context.Context, userIDs []string) ([]string, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	query, args := sqlstore.UsersWithMFAQuery(sqlstore.Dollar, userIDs)
	return sqlstore.List(ctx, errs, q.q.Query, "users with mfa", query, args, sqlstore.ScanString)
}

func (q *queries) DeleteMFA(ctx context.Context, userID string) (int, error) {
	tag, err := q.q.Exec(ctx, `DELETE FROM totp_factors WHERE user_id = $1`, userID)
	if err != nil {
		return 0, mapErr("delete mfa", err)
	}
	for _, stmt := range []string{`DELETE FROM recovery_codes WHERE user_id = $1`, `DELETE FROM mfa_challenges WHERE user_id = $1`} {
		if _, err := q.q.Exec(ctx, stmt, userID); err != nil {
			return 0, mapErr("delete mfa", err)
		}
	}
	return int(tag.RowsAffected()), nil
}

func (q *queries) CreateMFAChallenge(ctx context.Context, c *latchkey.MFAChallenge) error {
	return q.insert(ctx, "create mfa challenge", c.ID, `INSERT INTO mfa_challenges (`+sqlstore.ChallengeCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		c.ID, c.Hash, c.UserID, list(c.AMR), c.Audit, c.Attempts, c.CreatedAt, c.ExpiresAt, c.ConsumedAt)
}

func (q *queries) MFAChallengeByHash(ctx context.Context, hash []byte) (*latchkey.MFAChallenge, error) {
	if len(hash) == 0 {
		return nil, sqlstore.NotFound("Challenge")
	}
	return sqlstore.One(errs, "mfa challenge by hash", "Challenge",
		q.q.QueryRow(ctx, `SELECT `+sqlstore.ChallengeCols+` FROM mfa_challenges WHERE hash = $1`, hash), scanChallenge)
}

func (q *queries) AttemptMFAChallenge(ctx context.Context, hash []byte, now time.Time, maxAttempts int) (*latchkey.MFAChallenge, error) {
	if len(hash) == 0 {
		return nil, sqlstore.NotFound("Challenge")
	}
	return sqlstore.One(errs, "attempt mfa challenge", "Challenge", q.q.QueryRow(ctx, `UPDATE mfa_challenges SET attempts = attempts + 1
		WHERE hash = $1 AND consumed_at IS NULL AND expires_at > $2 AND attempts < $3
		RETURNING `+sqlstore.ChallengeCols, hash, now, maxAttempts), scanChallenge)
}

func (q *queries) ConsumeMFAChallenge(ctx context.Context, id string, at time.Time) (bool, error) {
	tag, err := q.q.Exec(ctx, `UPDATE mfa_challenges SET consumed_at = $1 WHERE id = $2 AND consumed_at IS NULL`, at, id)
	return changedOne("consume mfa challenge", tag, err)
}

// changedOne reports whether a conditional write changed its row.
func changedOne(op string, tag pgconn.CommandTag, err error) (bool, error) {
	if err != nil {
		return false, mapErr(op, err)
	}
	return tag.RowsAffected() == 1, nil
}

func scanTOTPFactor(row sqlstore.Scanner) (*latchkey.TOTPFactor, error) {
	var f latchkey.TOTPFactor
	if err := row.Scan(&f.ID, &f.UserID, &f.Name, &f.SealedSecret, &f.CreatedAt, &f.ExpiresAt, &f.ConfirmedAt, &f.LastStep, &f.LastUsedAt); err != nil {
		return nil, err
	}
	utc(&f.CreatedAt)
	utcp(&f.ExpiresAt, &f.ConfirmedAt, &f.LastUsedAt)
	return &f, nil
}

func scanChallenge(row sqlstore.Scanner) (*latchkey.MFAChallenge, error) {
	var c latchkey.MFAChallenge
	if err := row.Scan(&c.ID, &c.Hash, &c.UserID, &c.AMR, &c.Audit, &c.Attempts, &c.CreatedAt, &c.ExpiresAt, &c.ConsumedAt); err != nil {
		return nil, err
	}
	c.AMR = unlist(c.AMR)
	utc(&c.CreatedAt, &c.ExpiresAt)
	utcp(&c.ConsumedAt)
	return &c, nil
}
