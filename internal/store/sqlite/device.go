package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

func (q *queries) CreateDeviceAuthorization(ctx context.Context, d *latchkey.DeviceAuthorization) error {
	var user any
	if d.UserID != "" {
		user = d.UserID
	}
	return q.insert(ctx, "create device authorization", d.ID, `INSERT INTO oauth_device_codes (`+sqlstore.DeviceCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.ClientID, d.DeviceCodeHash, d.UserCodeHash, encodeList(d.Scopes), micro(d.CreatedAt), micro(d.ExpiresAt), nullMicro(d.LastPolledAt),
		user, d.SessionID, nullMicro(d.AuthTime), encodeList(d.AMR), d.ACR, nullMicro(d.ApprovedAt), nullMicro(d.DeniedAt), nullMicro(d.ConsumedAt))
}

func (q *queries) DeviceAuthorizationByDeviceCode(ctx context.Context, hash []byte) (*latchkey.DeviceAuthorization, error) {
	return sqlstore.One(errs, "device authorization", "Device authorization",
		q.r.queryRow(ctx, `SELECT `+sqlstore.DeviceCols+` FROM oauth_device_codes WHERE device_code_hash = ?`, hash), scanDevice)
}

func (q *queries) DeviceAuthorizationByUserCode(ctx context.Context, hash []byte) (*latchkey.DeviceAuthorization, error) {
	return sqlstore.One(errs, "device authorization", "Device authorization",
		q.r.queryRow(ctx, `SELECT `+sqlstore.DeviceCols+` FROM oauth_device_codes WHERE user_code_hash = ?`, hash), scanDevice)
}

func (q *queries) PollDeviceAuthorization(ctx context.Context, id string, at time.Time, interval time.Duration) (bool, error) {
	res, err := q.w.exec(ctx, `UPDATE oauth_device_codes SET last_polled_at = ? WHERE id = ? AND (last_polled_at IS NULL OR last_polled_at <= ?)`,
		micro(at), id, micro(at.Add(-interval)))
	err = affected("poll device authorization", "Device authorization", res, err)
	if !latchkey.IsCode(err, latchkey.ENotFound) {
		return false, err
	}
	var one int
	if err := q.r.queryRow(ctx, `SELECT 1 FROM oauth_device_codes WHERE id = ?`, id).Scan(&one); err != nil {
		return false, rowErr("poll device authorization", "Device authorization", err)
	}
	return true, nil
}

func (q *queries) AnswerDeviceAuthorization(ctx context.Context, id string, d latchkey.AuthDone, approved bool) error {
	col := "denied_at"
	if approved {
		col = "approved_at"
	}
	var user any
	if d.UserID != "" {
		user = d.UserID
	}
	res, err := q.w.exec(ctx, `UPDATE oauth_device_codes SET `+col+` = ?, user_id = ?, session_id = ?, auth_time = ?, amr = ?, acr = ?
		WHERE id = ? AND approved_at IS NULL AND denied_at IS NULL`, micro(d.At), user, d.SessionID, micro(d.AuthTime), encodeList(d.AMR), d.ACR, id)
	return affected("answer device authorization", "Device authorization", res, err)
}

func (q *queries) ConsumeDeviceAuthorization(ctx context.Context, id string, at time.Time) error {
	res, err := q.w.exec(ctx, `UPDATE oauth_device_codes SET consumed_at = ? WHERE id = ? AND approved_at IS NOT NULL AND consumed_at IS NULL`,
		micro(at), id)
	return affected("consume device authorization", "Device authorization", res, err)
}

func scanDevice(s sqlstore.Scanner) (*latchkey.DeviceAuthorization, error) {
	var d latchkey.DeviceAuthorization
	var scopes, amr string
	var user sql.NullString
	var created, expires int64
	var polled, authTime, approved, denied, consumed sql.NullInt64
	if err := s.Scan(&d.ID, &d.ClientID, &d.DeviceCodeHash, &d.UserCodeHash, &scopes, &created, &expires, &polled, &user, &d.SessionID,
		&authTime, &amr, &d.ACR, &approved, &denied, &consumed); err != nil {
		return nil, err
	}
	var err error
	if d.Scopes, err = decodeList(scopes); err != nil {
		return nil, err
	}
	if d.AMR, err = decodeList(amr); err != nil {
		return nil, err
	}
	d.UserID = user.String
	d.CreatedAt, d.ExpiresAt = fromMicro(created), fromMicro(expires)
	d.LastPolledAt, d.AuthTime, d.ApprovedAt = fromNullMicro(polled), fromNullMicro(authTime), fromNullMicro(approved)
	d.DeniedAt, d.ConsumedAt = fromNullMicro(denied), fromNullMicro(consumed)
	return &d, nil
}
