package postgres

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

func (q *queries) CreateDeviceAuthorization(ctx context.Context, d *latchkey.DeviceAuthorization) error {
	var user *string
	if d.UserID != "" {
		user = &d.UserID
	}
	return q.insert(ctx, "create device authorization", d.ID, `INSERT INTO oauth_device_codes (`+sqlstore.DeviceCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		d.ID, d.ClientID, d.DeviceCodeHash, d.UserCodeHash, list(d.Scopes), d.CreatedAt, d.ExpiresAt, d.LastPolledAt,
		user, d.SessionID, d.AuthTime, list(d.AMR), d.ACR, d.ApprovedAt, d.DeniedAt, d.ConsumedAt)
}

func (q *queries) DeviceAuthorizationByDeviceCode(ctx context.Context, hash []byte) (*latchkey.DeviceAuthorization, error) {
	return sqlstore.One(errs, "device authorization", "Device authorization",
		q.q.QueryRow(ctx, `SELECT `+sqlstore.DeviceCols+` FROM oauth_device_codes WHERE device_code_hash = $1`, hash), scanDevice)
}

func (q *queries) DeviceAuthorizationByUserCode(ctx context.Context, hash []byte) (*latchkey.DeviceAuthorization, error) {
	return sqlstore.One(errs, "device authorization", "Device authorization",
		q.q.QueryRow(ctx, `SELECT `+sqlstore.DeviceCols+` FROM oauth_device_codes WHERE user_code_hash = $1`, hash), scanDevice)
}

func (q *queries) PollDeviceAuthorization(ctx context.Context, id string, at time.Time, interval time.Duration) (bool, error) {
	tag, err := q.q.Exec(ctx, `UPDATE oauth_device_codes SET last_polled_at = $1 WHERE id = $2 AND (last_polled_at IS NULL OR last_polled_at <= $3)`,
		at, id, at.Add(-interval))
	err = affected("poll device authorization", "Device authorization", tag, err)
	if !latchkey.IsCode(err, latchkey.ENotFound) {
		return false, err
	}
	var one int
	if err := q.q.QueryRow(ctx, `SELECT 1 FROM oauth_device_codes WHERE id = $1`, id).Scan(&one); err != nil {
		return false, rowErr("poll device authorization", "Device authorization", err)
	}
	return true, nil
}

func (q *queries) AnswerDeviceAuthorization(ctx context.Context, id string, d latchkey.AuthDone, approved bool) error {
	col := "denied_at"
	if approved {
		col = "approved_at"
	}
	var user *string
	if d.UserID != "" {
		user = &d.UserID
	}
	tag, err := q.q.Exec(ctx, `UPDATE oauth_device_codes SET `+col+` = $1, user_id = $2, session_id = $3, auth_time = $4, amr = $5, acr = $6
		WHERE id = $7 AND approved_at IS NULL AND denied_at IS NULL`, d.At, user, d.SessionID, d.AuthTime, list(d.AMR), d.ACR, id)
	return affected("answer device authorization", "Device authorization", tag, err)
}

func (q *queries) ConsumeDeviceAuthorization(ctx context.Context, id string, at time.Time) error {
	tag, err := q.q.Exec(ctx, `UPDATE oauth_device_codes SET consumed_at = $1 WHERE id = $2 AND approved_at IS NOT NULL AND consumed_at IS NULL`, at, id)
	return affected("consume device authorization", "Device authorization", tag, err)
}

func scanDevice(row sqlstore.Scanner) (*latchkey.DeviceAuthorization, error) {
	var d latchkey.DeviceAuthorization
	var user *string
	if err := row.Scan(&d.ID, &d.ClientID, &d.DeviceCodeHash, &d.UserCodeHash, &d.Scopes, &d.CreatedAt, &d.ExpiresAt, &d.LastPolledAt, &user, &d.SessionID,
		&d.AuthTime, &d.AMR, &d.ACR, &d.ApprovedAt, &d.DeniedAt, &d.ConsumedAt); err != nil {
		return nil, err
	}
	if user != nil {
		d.UserID = *user
	}
	d.Scopes, d.AMR = unlist(d.Scopes), unlist(d.AMR)
	utc(&d.CreatedAt, &d.ExpiresAt)
	utcp(&d.LastPolledAt, &d.AuthTime, &d.ApprovedAt, &d.DeniedAt, &d.ConsumedAt)
	return &d, nil
}
