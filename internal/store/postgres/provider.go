package postgres

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

func (q *queries) CreateAuthRequest(ctx context.Context, r *latchkey.AuthRequest) error {
	params, err := sqlstore.EncodeAuthParams(r.Params)
	if err != nil {
		return mapErr("create auth request", err)
	}
	var user *string
	if r.UserID != "" {
		user = &r.UserID
	}
	return q.insert(ctx, "create auth request", r.ID, `INSERT INTO oauth_auth_requests (`+sqlstore.AuthRequestCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		r.ID, r.ClientID, params, r.CreatedAt, r.ExpiresAt, user, r.SessionID, r.AuthTime, list(r.AMR), r.ACR, r.DoneAt,
		nullBytes(r.CodeHash), r.CodeExpiresAt, r.CodeUsedAt)
}

func (q *queries) AuthRequestByID(ctx context.Context, id string) (*latchkey.AuthRequest, error) {
	return sqlstore.One(errs, "auth request by id", "Authorization request",
		q.q.QueryRow(ctx, `SELECT `+sqlstore.AuthRequestCols+` FROM oauth_auth_requests WHERE id = $1`, id), scanAuthRequest)
}

func (q *queries) CompleteAuthRequest(ctx context.Context, id string, d latchkey.AuthDone) error {
	tag, err := q.q.Exec(ctx, `UPDATE oauth_auth_requests SET user_id = $1, session_id = $2, auth_time = $3, amr = $4, acr = $5, done_at = $6
		WHERE id = $7 AND done_at IS NULL`, d.UserID, d.SessionID, d.AuthTime, list(d.AMR), d.ACR, d.At, id)
	return affected("complete auth request", "Authorization request", tag, err)
}

func (q *queries) SetAuthCode(ctx context.Context, id string, codeHash []byte, expiresAt time.Time) error {
	tag, err := q.q.Exec(ctx, `UPDATE oauth_auth_requests SET code_hash = $1, code_expires_at = $2
		WHERE id = $3 AND done_at IS NOT NULL AND code_hash IS NULL`, codeHash, expiresAt, id)
	return affected("set auth code", "Authorization request", tag, err)
}

// UseAuthCode: the row lock makes concurrent exchanges of one code queue,
// and each re-checks code_used_at, so exactly one finds it empty.
func (q *queries) UseAuthCode(ctx context.Context, codeHash []byte, at time.Time) (*latchkey.AuthRequest, bool, error) {
	r, err := sqlstore.One(errs, "use auth code", "Code", q.q.QueryRow(ctx, `UPDATE oauth_auth_requests SET code_used_at = $1
		WHERE code_hash = $2 AND code_used_at IS NULL RETURNING `+sqlstore.AuthRequestCols, at, codeHash), scanAuthRequest)
	if err == nil {
		return r, true, nil
	}
	if !latchkey.IsCode(err, latchkey.ENotFound) {
		return nil, false, err
	}
	r, err = sqlstore.One(errs, "auth code", "Code",
		q.q.QueryRow(ctx, `SELECT `+sqlstore.AuthRequestCols+` FROM oauth_auth_requests WHERE code_hash = $1`, codeHash), scanAuthRequest)
	return r, false, err
}

func (q *queries) SaveConsent(ctx context.Context, c *latchkey.Consent) error {
	_, err := q.q.Exec(ctx, `INSERT INTO oauth_consents (`+sqlstore.ConsentCols+`) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`,
		c.UserID, c.ClientID, list(c.Scopes), c.CreatedAt, c.UpdatedAt)
	return mapErr("save consent", err)
}

func (q *queries) ConsentByUserClient(ctx context.Context, userID, clientID string) (*latchkey.Consent, error) {
	return sqlstore.One(errs, "consent", "Consent", q.q.QueryRow(ctx, `SELECT `+sqlstore.ConsentCols+` FROM oauth_consents
		WHERE user_id = $1 AND client_id = $2`, userID, clientID), scanConsent)
}

func (q *queries) ListConsents(ctx context.Context, userID string) ([]latchkey.Consent, error) {
	return sqlstore.List(ctx, errs, q.q.Query, "list consents", `SELECT `+sqlstore.ConsentCols+` FROM oauth_consents
		WHERE user_id = $1 ORDER BY updated_at DESC, client_id DESC`, []any{userID}, scanConsent)
}

func (q *queries) DeleteConsent(ctx context.Context, userID, clientID string) error {
	tag, err := q.q.Exec(ctx, `DELETE FROM oauth_consents WHERE user_id = $1 AND client_id = $2`, userID, clientID)
	return affected("delete consent", "Consent", tag, err)
}

func (q *queries) CreateGrant(ctx context.Context, g *latchkey.Grant) error {
	return q.insert(ctx, "create grant", g.ID, `INSERT INTO oauth_grants (`+sqlstore.GrantCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		g.ID, g.ClientID, g.UserID, g.SessionID, list(g.Scopes), list(g.Audience), g.AuthTime, list(g.AMR), g.ACR,
		g.CreatedAt, g.ExpiresAt, g.RevokedAt)
}

