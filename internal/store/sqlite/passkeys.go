package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

func (q *queries) CreatePasskey(ctx context.Context, p *latchkey.Passkey) error {
	return q.insert(ctx, "create passkey", p.ID, `INSERT INTO passkeys (`+sqlstore.PasskeyCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.UserID, p.CredentialID, p.PublicKey, p.AAGUID, int64(p.SignCount), encodeList(p.Transports),
		nullBool(p.BackupEligible), nullBool(p.BackedUp), p.AttestationType, p.Name, micro(p.CreatedAt), nullMicro(p.LastUsedAt))
}

func (q *queries) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*latchkey.Passkey, error) {
	if len(credentialID) == 0 {
		return nil, sqlstore.NotFound("Passkey")
	}
	return sqlstore.One(errs, "passkey by credential id", "Passkey", q.r.queryRow(ctx,
		`SELECT `+sqlstore.PasskeyCols+` FROM passkeys WHERE credential_id = ?`, credentialID), scanPasskey)
}

func (q *queries) ListPasskeys(ctx context.Context, userID string) ([]latchkey.Passkey, error) {
	return sqlstore.List(ctx, errs, q.r.query, "list passkeys", `SELECT `+sqlstore.PasskeyCols+` FROM passkeys
		WHERE user_id = ? ORDER BY created_at DESC, id DESC`, []any{userID}, scanPasskey)
}

func (q *queries) RenamePasskey(ctx context.Context, userID, id, name string) error {
	res, err := q.w.exec(ctx, `UPDATE passkeys SET name = ? WHERE id = ? AND user_id = ?`, name, id, userID)
	return affected("rename passkey", "Passkey", res, err)
}

func (q *queries) DeletePasskey(ctx context.Context, userID, id string) error {
	res, err := q.w.exec(ctx, `DELETE FROM passkeys WHERE id = ? AND user_id = ?`, id, userID)
	return affected("delete passkey", "Passkey", res, err)
}

// UsePasskey is one conditional UPDATE: SQLite runs one write at a time,
// so of two uses with the same counter only the first finds it behind.
func (q *queries) UsePasskey(ctx context.Context, id string, u latchkey.PasskeyUse) error {
	n := int64(u.SignCount)
	res, err := q.w.exec(ctx, `UPDATE passkeys SET sign_count = ?, backup_eligible = ?, backed_up = ?, last_used_at = ?
		WHERE id = ? AND (sign_count < ? OR (sign_count = 0 AND ? = 0))`,
		n, boolInt(u.BackupEligible), boolInt(u.BackedUp), micro(u.At), id, n, n)
	err = affected("use passkey", "Passkey", res, err)
	if !latchkey.IsCode(err, latchkey.ENotFound) {
		return err
	}
	var one int
	if err := q.w.queryRow(ctx, `SELECT 1 FROM passkeys WHERE id = ?`, id).Scan(&one); err != nil {
		return rowErr("use passkey", "Passkey", err)
	}
	return sqlstore.CounterBehind()
}

func (q *queries) CreatePasskeyChallenge(ctx context.Context, c *latchkey.PasskeyChallenge) error {
	if err := errs.NeedHash("create passkey challenge", c.Hash); err != nil {
		return err
	}
	_, err := q.w.exec(ctx, `INSERT INTO passkey_challenges (`+sqlstore.PasskeyChallengeCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.Hash, c.Purpose, nullString(c.UserID), c.SessionID, c.Name, micro(c.CreatedAt), micro(c.ExpiresAt))
	return mapErr("create passkey challenge", err)
}

// ConsumePasskeyChallenge deletes the row in one statement whether or not
// it expired (an expired challenge is spent too), and reports it only if
// it had not.
func (q *queries) ConsumePasskeyChallenge(ctx context.Context, purpose string, hash []byte, now time.Time) (*latchkey.PasskeyChallenge, error) {
	if len(hash) == 0 {
		return nil, sqlstore.NotFound("Challenge")
	}
	c, err := sqlstore.One(errs, "consume passkey challenge", "Challenge", q.w.queryRow(ctx,
		`DELETE FROM passkey_challenges WHERE hash = ? AND purpose = ? RETURNING `+sqlstore.PasskeyChallengeCols, hash, purpose), scanPasskeyChallenge)
	if err != nil {
		return nil, err
	}
	if !c.ExpiresAt.After(now) {
		return nil, sqlstore.NotFound("Challenge")
	}
	return c, nil
}

func nullBool(b *bool) any {
	if b == nil {
		return nil
	}
	return boolInt(*b)
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func scanPasskey(s sqlstore.Scanner) (*latchkey.Passkey, error) {
	var p latchkey.Passkey
	var count, created int64
	var transports string
	var be, bs sql.NullBool
	var lastUsed sql.NullInt64
	if err := s.Scan(&p.ID, &p.UserID, &p.CredentialID, &p.PublicKey, &p.AAGUID, &count, &transports, &be, &bs,
		&p.AttestationType, &p.Name, &created, &lastUsed); err != nil {
		return nil, err
	}
	var err error
	if p.Transports, err = decodeList(transports); err != nil {
		return nil, err
	}
	p.SignCount = uint32(count)
	if be.Valid {
		p.BackupEligible = &be.Bool
	}
	if bs.Valid {
		p.BackedUp = &bs.Bool
	}
	p.CreatedAt, p.LastUsedAt = fromMicro(created), fromNullMicro(lastUsed)
	return &p, nil
}

func scanPasskeyChallenge(s sqlstore.Scanner) (*latchkey.PasskeyChallenge, error) {
	var c latchkey.PasskeyChallenge
	var userID sql.NullString
	var created, expires int64
	if err := s.Scan(&c.Hash, &c.Purpose, &userID, &c.SessionID, &c.Name, &created, &expires); err != nil {
		return nil, err
	}
	c.UserID = userID.String
	c.CreatedAt, c.ExpiresAt = fromMicro(created), fromMicro(expires)
	return &c, nil
}
