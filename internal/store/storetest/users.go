package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func testUsers(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	got, err := s.UserByID(ctx(t), u.ID)
	must(t, err)
	equal(t, "UserByID", got, u)
	got, err = s.UserByEmail(ctx(t), u.Email)
	must(t, err)
	equal(t, "UserByEmail", got, u)

	dup := userN(2)
	dup.Email = u.Email
	mustCode(t, s.CreateUser(ctx(t), dup), latchkey.EConflict)
	dup.ID = u.ID
	dup.Email = "other@example.com"
	mustCode(t, s.CreateUser(ctx(t), dup), latchkey.EConflict)

	_, err = s.UserByID(ctx(t), "nope")
	mustCode(t, err, latchkey.ENotFound)
	_, err = s.UserByEmail(ctx(t), "nobody@example.com")
	mustCode(t, err, latchkey.ENotFound)
	mustCode(t, s.DeleteUser(ctx(t), "nope"), latchkey.ENotFound)

	// A user without roles or password reads back with neither.
	bare := userN(3)
	bare.Roles, bare.PasswordHash = nil, ""
	must(t, s.CreateUser(ctx(t), bare))
	got, err = s.UserByID(ctx(t), bare.ID)
	must(t, err)
	equal(t, "bare user", got, bare)
}

func testUpdateUser(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	other := createUser(t, s, 2)
	u.Email = "renamed@example.com"
	u.Name = "Renamed"
	u.Roles = []string{latchkey.RoleUser, latchkey.RoleAdmin}
	u.Disabled = true
	u.PasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3"
	u.UpdatedAt = at(time.Hour)
	must(t, s.UpdateUser(ctx(t), u))
	got, err := s.UserByID(ctx(t), u.ID)
	must(t, err)
	equal(t, "updated user", got, u)

	// CreatedAt is not written.
	changed := *u
	changed.CreatedAt = at(time.Hour)
	must(t, s.UpdateUser(ctx(t), &changed))
	got, err = s.UserByID(ctx(t), u.ID)
	must(t, err)
	equal(t, "created_at", got.CreatedAt, u.CreatedAt)

	taken := *u
	taken.Email = other.Email
	mustCode(t, s.UpdateUser(ctx(t), &taken), latchkey.EConflict)

	missing := userN(3)
	mustCode(t, s.UpdateUser(ctx(t), missing), latchkey.ENotFound)
}

func testDeleteUserCascades(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	keep := createUser(t, s, 2)
	x := createSession(t, s, u, 1)
	rt := createRefreshToken(t, s, x)
	k := &latchkey.APIKey{ID: latchkey.NewID(t0), UserID: u.ID, Name: "k", Prefix: "lk_abc", Hash: randBytes(t), CreatedAt: t0}
	must(t, s.CreateAPIKey(ctx(t), k))
	id := &latchkey.Identity{ID: latchkey.NewID(t0), UserID: u.ID, Provider: "github", Subject: "42", Email: u.Email, CreatedAt: t0}
	must(t, s.CreateIdentity(ctx(t), id))
	code := &latchkey.OneTimeCode{Hash: randBytes(t), UserID: u.ID, Provider: "github", CreatedAt: t0, ExpiresAt: at(time.Minute)}
	must(t, s.CreateOneTimeCode(ctx(t), code))
	keptSession := createSession(t, s, keep, 2)

	must(t, s.DeleteUser(ctx(t), u.ID))

	_, err := s.UserByID(ctx(t), u.ID)
	mustCode(t, err, latchkey.ENotFound)
	_, err = s.SessionByID(ctx(t), x.ID)
	mustCode(t, err, latchkey.ENotFound)
	_, err = s.RefreshTokenByHash(ctx(t), rt.Hash)
	mustCode(t, err, latchkey.ENotFound)
	_, err = s.APIKeyByHash(ctx(t), k.Hash)
	mustCode(t, err, latchkey.ENotFound)
	_, err = s.IdentityByProviderSubject(ctx(t), "github", "42")
	mustCode(t, err, latchkey.ENotFound)
	_, err = s.ConsumeOneTimeCode(ctx(t), code.Hash, t0)
	mustCode(t, err, latchkey.ENotFound)
	// Nobody else's rows go.
	_, err = s.SessionByID(ctx(t), keptSession.ID)
	must(t, err)
}

