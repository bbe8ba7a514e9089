package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/latchkey/latchkey"
)

func TestListing(t *testing.T) {
	tests := []struct {
		name      string
		mark      func(int) string
		page      latchkey.Page
		where     []string
		wantQuery string
		wantArgs  []any
	}{
		{"first page, default size", Question, latchkey.Page{}, nil,
			`SELECT * FROM t ORDER BY id DESC LIMIT ?`, []any{51}},
		{"cursor after the filters", Dollar, latchkey.Page{Cursor: "c", Limit: 3}, []string{"a"},
			`SELECT * FROM t WHERE a = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, []any{"va", "c", 4}},
		{"maximum size", Dollar, latchkey.Page{Limit: 1000}, nil,
			`SELECT * FROM t ORDER BY id DESC LIMIT $1`, []any{201}},
	}
	for _, tc := range tests {
		l := NewListing(tc.mark, tc.page)
		for _, w := range tc.where {
			l.And(w + ` = ` + l.Add("v"+w))
		}
		q, args := l.Query(`SELECT * FROM t`)
		if q != tc.wantQuery || !reflect.DeepEqual(args, tc.wantArgs) {
			t.Errorf("%s: %q %v, want %q %v", tc.name, q, args, tc.wantQuery, tc.wantArgs)
		}
	}
}

func TestPage(t *testing.T) {
	l := NewListing(Question, latchkey.Page{Limit: 2})
	id := func(s *string) string { return *s }
	for _, tc := range []struct {
		rows, want []string
		next       string
	}{
		{nil, nil, ""},
		{[]string{"c", "b"}, []string{"c", "b"}, ""},
		{[]string{"c", "b", "a"}, []string{"c", "b"}, "b"},
	} {
		got, next := Page(l, tc.rows, id)
		if !reflect.DeepEqual(got, tc.want) || next != tc.next {
			t.Errorf("Page(%v) = %v %q, want %v %q", tc.rows, got, next, tc.want, tc.next)
		}
	}
}

func TestLikeEscape(t *testing.T) {
	if got := LikeEscape(`a_b%c\d`); got != `a\_b\%c\\d` {
		t.Errorf("LikeEscape = %q", got)
	}
}

var errDriver = errors.New("driver")

func TestMap(t *testing.T) {
	e := Errors{Backend: "test", NoRows: sql.ErrNoRows, Classify: func(err error) Class {
		var c classified
		if errors.As(err, &c) {
			return Class(c)
		}
		if Unreachable(err) {
			return Unavailable
		}
		return Other
	}}
	own := latchkey.Errorf(latchkey.EForbidden, "no")
	tests := []struct {
		err  error
		code string
	}{
		{classified(Duplicate), latchkey.EConflict},
		{classified(MissingRef), latchkey.ENotFound},
		{classified(Unavailable), latchkey.EUnavailable},
		{context.Canceled, latchkey.EUnavailable},
		{fmt.Errorf("x: %w", sql.ErrConnDone), latchkey.EUnavailable},
		{errors.New("sql: database is closed"), latchkey.EUnavailable},
		{errDriver, latchkey.EInternal},
		{own, latchkey.EForbidden},
	}
	for _, tc := range tests {
		got := e.Map("op", tc.err)
		if code := latchkey.ErrorCode(got); code != tc.code {
			t.Errorf("Map(%v) = %v (%s), want %s", tc.err, got, code, tc.code)
		}
		if !errors.Is(got, tc.err) {
			t.Errorf("Map(%v) = %v does not wrap it", tc.err, got)
		}
	}
	if e.Map("op", nil) != nil {
		t.Error("Map(nil) is not nil")
	}
	if code := latchkey.ErrorCode(e.Row("op", "Thing", sql.ErrNoRows)); code != latchkey.ENotFound {
		t.Errorf("Row(no rows) = %s", code)
	}
	if err := e.NeedID("create thing", ""); !errors.Is(err, ErrMissing) || latchkey.ErrorCode(err) != latchkey.EInternal {
		t.Errorf("NeedID(\"\") = %v", err)
	}
	if err := e.NewSession(&latchkey.Session{ID: "s"}); !errors.Is(err, ErrMissing) {
		t.Errorf("NewSession without AuthTime = %v", err)
	}
}

type classified Class

func (c classified) Error() string { return fmt.Sprintf("class %d", int(c)) }

type fakeRows struct {
	vals []string
	i    int
	err  error
}

func (r *fakeRows) Next() bool { r.i++; return r.i <= len(r.vals) }
func (r *fakeRows) Err() error { return r.err }
func (r *fakeRows) Scan(dest ...any) error {
	if r.vals[r.i-1] == "bad" {
		return errDriver
	}
	*dest[0].(*string) = r.vals[r.i-1]
	return nil
}

func TestCollect(t *testing.T) {
	got, err := Collect(&fakeRows{vals: []string{"a", "b"}}, ScanString)
	if err != nil || !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("Collect = %v, %v", got, err)
	}
	if got, err := Collect(&fakeRows{}, ScanString); err != nil || got != nil {
		t.Errorf("Collect of no rows = %#v, %v", got, err)
	}
	if _, err := Collect(&fakeRows{vals: []string{"a", "bad"}}, ScanString); !errors.Is(err, errDriver) {
		t.Errorf("Collect with a bad row: %v", err)
	}
	if _, err := Collect(&fakeRows{vals: []string{"a"}, err: errDriver}, ScanString); !errors.Is(err, errDriver) {
		t.Errorf("Collect with a cursor error: %v", err)
	}
}