func (q *queries) GrantByID(ctx context.Context, id string) (*latchkey.Grant, error) {
	return sqlstore.One(errs, "grant by id", "Grant", q.q.QueryRow(ctx, `SELECT `+sqlstore.GrantCols+` FROM oauth_grants WHERE id = $1`, id), scanGrant)
}

func (q *queries) RevokeGrant(ctx context.Context, id string, at time.Time) error {
	tag, err := q.q.Exec(ctx, `UPDATE oauth_grants SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2`, at, id)
	return affected("revoke grant", "Grant", tag, err)
}

func (q *queries) RevokeUserClientGrants(ctx context.Context, userID, clientID string, at time.Time) ([]string, error) {
	return q.returningIDs(ctx, "revoke grants", `UPDATE oauth_grants SET revoked_at = $1
		WHERE user_id = $2 AND client_id = $3 AND revoked_at IS NULL RETURNING id`, at, userID, clientID)
}

func scanAuthRequest(row sqlstore.Scanner) (*latchkey.AuthRequest, error) {
	var r latchkey.AuthRequest
	var params string
	var user *string
	if err := row.Scan(&r.ID, &r.ClientID, &params, &r.CreatedAt, &r.ExpiresAt, &user, &r.SessionID, &r.AuthTime, &r.AMR, &r.ACR, &r.DoneAt,
		&r.CodeHash, &r.CodeExpiresAt, &r.CodeUsedAt); err != nil {
		return nil, err
	}
	var err error
	if r.Params, err = sqlstore.DecodeAuthParams(params); err != nil {
		return nil, err
	}
	if user != nil {
		r.UserID = *user
	}
	r.AMR = unlist(r.AMR)
	utc(&r.CreatedAt, &r.ExpiresAt)
	utcp(&r.AuthTime, &r.DoneAt, &r.CodeExpiresAt, &r.CodeUsedAt)
	return &r, nil
}

func scanConsent(row sqlstore.Scanner) (*latchkey.Consent, error) {
	var c latchkey.Consent
	if err := row.Scan(&c.UserID, &c.ClientID, &c.Scopes, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return nil, err
	}
	c.Scopes = unlist(c.Scopes)
	utc(&c.CreatedAt, &c.UpdatedAt)
	return &c, nil
}

func scanGrant(row sqlstore.Scanner) (*latchkey.Grant, error) {
	var g latchkey.Grant
	if err := row.Scan(&g.ID, &g.ClientID, &g.UserID, &g.SessionID, &g.Scopes, &g.Audience, &g.AuthTime, &g.AMR, &g.ACR,
		&g.CreatedAt, &g.ExpiresAt, &g.RevokedAt); err != nil {
		return nil, err
	}
	g.Scopes, g.Audience, g.AMR = unlist(g.Scopes), unlist(g.Audience), unlist(g.AMR)
	utc(&g.AuthTime, &g.CreatedAt, &g.ExpiresAt)
	utcp(&g.RevokedAt)
	return &g, nil
}

func (q *queries) CreateClientRefreshToken(ctx context.Context, t *latchkey.ClientRefreshToken) error {
	_, err := q.q.Exec(ctx, `INSERT INTO oauth_refresh_tokens (`+sqlstore.ClientRefreshCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		t.Hash, t.GrantID, t.CreatedAt, t.ExpiresAt, t.UsedAt, nullBytes(t.SealedSuccessor))
	return mapErr("create client refresh token", err)
}

func (q *queries) ClientRefreshTokenByHash(ctx context.Context, hash []byte) (*latchkey.ClientRefreshToken, error) {
	return sqlstore.One(errs, "client refresh token", "Refresh token", q.q.QueryRow(ctx, `SELECT `+sqlstore.ClientRefreshCols+`
		FROM oauth_refresh_tokens WHERE hash = $1`, hash), scanClientRefresh)
}

// MarkClientRefreshTokenUsed: the row lock re-checks used_at, so of
// concurrent calls exactly one matches.
func (q *queries) MarkClientRefreshTokenUsed(ctx context.Context, hash []byte, at time.Time, sealed []byte) (bool, error) {
	tag, err := q.q.Exec(ctx, `UPDATE oauth_refresh_tokens SET used_at = $1, sealed_successor = $2 WHERE hash = $3 AND used_at IS NULL`,
		at, nullBytes(sealed), hash)
	if err != nil {
		return false, mapErr("use client refresh token", err)
	}
	return tag.RowsAffected() == 1, nil
}

func (q *queries) UseAssertionID(ctx context.Context, clientID, jti string, expiresAt time.Time) error {
	_, err := q.q.Exec(ctx, `INSERT INTO oauth_assertion_ids (client_id, jti, expires_at) VALUES ($1, $2, $3)`, clientID, jti, expiresAt)
	return mapErr("use assertion id", err)
}

func scanClientRefresh(row sqlstore.Scanner) (*latchkey.ClientRefreshToken, error) {
	var t latchkey.ClientRefreshToken
	if err := row.Scan(&t.Hash, &t.GrantID, &t.CreatedAt, &t.ExpiresAt, &t.UsedAt, &t.SealedSuccessor); err != nil {
		return nil, err
	}
	utc(&t.CreatedAt, &t.ExpiresAt)
	utcp(&t.UsedAt)
	return &t, nil
}