func ids(us []latchkey.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

func testListUsers(t *testing.T, s latchkey.Store) {
	var want []string // newest first
	for n := 1; n <= 5; n++ {
		want = append([]string{createUser(t, s, n).ID}, want...)
	}
	all, next, err := s.ListUsers(ctx(t), latchkey.UserFilter{})
	must(t, err)
	equal(t, "all users", ids(all), want)
	equal(t, "next cursor of the only page", next, "")

	var got []string
	cursor, pages := "", 0
	for {
		page, next, err := s.ListUsers(ctx(t), latchkey.UserFilter{Page: latchkey.Page{Cursor: cursor, Limit: 2}})
		must(t, err)
		if len(page) > 2 {
			t.Fatalf("page of %d users with limit 2", len(page))
		}
		got = append(got, ids(page)...)
		pages++
		if next == "" {
			break
		}
		if next != page[len(page)-1].ID {
			t.Fatalf("cursor %q is not the last row's id %q", next, page[len(page)-1].ID)
		}
		cursor = next
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	equal(t, "paged users", got, want)
	equal(t, "pages", pages, 3)
}

func testListUsersQuery(t *testing.T, s latchkey.Store) {
	mk := func(n int, email string) *latchkey.User {
		u := userN(n)
		u.Email = email
		must(t, s.CreateUser(ctx(t), u))
		return u
	}
	alice := mk(1, "alice@example.com")
	bob := mk(2, "bob@example.org")
	pct := mk(3, "100%sure@example.com")
	und := mk(4, "first_last@example.com")
	plain := mk(5, "firstxlast@example.com")
	_ = plain
	tests := []struct {
		q    string
		want []string
	}{
		{"ALICE", []string{alice.ID}},
		{"example.org", []string{bob.ID}},
		{"%", []string{pct.ID}},
		{"_", []string{und.ID}},
		{"t_l", []string{und.ID}},
		{"0%s", []string{pct.ID}},
		{`\`, nil},
		{"nobody", nil},
	}
	for _, tc := range tests {
		got, next, err := s.ListUsers(ctx(t), latchkey.UserFilter{Query: tc.q})
		must(t, err)
		if len(got) != len(tc.want) || (len(got) > 0 && !equalStrings(ids(got), tc.want)) {
			t.Errorf("query %q: got %v, want %v", tc.q, ids(got), tc.want)
		}
		if next != "" {
			t.Errorf("query %q: next = %q", tc.q, next)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func testListUsersLimits(t *testing.T, s latchkey.Store) {
	// Create 201 users in one transaction (fast on every backend).
	must(t, s.InTx(ctx(t), func(tx latchkey.Tx) error {
		for n := 1; n <= 201; n++ {
			if err := tx.CreateUser(ctx(t), userN(n)); err != nil {
				return fmt.Errorf("user %d: %w", n, err)
			}
		}
		return nil
	}))
	page, next, err := s.ListUsers(ctx(t), latchkey.UserFilter{})
	must(t, err)
	equal(t, "default page size", len(page), 50)
	equal(t, "next", next, page[49].ID)
	page, next, err = s.ListUsers(ctx(t), latchkey.UserFilter{Page: latchkey.Page{Limit: 1000}})
	must(t, err)
	equal(t, "maximum page size", len(page), 200)
	equal(t, "next", next, page[199].ID)
	page, next, err = s.ListUsers(ctx(t), latchkey.UserFilter{Page: latchkey.Page{Limit: 200, Cursor: next}})
	must(t, err)
	equal(t, "last page", len(page), 1)
	equal(t, "oldest user", page[0].Email, "user001@example.com")
	equal(t, "next", next, "")
}

func testCountActiveUsersWithRole(t *testing.T, s latchkey.Store) {
	mk := func(n int, disabled bool, roles ...string) {
		u := userN(n)
		u.Roles, u.Disabled = roles, disabled
		must(t, s.CreateUser(ctx(t), u))
	}
	mk(1, false, latchkey.RoleUser, latchkey.RoleAdmin)
	mk(2, false, latchkey.RoleAdmin)
	mk(3, true, latchkey.RoleAdmin)
	mk(4, false, latchkey.RoleUser)
	mk(5, false, "administrator")
	mk(6, false)
	for role, want := range map[string]int{latchkey.RoleAdmin: 2, latchkey.RoleUser: 2, "administrator": 1, "admin%": 0, "": 0} {
		n, err := s.CountActiveUsersWithRole(ctx(t), role)
		must(t, err)
		if n != want {
			t.Errorf("role %q: %d, want %d", role, n, want)
		}
	}
}
