package sqlstore

import (
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// Encoder writes Go values as one store's column values.
type Encoder interface {
	List(l []string) any // roles, scopes
	Bool(b bool) any
	Time(t time.Time) any
	NullTime(t *time.Time) any
}

// UserSet is the SET list of an UPDATE of users that writes the columns p
// sets, and updated_at, and nothing else: it never carries a stale value
// of another column back over a concurrent change. Their values are added
// to a.
func UserSet(a *Args, p latchkey.UserPatch, enc Encoder) string {
	var set []string
	col := func(name string, v any) { set = append(set, name+" = "+a.Add(v)) }
	if p.Email != nil {
		col("email", *p.Email)
	}
	if p.Name != nil {
		col("name", *p.Name)
	}
	if p.Roles != nil {
		col("roles", enc.List(*p.Roles))
	}
	if p.Disabled != nil {
		col("disabled", enc.Bool(*p.Disabled))
	}
	if p.EmailVerifiedAt != nil {
		col("email_verified_at", enc.NullTime(p.EmailVerifiedAt.At))
	}
	col("updated_at", enc.Time(p.UpdatedAt))
	return strings.Join(set, ", ")
}

// AuditListing starts the listing of the audit events that f selects,
// with a condition per filter that is set, so that each combination can
// use its index.
func AuditListing(mark func(n int) string, f latchkey.AuditFilter, enc Encoder) *Listing {
	l := NewListing(mark, f.Page)
	if f.UserID != "" {
		l.And(`user_id = ` + l.Add(f.UserID))
	}
	if f.Type != "" {
		l.And(`type = ` + l.Add(f.Type))
	}
	if !f.Since.IsZero() {
		l.And(`occurred_at >= ` + l.Add(enc.Time(f.Since)))
	}
	return l
}
