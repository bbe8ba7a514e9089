package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

func (q *queries) CreateAuthRequest(ctx context.Context, r *latchkey.AuthRequest) error {
	params, err := sqlstore.EncodeAuthParams(r.Params)
	if err != nil {
		return mapErr("create auth request", err)
	}
	var user any
	if r.UserID != "" {
		user = r.UserID
	}
	return q.insert(ctx, "create auth request", r.ID, `INSERT INTO oauth_auth_requests (`+sqlstore.AuthRequestCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.ClientID, params, micro(r.CreatedAt), micro(r.ExpiresAt), user, r.SessionID, nullMicro(r.AuthTime),
		encodeList(r.AMR), r.ACR, nullMicro(r.DoneAt), nullBytes(r.CodeHash), nullMicro(r.CodeExpiresAt), nullMicro(r.CodeUsedAt))
}

func (q *queries) AuthRequestByID(ctx context.Context, id string) (*latchkey.AuthRequest, error) {
	return sqlstore.One(errs, "auth request by id", "Authorization request",
		q.r.queryRow(ctx, `SELECT `+sqlstore.AuthRequestCols+` FROM oauth_auth_requests WHERE id = ?`, id), scanAuthRequest)
}

func (q *queries) CompleteAuthRequest(ctx context.Context, id string, d latchkey.AuthDone) error {
	res, err := q.w.exec(ctx, `UPDATE oauth_auth_requests SET user_id = ?, session_id = ?, auth_time = ?, amr = ?, acr = ?, done_at = ?
		WHERE id = ? AND done_at IS NULL`, d.UserID, d.SessionID, micro(d.AuthTime), encodeList(d.AMR), d.ACR, micro(d.At), id)
	return affected("complete auth request", "Authorization request", res, err)
}

func (q *queries) SetAuthCode(ctx context.Context, id string, codeHash []byte, expiresAt time.Time) error {
	res, err := q.w.exec(ctx, `UPDATE oauth_auth_requests SET code_hash = ?, code_expires_at = ?
		WHERE id = ? AND done_at IS NOT NULL AND code_hash IS NULL`, codeHash, micro(expiresAt), id)
	return affected("set auth code", "Authorization request", res, err)
}

// UseAuthCode: SQLite runs one write at a time, so of concurrent
// exchanges of one code exactly one finds code_used_at empty.
func (q *queries) UseAuthCode(ctx context.Context, codeHash []byte, at time.Time) (*latchkey.AuthRequest, bool, error) {
	r, err := sqlstore.One(errs, "use auth code", "Code", q.w.queryRow(ctx, `UPDATE oauth_auth_requests SET code_used_at = ?
		WHERE code_hash = ? AND code_used_at IS NULL RETURNING `+sqlstore.AuthRequestCols, micro(at), codeHash), scanAuthRequest)
	if err == nil {
		return r, true, nil
	}
	if !latchkey.IsCode(err, latchkey.ENotFound) {
		return nil, false, err
	}
	r, err = sqlstore.One(errs, "auth code", "Code",
		q.r.queryRow(ctx, `SELECT `+sqlstore.AuthRequestCols+` FROM oauth_auth_requests WHERE code_hash = ?`, codeHash), scanAuthRequest)
	return r, false, err
}

func (q *queries) SaveConsent(ctx context.Context, c *latchkey.Consent) error {
	_, err := q.w.exec(ctx, `INSERT INTO oauth_consents (`+sqlstore.ConsentCols+`) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`,
		c.UserID, c.ClientID, encodeList(c.Scopes), micro(c.CreatedAt), micro(c.UpdatedAt))
	return mapErr("save consent", err)
}

func (q *queries) ConsentByUserClient(ctx context.Context, userID, clientID string) (*latchkey.Consent, error) {
	return sqlstore.One(errs, "consent", "Consent", q.r.queryRow(ctx, `SELECT `+sqlstore.ConsentCols+` FROM oauth_consents
		WHERE user_id = ? AND client_id = ?`, userID, clientID), scanConsent)
}

func (q *queries) ListConsents(ctx context.Context, userID string) ([]latchkey.Consent, error) {
	return sqlstore.List(ctx, errs, q.r.query, "list consents", `SELECT `+sqlstore.ConsentCols+` FROM oauth_consents
		WHERE user_id = ? ORDER BY updated_at DESC, client_id DESC`, []any{userID}, scanConsent)
}

func (q *queries) DeleteConsent(ctx context.Context, userID, clientID string) error {
	res, err := q.w.exec(ctx, `DELETE FROM oauth_consents WHERE user_id = ? AND client_id = ?`, userID, clientID)
	return affected("delete consent", "Consent", res, err)
}

func (q *queries) CreateGrant(ctx context.Context, g *latchkey.Grant) error {
	return q.insert(ctx, "create grant", g.ID, `INSERT INTO oauth_grants (`+sqlstore.GrantCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		g.ID, g.ClientID, g.UserID, g.SessionID, encodeList(g.Scopes), encodeList(g.Audience), micro(g.AuthTime),
		encodeList(g.AMR), g.ACR, micro(g.CreatedAt), micro(g.ExpiresAt), nullMicro(g.RevokedAt))
}

func (q *queries) GrantByID(ctx context.Context, id string) (*latchkey.Grant, error) {
	return sqlstore.One(errs, "grant by id", "Grant", q.r.queryRow(ctx, `SELECT `+sqlstore.GrantCols+` FROM oauth_grants WHERE id = ?`, id), scanGrant)
}

