package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

// The writes below are single conditional statements: SQLite runs one
// write at a time, so of concurrent calls only the first finds the row in
// the state its condition asks for.

func (q *queries) CreateTOTPFactor(ctx context.Context, f *latchkey.TOTPFactor) error {
	return q.insert(ctx, "create totp factor", f.ID, `INSERT INTO totp_factors (`+sqlstore.TOTPCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		f.ID, f.UserID, f.Name, f.SealedSecret, micro(f.CreatedAt), nullMicro(f.ExpiresAt), nullMicro(f.ConfirmedAt),
		f.LastStep, nullMicro(f.LastUsedAt))
}

func (q *queries) ListTOTPFactors(ctx context.Context, userID string) ([]latchkey.TOTPFactor, error) {
	return sqlstore.List(ctx, errs, q.r.query, "list totp factors", `SELECT `+sqlstore.TOTPCols+` FROM totp_factors
		WHERE user_id = ? ORDER BY created_at, id`, []any{userID}, scanTOTPFactor)
}

func (q *queries) ConfirmTOTPFactor(ctx context.Context, userID, id string, step int64, at time.Time) error {
	res, err := q.w.exec(ctx, `UPDATE totp_factors SET confirmed_at = ?, expires_at = NULL, last_step = ?, last_used_at = ?
		WHERE id = ? AND user_id = ? AND confirmed_at IS NULL AND expires_at > ?`,
		micro(at), step, micro(at), id, userID, micro(at))
	return affected("confirm totp factor", "Factor", res, err)
}

func (q *queries) UseTOTPStep(ctx context.Context, id string, step int64, at time.Time) (bool, error) {
	res, err := q.w.exec(ctx, `UPDATE totp_factors SET last_step = ?, last_used_at = ?
		WHERE id = ? AND confirmed_at IS NOT NULL AND last_step < ?`, step, micro(at), id, step)
	return changedOne("use totp step", res, err)
}

func (q *queries) DeleteTOTPFactor(ctx context.Context, userID, id string) error {
	res, err := q.w.exec(ctx, `DELETE FROM totp_factors WHERE id = ? AND user_id = ?`, id, userID)
	return affected("delete totp factor", "Factor", res, err)
}

func (q *queries) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte, at time.Time) error {
	if _, err := q.w.exec(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return mapErr("replace recovery codes", err)
	}
	for _, h := range hashes {
		if _, err := q.w.exec(ctx, `INSERT INTO recovery_codes (user_id, hash, created_at) VALUES (?, ?, ?)`,
			userID, h, micro(at)); err != nil {
			return mapErr("replace recovery codes", err)
		}
	}
	return nil
}

func (q *queries) UseRecoveryCode(ctx context.Context, userID string, hash []byte, at time.Time) (bool, error) {
	res, err := q.w.exec(ctx, `UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND hash = ? AND used_at IS NULL`,
		micro(at), userID, hash)
	return changedOne("use recovery code", res, err)
}

func (q *queries) CountRecoveryCodes(ctx context.Context, userID string) (int, error) {
	var n int
	err := q.r.queryRow(ctx, `SELECT count(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`, userID).Scan(&n)
	return n, mapErr("count recovery codes", err)
}

func (q *queries) UsersWithMFA(ctx context.Context, userIDs []string) ([]string, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	query, args := sqlstore.UsersWithMFAQuery(sqlstore.Question, userIDs)
	return sqlstore.List(ctx, errs, q.r.query, "users with mfa", query, args, sqlstore.ScanString)
}

func (q *queries) DeleteMFA(ctx context.Context, userID string) (int, error) {
	res, err := q.w.exec(ctx, `DELETE FROM totp_factors WHERE user_id = ?`, userID)
	if err != nil {
		return 0, mapErr("delete mfa", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, mapErr("delete mfa", err)
	}
	for _, stmt := range []string{`DELETE FROM recovery_codes WHERE user_id = ?`, `DELETE FROM mfa_challenges WHERE user_id = ?`} {
		if _, err := q.w.exec(ctx, stmt, userID); err != nil {
			return 0, mapErr("delete mfa", err)
		}
	}
	return int(n), nil
}

func (q *queries) CreateMFAChallenge(ctx context.Context, c *latchkey.MFAChallenge) error {
	return q.insert(ctx, "create mfa challenge", c.ID, `INSERT INTO mfa_challenges (`+sqlstore.ChallengeCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Hash, c.UserID, encodeList(c.AMR), c.Audit, c.Attempts, micro(c.CreatedAt), micro(c.ExpiresAt), nullMicro(c.ConsumedAt))
}

func (q *queries) MFAChallengeByHash(ctx context.Context, hash []byte) (*latchkey.MFAChallenge, error) {
	if len(hash) == 0 {
		return nil, sqlstore.NotFound("Challenge")
	}
	return sqlstore.One(errs, "mfa challenge by hash", "Challenge",
		q.r.queryRow(ctx, `SELECT `+sqlstore.ChallengeCols+` FROM mfa_challenges WHERE hash = ?`, hash), scanChallenge)
}

func (q *queries) AttemptMFAChallenge(ctx context.Context, hash []byte, now time.Time, maxAttempts int) (*latchkey.MFAChallenge, error) {
	if len(hash) == 0 {
		return nil, sqlstore.NotFound("Challenge")
	}
	return sqlstore.One(errs, "attempt mfa challenge", "Challenge", q.w.queryRow(ctx, `UPDATE mfa_challenges SET attempts = attempts + 1
		WHERE hash = ? AND consumed_at IS NULL AND expires_at > ? AND attempts < ?
		RETURNING `+sqlstore.ChallengeCols, hash, micro(now), maxAttempts), scanChallenge)
}

func (q *queries) ConsumeMFAChallenge(ctx context.Context, id string, at time.Time) (bool, error) {
	res, err := q.w.exec(ctx, `UPDATE mfa_challenges SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL`, micro(at), id)
	return changedOne("consume mfa challenge", res, err)
}

// changedOne reports whether a conditional write changed its row.
func changedOne(op string, res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, mapErr(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, mapErr(op, err)
	}
	return n == 1, nil
}

func scanTOTPFactor(s sqlstore.Scanner) (*latchkey.TOTPFactor, error) {
	var f latchkey.TOTPFactor
	var created int64
	var expires, confirmed, used sql.NullInt64
	if err := s.Scan(&f.ID, &f.UserID, &f.Name, &f.SealedSecret, &created, &expires, &confirmed, &f.LastStep, &used); err != nil {
		return nil, err
	}
	f.CreatedAt = fromMicro(created)
	f.ExpiresAt, f.ConfirmedAt, f.LastUsedAt = fromNullMicro(expires), fromNullMicro(confirmed), fromNullMicro(used)
	return &f, nil
}

func scanChallenge(s sqlstore.Scanner) (*latchkey.MFAChallenge, error) {
	var c latchkey.MFAChallenge
	var amr string
	var created, expires int64
	var consumed sql.NullInt64
	if err := s.Scan(&c.ID, &c.Hash, &c.UserID, &amr, &c.Audit, &c.Attempts, &created, &expires, &consumed); err != nil {
		return nil, err
	}
	var err error
	if c.AMR, err = decodeList(amr); err != nil {
		return nil, err
	}
	c.CreatedAt, c.ExpiresAt, c.ConsumedAt = fromMicro(created), fromMicro(expires), fromNullMicro(consumed)
	return &c, nil
}
