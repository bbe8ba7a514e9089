package sqlite

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

// How values are stored: times as microseconds since the Unix epoch, lists
// as JSON arrays, booleans as 0 and 1; and how rows read back.

// Times are stored as microseconds since the Unix epoch.
func micro(t time.Time) int64 { return t.UnixMicro() }

func nullMicro(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

func fromMicro(v int64) time.Time { return time.UnixMicro(v).UTC() }

func fromNullMicro(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicro(v.Int64)
	return &t
}

// nullBytes stores an empty slice as NULL.
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func encodeList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l) // a []string always marshals
	return string(b)
}

func decodeList(s string) ([]string, error) {
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("sqlite: decode list: %w", err)
	}
	if len(l) == 0 {
		return nil, nil
	}
	return l, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// encoder writes values as this store's columns: lists as JSON, booleans
// as 0 and 1, times as microseconds.
type encoder struct{}

func (encoder) List(l []string) any       { return encodeList(l) }
func (encoder) Bool(b bool) any           { return boolInt(b) }
func (encoder) Time(t time.Time) any      { return micro(t) }
func (encoder) NullTime(t *time.Time) any { return nullMicro(t) }

func scanAPIKey(s sqlstore.Scanner) (*latchkey.APIKey, error) {
	var k latchkey.APIKey
	var scopes, audiences string
	var created int64
	var expires, lastUsed, revoked sql.NullInt64
	if err := s.Scan(&k.ID, &k.UserID, &k.Name, &k.Prefix, &k.Hash, &scopes, &created, &expires, &lastUsed, &revoked, &audiences); err != nil {
		return nil, err
	}
	var err error
	if k.Scopes, err = decodeList(scopes); err != nil {
		return nil, err
	}
	if k.Audiences, err = decodeList(audiences); err != nil {
		return nil, err
	}
	k.CreatedAt = fromMicro(created)
	k.ExpiresAt, k.LastUsedAt, k.RevokedAt = fromNullMicro(expires), fromNullMicro(lastUsed), fromNullMicro(revoked)
	return &k, nil
}

func scanAudit(s sqlstore.Scanner) (*latchkey.AuditEvent, error) {
	var e latchkey.AuditEvent
	var t int64
	if err := s.Scan(&e.ID, &t, &e.Type, &e.UserID, &e.SessionID, &e.APIKeyID, &e.IP, &e.UserAgent, &e.Outcome, &e.Reason); err != nil {
		return nil, err
	}
	e.Time = fromMicro(t)
	return &e, nil
}

func scanIdentity(s sqlstore.Scanner) (*latchkey.Identity, error) {
	var i latchkey.Identity
	var created int64
	if err := s.Scan(&i.ID, &i.UserID, &i.Provider, &i.Subject, &i.Email, &created); err != nil {
		return nil, err
	}
	i.CreatedAt = fromMicro(created)
	return &i, nil
}

func scanSigningKey(s sqlstore.Scanner) (*latchkey.SigningKey, error) {
	var k latchkey.SigningKey
	var created int64
	var activated, retired sql.NullInt64
	if err := s.Scan(&k.ID, &k.Algorithm, &k.State, &k.PublicKey, &k.SealedPrivate, &created, &activated, &retired); err != nil {
		return nil, err
	}
	k.CreatedAt, k.ActivatedAt, k.RetiredAt = fromMicro(created), fromNullMicro(activated), fromNullMicro(retired)
	return &k, nil
}

func scanSession(s sqlstore.Scanner) (*latchkey.Session, error) {
	var x latchkey.Session
	var created, lastUsed, expires, authTime int64
	var revoked sql.NullInt64
	var amr string
	if err := s.Scan(&x.ID, &x.UserID, &created, &lastUsed, &expires, &revoked, &authTime, &x.IP, &x.UserAgent, &x.CookieHash, &amr); err != nil {
		return nil, err
	}
	var err error
	if x.AMR, err = decodeList(amr); err != nil {
		return nil, err
	}
	x.CreatedAt, x.LastUsedAt, x.ExpiresAt = fromMicro(created), fromMicro(lastUsed), fromMicro(expires)
	x.AuthTime = fromMicro(authTime)
	x.RevokedAt = fromNullMicro(revoked)
	return &x, nil
}

func scanUser(s sqlstore.Scanner) (*latchkey.User, error) {
	var u latchkey.User
	var roles string
	var created, updated int64
	var verified sql.NullInt64
	if err := s.Scan(&u.ID, &u.Email, &u.Name, &roles, &u.Disabled, &u.PasswordHash, &verified, &created, &updated); err != nil {
		return nil, err
	}
	var err error
	if u.Roles, err = decodeList(roles); err != nil {
		return nil, err
	}
	u.EmailVerifiedAt = fromNullMicro(verified)
	u.CreatedAt, u.UpdatedAt = fromMicro(created), fromMicro(updated)
	return &u, nil
}

func scanEmailToken(s sqlstore.Scanner) (*latchkey.EmailToken, error) {
	var t latchkey.EmailToken
	var created, expires int64
	var consumed sql.NullInt64
	if err := s.Scan(&t.ID, &t.UserID, &t.Purpose, &t.Email, &t.LinkHash, &t.CodeHash, &t.Attempts, &created, &expires, &consumed); err != nil {
		return nil, err
	}
	t.CreatedAt, t.ExpiresAt, t.ConsumedAt = fromMicro(created), fromMicro(expires), fromNullMicro(consumed)
	return &t, nil
}

func scanMail(s sqlstore.Scanner) (*latchkey.OutboxMail, error) {
	var m latchkey.OutboxMail
	var created, next int64
	var lease, sent, failed sql.NullInt64
	if err := s.Scan(&m.ID, &m.Kind, &m.To, &m.Subject, &m.Text, &m.HTML, &created, &m.Attempts, &next,
		&lease, &sent, &failed, &m.LastError); err != nil {
		return nil, err
	}
	m.CreatedAt, m.NextAttemptAt = fromMicro(created), fromMicro(next)
	m.LeaseUntil, m.SentAt, m.FailedAt = fromNullMicro(lease), fromNullMicro(sent), fromNullMicro(failed)
	return &m, nil
}
