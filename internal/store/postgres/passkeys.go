package postgres

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

func (q *queries) CreatePasskey(ctx context.Context, p *latchkey.Passkey) error {
	return q.insert(ctx, "create passkey", p.ID, `INSERT INTO passkeys (`+sqlstore.PasskeyCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		p.ID, p.UserID, p.CredentialID, p.PublicKey, p.AAGUID, int64(p.SignCount), list(p.Transports),
		p.BackupEligible, p.BackedUp, p.AttestationType, p.Name, p.CreatedAt, p.LastUsedAt)
}

func (q *queries) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*latchkey.Passkey, error) {
	if len(credentialID) == 0 {
		return nil, sqlstore.NotFound("Passkey")
	}
	return sqlstore.One(errs, "passkey by credential id", "Passkey", q.q.QueryRow(ctx,
		`SELECT `+sqlstore.PasskeyCols+` FROM passkeys WHERE credential_id = $1`, credentialID), scanPasskey)
}

func (q *queries) ListPasskeys(ctx context.Context, userID string) ([]latchkey.Passkey, error) {
	return sqlstore.List(ctx, errs, q.q.Query, "list passkeys", `SELECT `+sqlstore.PasskeyCols+` FROM passkeys
		WHERE user_id = $1 ORDER BY created_at DESC, id DESC`, []any{userID}, scanPasskey)
}

func (q *queries) RenamePasskey(ctx context.Context, userID, id, name string) error {
	tag, err := q.q.Exec(ctx, `UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3`, name, id, userID)
	return affected("rename passkey", "Passkey", tag, err)
}

func (q *queries) DeletePasskey(ctx context.Context, userID, id string) error {
	tag, err := q.q.Exec(ctx, `DELETE FROM passkeys WHERE id = $1 AND user_id = $2`, id, userID)
	return affected("delete passkey", "Passkey", tag, err)
}

// UsePasskey is a compare-and-set in one statement: PostgreSQL re-checks
// the counter condition under the row lock, so of concurrent uses with
// the same counter only the first to take the lock moves it.
func (q *queries) UsePasskey(ctx context.Context, id string, u latchkey.PasskeyUse) error {
	n := int64(u.SignCount)
	tag, err := q.q.Exec(ctx, `UPDATE passkeys SET sign_count = $1, backup_eligible = $2, backed_up = $3, last_used_at = $4
		WHERE id = $5 AND (sign_count < $1 OR (sign_count = 0 AND $1 = 0))`,
		n, u.BackupEligible, u.BackedUp, u.At, id)
	err = affected("use passkey", "Passkey", tag, err)
	if !latchkey.IsCode(err, latchkey.ENotFound) {
		return err
	}
	var one int
	if err := q.q.QueryRow(ctx, `SELECT 1 FROM passkeys WHERE id = $1`, id).Scan(&one); err != nil {
		return rowErr("use passkey", "Passkey", err)
	}
	return sqlstore.CounterBehind()
}

func (q *queries) CreatePasskeyChallenge(ctx context.Context, c *latchkey.PasskeyChallenge) error {
	if err := errs.NeedHash("create passkey challenge", c.Hash); err != nil {
		return err
	}
	_, err := q.q.Exec(ctx, `INSERT INTO passkey_challenges (`+sqlstore.PasskeyChallengeCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		c.Hash, c.Purpose, nullString(c.UserID), c.SessionID, c.Name, c.CreatedAt, c.ExpiresAt)
	return mapErr("create passkey challenge", err)
}

// ConsumePasskeyChallenge deletes the row in one statement whether or not
// it expired (an expired challenge is spent too), and reports it only if
// it had not. A concurrent DELETE waits for the row lock and then finds
// no row.
func (q *queries) ConsumePasskeyChallenge(ctx context.Context, purpose string, hash []byte, now time.Time) (*latchkey.PasskeyChallenge, error) {
	if len(hash) == 0 {
		return nil, sqlstore.NotFound("Challenge")
	}
	c, err := sqlstore.One(errs, "consume passkey challenge", "Challenge", q.q.QueryRow(ctx,
		`DELETE FROM passkey_challenges WHERE hash = $1 AND purpose = $2 RETURNING `+sqlstore.PasskeyChallengeCols, hash, purpose), scanPasskeyChallenge)
	if err != nil {
		return nil, err
	}
	if !c.ExpiresAt.After(now) {
		return nil, sqlstore.NotFound("Challenge")
	}
	return c, nil
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func scanPasskey(s sqlstore.Scanner) (*latchkey.Passkey, error) {
	var p latchkey.Passkey
	var count int64
	if err := s.Scan(&p.ID, &p.UserID, &p.CredentialID, &p.PublicKey, &p.AAGUID, &count, &p.Transports, &p.BackupEligible,
		&p.BackedUp, &p.AttestationType, &p.Name, &p.CreatedAt, &p.LastUsedAt); err != nil {
		return nil, err
	}
	p.SignCount = uint32(count)
	p.Transports = unlist(p.Transports)
	utc(&p.CreatedAt)
	utcp(&p.LastUsedAt)
	return &p, nil
}

func scanPasskeyChallenge(s sqlstore.Scanner) (*latchkey.PasskeyChallenge, error) {
	var c latchkey.PasskeyChallenge
	var userID *string
	if err := s.Scan(&c.Hash, &c.Purpose, &userID, &c.SessionID, &c.Name, &c.CreatedAt, &c.ExpiresAt); err != nil {
		return nil, err
	}
	if userID != nil {
		c.UserID = *userID
	}
	utc(&c.CreatedAt, &c.ExpiresAt)
	return &c, nil
}
