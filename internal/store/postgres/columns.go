package postgres

import (
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/store/sqlstore"
)

// How values are stored: times as timestamptz, lists as text[]; and how
// rows read back.

// list stores nil as an empty array (the columns are NOT NULL).
func list(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// unlist reads an empty array back as nil, as the SQLite store does.
func unlist(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}

// nullBytes stores an empty slice as NULL.
func nullBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// encoder writes values as this store's columns: lists as text[] (never
// NULL), the rest as they are.
type encoder struct{}

func (encoder) List(l []string) any       { return list(l) }
func (encoder) Bool(b bool) any           { return b }
func (encoder) Time(t time.Time) any      { return t }
func (encoder) NullTime(t *time.Time) any { return t }

// utc normalises times read back from timestamptz, which pgx returns in
// the local zone.
func utc(ts ...*time.Time) {
	for _, t := range ts {
		*t = t.UTC()
	}
}

func utcp(ts ...**time.Time) {
	for _, t := range ts {
		if *t != nil {
			v := (*t).UTC()
			*t = &v
		}
	}
}

func scanAPIKey(row sqlstore.Scanner) (*latchkey.APIKey, error) {
	var k latchkey.APIKey
	if err := row.Scan(&k.ID, &k.UserID, &k.Name, &k.Prefix, &k.Hash, &k.Scopes, &k.CreatedAt, &k.ExpiresAt, &k.LastUsedAt, &k.RevokedAt, &k.Audiences); err != nil {
		return nil, err
	}
	k.Scopes, k.Audiences = unlist(k.Scopes), unlist(k.Audiences)
	utc(&k.CreatedAt)
	utcp(&k.ExpiresAt, &k.LastUsedAt, &k.RevokedAt)
	return &k, nil
}

func scanAudit(s sqlstore.Scanner) (*latchkey.AuditEvent, error) {
	var e latchkey.AuditEvent
	if err := s.Scan(&e.ID, &e.Time, &e.Type, &e.UserID, &e.SessionID, &e.APIKeyID, &e.IP, &e.UserAgent, &e.Outcome, &e.Reason); err != nil {
		return nil, err
	}
	e.Time = e.Time.UTC()
	return &e, nil
}

func scanIdentity(row sqlstore.Scanner) (*latchkey.Identity, error) {
	var i latchkey.Identity
	if err := row.Scan(&i.ID, &i.UserID, &i.Provider, &i.Subject, &i.Email, &i.CreatedAt); err != nil {
		return nil, err
	}
	utc(&i.CreatedAt)
	return &i, nil
}

func scanSigningKey(s sqlstore.Scanner) (*latchkey.SigningKey, error) {
	var k latchkey.SigningKey
	if err := s.Scan(&k.ID, &k.Algorithm, &k.State, &k.PublicKey, &k.SealedPrivate, &k.CreatedAt, &k.ActivatedAt, &k.RetiredAt); err != nil {
		return nil, err
	}
	utc(&k.CreatedAt)
	utcp(&k.ActivatedAt, &k.RetiredAt)
	return &k, nil
}

func scanSession(row sqlstore.Scanner) (*latchkey.Session, error) {
	var x latchkey.Session
	if err := row.Scan(&x.ID, &x.UserID, &x.CreatedAt, &x.LastUsedAt, &x.ExpiresAt, &x.RevokedAt, &x.AuthTime, &x.IP, &x.UserAgent, &x.CookieHash, &x.AMR); err != nil {
		return nil, err
	}
	x.AMR = unlist(x.AMR)
	utc(&x.CreatedAt, &x.LastUsedAt, &x.ExpiresAt, &x.AuthTime)
	utcp(&x.RevokedAt)
	return &x, nil
}

func scanUser(row sqlstore.Scanner) (*latchkey.User, error) {
	var u latchkey.User
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Roles, &u.Disabled, &u.PasswordHash, &u.EmailVerifiedAt, &u.CreatedAt, &u.UpdatedAt); err != nil {
		return nil, err
	}
	u.Roles = unlist(u.Roles)
	utc(&u.CreatedAt, &u.UpdatedAt)
	utcp(&u.EmailVerifiedAt)
	return &u, nil
}

func scanEmailToken(row sqlstore.Scanner) (*latchkey.EmailToken, error) {
	var t latchkey.EmailToken
	if err := row.Scan(&t.ID, &t.UserID, &t.Purpose, &t.Email, &t.LinkHash, &t.CodeHash, &t.Attempts, &t.CreatedAt, &t.ExpiresAt, &t.ConsumedAt); err != nil {
		return nil, err
	}
	utc(&t.CreatedAt, &t.ExpiresAt)
	utcp(&t.ConsumedAt)
	return &t, nil
}

func scanMail(row sqlstore.Scanner) (*latchkey.OutboxMail, error) {
	var m latchkey.OutboxMail
	if err := row.Scan(&m.ID, &m.Kind, &m.To, &m.Subject, &m.Text, &m.HTML, &m.CreatedAt, &m.Attempts, &m.NextAttemptAt,
		&m.LeaseUntil, &m.SentAt, &m.FailedAt, &m.LastError); err != nil {
		return nil, err
	}
	utc(&m.CreatedAt, &m.NextAttemptAt)
	utcp(&m.LeaseUntil, &m.SentAt, &m.FailedAt)
	return &m, nil
}