func (q *queries) RevokeGrant(ctx context.Context, id string, at time.Time) error {
	res, err := q.w.exec(ctx, `UPDATE oauth_grants SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, micro(at), id)
	return affected("revoke grant", "Grant", res, err)
}

func (q *queries) RevokeUserClientGrants(ctx context.Context, userID, clientID string, at time.Time) ([]string, error) {
	return q.returningIDs(ctx, "revoke grants", `UPDATE oauth_grants SET revoked_at = ?
		WHERE user_id = ? AND client_id = ? AND revoked_at IS NULL RETURNING id`, micro(at), userID, clientID)
}

func scanAuthRequest(s sqlstore.Scanner) (*latchkey.AuthRequest, error) {
	var r latchkey.AuthRequest
	var params, amr string
	var user sql.NullString
	var created, expires int64
	var authTime, done, codeExpires, codeUsed sql.NullInt64
	if err := s.Scan(&r.ID, &r.ClientID, &params, &created, &expires, &user, &r.SessionID, &authTime, &amr, &r.ACR, &done,
		&r.CodeHash, &codeExpires, &codeUsed); err != nil {
		return nil, err
	}
	var err error
	if r.Params, err = sqlstore.DecodeAuthParams(params); err != nil {
		return nil, err
	}
	if r.AMR, err = decodeList(amr); err != nil {
		return nil, err
	}
	r.UserID = user.String
	r.CreatedAt, r.ExpiresAt = fromMicro(created), fromMicro(expires)
	r.AuthTime, r.DoneAt, r.CodeExpiresAt, r.CodeUsedAt = fromNullMicro(authTime), fromNullMicro(done), fromNullMicro(codeExpires), fromNullMicro(codeUsed)
	return &r, nil
}

func scanConsent(s sqlstore.Scanner) (*latchkey.Consent, error) {
	var c latchkey.Consent
	var scopes string
	var created, updated int64
	if err := s.Scan(&c.UserID, &c.ClientID, &scopes, &created, &updated); err != nil {
		return nil, err
	}
	var err error
	if c.Scopes, err = decodeList(scopes); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromMicro(created), fromMicro(updated)
	return &c, nil
}

func scanGrant(s sqlstore.Scanner) (*latchkey.Grant, error) {
	var g latchkey.Grant
	var scopes, aud, amr string
	var authTime, created, expires int64
	var revoked sql.NullInt64
	if err := s.Scan(&g.ID, &g.ClientID, &g.UserID, &g.SessionID, &scopes, &aud, &authTime, &amr, &g.ACR, &created, &expires, &revoked); err != nil {
		return nil, err
	}
	for _, l := range []struct {
		s   string
		dst *[]string
	}{{scopes, &g.Scopes}, {aud, &g.Audience}, {amr, &g.AMR}} {
		v, err := decodeList(l.s)
		if err != nil {
			return nil, err
		}
		*l.dst = v
	}
	g.AuthTime, g.CreatedAt, g.ExpiresAt, g.RevokedAt = fromMicro(authTime), fromMicro(created), fromMicro(expires), fromNullMicro(revoked)
	return &g, nil
}

func (q *queries) CreateClientRefreshToken(ctx context.Context, t *latchkey.ClientRefreshToken) error {
	_, err := q.w.exec(ctx, `INSERT INTO oauth_refresh_tokens (`+sqlstore.ClientRefreshCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		t.Hash, t.GrantID, micro(t.CreatedAt), micro(t.ExpiresAt), nullMicro(t.UsedAt), nullBytes(t.SealedSuccessor))
	return mapErr("create client refresh token", err)
}

func (q *queries) ClientRefreshTokenByHash(ctx context.Context, hash []byte) (*latchkey.ClientRefreshToken, error) {
	return sqlstore.One(errs, "client refresh token", "Refresh token", q.r.queryRow(ctx, `SELECT `+sqlstore.ClientRefreshCols+`
		FROM oauth_refresh_tokens WHERE hash = ?`, hash), scanClientRefresh)
}

func (q *queries) MarkClientRefreshTokenUsed(ctx context.Context, hash []byte, at time.Time, sealed []byte) (bool, error) {
	res, err := q.w.exec(ctx, `UPDATE oauth_refresh_tokens SET used_at = ?, sealed_successor = ? WHERE hash = ? AND used_at IS NULL`,
		micro(at), nullBytes(sealed), hash)
	if err != nil {
		return false, mapErr("use client refresh token", err)
	}
	n, err := res.RowsAffected()
	return n == 1, mapErr("use client refresh token", err)
}

func (q *queries) UseAssertionID(ctx context.Context, clientID, jti string, expiresAt time.Time) error {
	_, err := q.w.exec(ctx, `INSERT INTO oauth_assertion_ids (client_id, jti, expires_at) VALUES (?, ?, ?)`, clientID, jti, micro(expiresAt))
	return mapErr("use assertion id", err)
}

func scanClientRefresh(s sqlstore.Scanner) (*latchkey.ClientRefreshToken, error) {
	var t latchkey.ClientRefreshToken
	var created, expires int64
	var used sql.NullInt64
	if err := s.Scan(&t.Hash, &t.GrantID, &created, &expires, &used, &t.SealedSuccessor); err != nil {
		return nil, err
	}
	t.CreatedAt, t.ExpiresAt, t.UsedAt = fromMicro(created), fromMicro(expires), fromNullMicro(used)
	return &t, nil
}
