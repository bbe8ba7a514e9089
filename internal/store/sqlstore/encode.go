package sqlstore

import (
	"cmp"
	"slices"
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
	if f.Outcome != "" {
		l.And(`outcome = ` + l.Add(f.Outcome))
	}
	if !f.Since.IsZero() {
		l.And(`occurred_at >= ` + l.Add(enc.Time(f.Since)))
	}
	if !f.Until.IsZero() {
		l.And(`occurred_at < ` + l.Add(enc.Time(f.Until)))
	}
	return l
}

// AuditCountQuery is the statement of CountAuditByHour and its arguments:
// hour is the store's expression for the UTC hour of occurred_at. Its conditions and grouping read only
// the columns of the audit_events_stats index (occurred_at, type,
// outcome), so the database answers from the index alone.
func AuditCountQuery(mark func(n int) string, hour string, since, until time.Time, types []string, enc Encoder) (string, []any) {
	a := Args{Mark: mark}
	q := `SELECT ` + hour + ` AS hour, type, outcome, count(*) FROM audit_events WHERE occurred_at >= ` + a.Add(enc.Time(since)) +
		` AND occurred_at < ` + a.Add(enc.Time(until))
	if len(types) > 0 {
		marks := make([]string, len(types))
		for i, t := range types {
			marks[i] = a.Add(t)
		}
		q += ` AND type IN (` + strings.Join(marks, `, `) + `)`
	}
	// No ORDER BY: the database hashes the groups instead of sorting every
	// row first; SortAuditCounts orders the few groups that come back.
	return q + ` GROUP BY 1, 2, 3`, a.List
}

// SortAuditCounts orders counts by hour, type and outcome.
func SortAuditCounts(l []latchkey.AuditCount) {
	slices.SortFunc(l, func(a, b latchkey.AuditCount) int {
		return cmp.Or(a.Hour.Compare(b.Hour), cmp.Compare(a.Type, b.Type), cmp.Compare(a.Outcome, b.Outcome))
	})
}

// UsersWithMFAQuery selects those of ids whose user has a confirmed TOTP
// factor (the index on totp_factors (user_id, …) answers it).
func UsersWithMFAQuery(mark func(n int) string, ids []string) (string, []any) {
	a := Args{Mark: mark}
	marks := make([]string, len(ids))
	for i, id := range ids {
		marks[i] = a.Add(id)
	}
	return `SELECT DISTINCT user_id FROM totp_factors WHERE confirmed_at IS NOT NULL AND user_id IN (` +
		strings.Join(marks, `, `) + `)`, a.List
}
