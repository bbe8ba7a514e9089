package storetest

import (
	"fmt"
	"sync"
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
	verified := at(30 * time.Minute)
	got, err := s.UpdateUser(ctx(t), u.ID, latchkey.UserPatch{
		Email:           ptr("renamed@example.com"),
		Name:            ptr("Renamed"),
		Roles:           ptr([]string{latchkey.RoleUser, latchkey.RoleAdmin}),
		Disabled:        ptr(true),
		EmailVerifiedAt: &latchkey.TimePatch{At: &verified},
		UpdatedAt:       at(time.Hour),
	})
	must(t, err)
	u.Email, u.Name, u.Roles, u.Disabled = "renamed@example.com", "Renamed", []string{latchkey.RoleUser, latchkey.RoleAdmin}, true
	u.EmailVerifiedAt, u.UpdatedAt = &verified, at(time.Hour)
	equal(t, "returned user", got, u)
	fresh, err := s.UserByID(ctx(t), u.ID)
	must(t, err)
	equal(t, "updated user", fresh, got)

	// Only UpdatedAt: a patch with nothing else still touches the row.
	got, err = s.UpdateUser(ctx(t), u.ID, latchkey.UserPatch{UpdatedAt: at(2 * time.Hour)})
	must(t, err)
	u.UpdatedAt = at(2 * time.Hour)
	equal(t, "UpdatedAt only", got, u)

	// Empty roles are stored, and read back as nil.
	got, err = s.UpdateUser(ctx(t), u.ID, latchkey.UserPatch{Roles: ptr([]string{}), UpdatedAt: at(2 * time.Hour)})
	must(t, err)
	equal(t, "no roles", got.Roles, []string(nil))

	_, err = s.UpdateUser(ctx(t), u.ID, latchkey.UserPatch{Email: &other.Email, UpdatedAt: at(3 * time.Hour)})
	mustCode(t, err, latchkey.EConflict)
	fresh, err = s.UserByID(ctx(t), u.ID)
	must(t, err)
	equal(t, "email after a conflict", fresh.Email, "renamed@example.com")

	_, err = s.UpdateUser(ctx(t), "nope", latchkey.UserPatch{Name: ptr("x"), UpdatedAt: t0})
	mustCode(t, err, latchkey.ENotFound)
	_, err = s.UpdateUser(ctx(t), "nope", latchkey.UserPatch{UpdatedAt: t0})
	mustCode(t, err, latchkey.ENotFound)
}

// testUpdateUserPatchesOnlyItsFields: every field a patch leaves out keeps
// the value that is stored, not one the caller read earlier.
func testUpdateUserPatchesOnlyItsFields(t *testing.T, s latchkey.Store) {
	verified := at(time.Minute)
	u := userN(1)
	u.Roles = []string{latchkey.RoleUser, latchkey.RoleAdmin}
	u.EmailVerifiedAt = &verified
	must(t, s.CreateUser(ctx(t), u))

	steps := []struct {
		name  string
		patch latchkey.UserPatch
		apply func(u *latchkey.User)
	}{
		{"Disabled", latchkey.UserPatch{Disabled: ptr(true)}, func(u *latchkey.User) { u.Disabled = true }},
		{"Name", latchkey.UserPatch{Name: ptr("New name")}, func(u *latchkey.User) { u.Name = "New name" }},
		{"Roles", latchkey.UserPatch{Roles: ptr([]string{"billing"})}, func(u *latchkey.User) { u.Roles = []string{"billing"} }},
		{"Email", latchkey.UserPatch{Email: ptr("new@example.com")}, func(u *latchkey.User) { u.Email = "new@example.com" }},
		{"EmailVerifiedAt cleared", latchkey.UserPatch{EmailVerifiedAt: &latchkey.TimePatch{}}, func(u *latchkey.User) { u.EmailVerifiedAt = nil }},
		{"Disabled back", latchkey.UserPatch{Disabled: ptr(false)}, func(u *latchkey.User) { u.Disabled = false }},
	}
	for i, st := range steps {
		st.patch.UpdatedAt = at(time.Duration(i+1) * time.Hour)
		got, err := s.UpdateUser(ctx(t), u.ID, st.patch)
		must(t, err)
		st.apply(u)
		u.UpdatedAt = st.patch.UpdatedAt
		equal(t, st.name+": returned user", got, u)
		fresh, err := s.UserByID(ctx(t), u.ID)
		must(t, err)
		equal(t, st.name+": stored user", fresh, u)
	}

	// A patch never writes the password hash: one changed after the
	// caller's read survives any patch.
	must(t, s.SetPasswordHash(ctx(t), u.ID, u.PasswordHash, "$argon2id$new", at(10*time.Hour)))
	got, err := s.UpdateUser(ctx(t), u.ID, latchkey.UserPatch{Disabled: ptr(true), UpdatedAt: at(11 * time.Hour)})
	must(t, err)
	equal(t, "password hash after a patch", got.PasswordHash, "$argon2id$new")
}

func testEmailVerifiedAt(t *testing.T, s latchkey.Store) {
	verified := at(time.Minute)
	u := userN(1)
	u.EmailVerifiedAt = &verified
	must(t, s.CreateUser(ctx(t), u))
	got, err := s.UserByID(ctx(t), u.ID)
	must(t, err)
	equal(t, "created verified", got, u)
	if !got.EmailVerified() {
		t.Fatal("EmailVerified() = false for a verified address")
	}

	plain := createUser(t, s, 2)
	got, err = s.UserByEmail(ctx(t), plain.Email)
	must(t, err)
	if got.EmailVerifiedAt != nil || got.EmailVerified() {
		t.Fatalf("never verified: %v", got.EmailVerifiedAt)
	}
	later := at(time.Hour)
	got, err = s.UpdateUser(ctx(t), plain.ID, latchkey.UserPatch{EmailVerifiedAt: &latchkey.TimePatch{At: &later}, UpdatedAt: later})
	must(t, err)
	equal(t, "set", got.EmailVerifiedAt, &later)
	list, _, err := s.ListUsers(ctx(t), latchkey.UserFilter{})
	must(t, err)
	equal(t, "listed", list[0].EmailVerifiedAt, &later)
	got, err = s.UpdateUser(ctx(t), plain.ID, latchkey.UserPatch{EmailVerifiedAt: &latchkey.TimePatch{}, UpdatedAt: later})
	must(t, err)
	equal(t, "cleared", got.EmailVerifiedAt, (*time.Time)(nil))
	got, err = s.UserByID(ctx(t), plain.ID)
	must(t, err)
	equal(t, "cleared, read again", got.EmailVerifiedAt, (*time.Time)(nil))
}

func testSetPasswordHash(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	other := createUser(t, s, 2)
	const next = "$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3"
	must(t, s.SetPasswordHash(ctx(t), u.ID, u.PasswordHash, next, at(time.Hour)))
	got, err := s.UserByID(ctx(t), u.ID)
	must(t, err)
	u.PasswordHash, u.UpdatedAt = next, at(time.Hour)
	equal(t, "after SetPasswordHash", got, u)

	// The old hash is stale now.
	mustCode(t, s.SetPasswordHash(ctx(t), u.ID, userN(1).PasswordHash, "$argon2id$x", at(2*time.Hour)), latchkey.EConflict)
	got, err = s.UserByID(ctx(t), u.ID)
	must(t, err)
	equal(t, "after a stale compare", got, u)

	mustCode(t, s.SetPasswordHash(ctx(t), "nope", "", "$argon2id$x", t0), latchkey.ENotFound)
	// A user without a password gets one only when the caller expected none.
	bare := userN(3)
	bare.PasswordHash = ""
	must(t, s.CreateUser(ctx(t), bare))
	mustCode(t, s.SetPasswordHash(ctx(t), bare.ID, next, "$argon2id$x", t0), latchkey.EConflict)
	must(t, s.SetPasswordHash(ctx(t), bare.ID, "", "$argon2id$x", t0))

	// Nobody else's hash changes.
	got, err = s.UserByID(ctx(t), other.ID)
	must(t, err)
	equal(t, "other user", got, other)

	// Inside a transaction, a conflict is reported there and then.
	err = s.InTx(ctx(t), func(tx latchkey.Tx) error {
		return tx.SetPasswordHash(ctx(t), u.ID, "$argon2id$stale", "$argon2id$y", t0)
	})
	mustCode(t, err, latchkey.EConflict)
}

func testSetPasswordHashConcurrent(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	var mu sync.Mutex
	var winner string
	wins := concurrently(t, 20, func(i int) (bool, error) {
		h := fmt.Sprintf("$argon2id$new%d", i)
		err := s.SetPasswordHash(ctx(t), u.ID, u.PasswordHash, h, at(time.Duration(i)*time.Second))
		if latchkey.IsCode(err, latchkey.EConflict) {
			return false, nil
		}
		if err == nil {
			mu.Lock()
			winner = h
			mu.Unlock()
		}
		return err == nil, err
	})
	equal(t, "winners", wins, 1)
	got, err := s.UserByID(ctx(t), u.ID)
	must(t, err)
	equal(t, "stored hash", got.PasswordHash, winner)
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
	et := createEmailToken(t, s, emailToken(t, u, 1, latchkey.PurposeVerifyEmail, nil))
	keptSession := createSession(t, s, keep, 2)
	confirmedFactor(t, s, u, 1, 1)
	must(t, s.ReplaceRecoveryCodes(ctx(t), u.ID, [][]byte{randBytes(t)}, t0))
	c := challenge(t, u, 1)
	must(t, s.CreateMFAChallenge(ctx(t), c))

	must(t, s.DeleteUser(ctx(t), u.ID))
	factors, err := s.ListTOTPFactors(ctx(t), u.ID)
	must(t, err)
	codes, err := s.CountRecoveryCodes(ctx(t), u.ID)
	must(t, err)
	equal(t, "second factors left", []int{len(factors), codes}, []int{0, 0})
	_, err = s.MFAChallengeByHash(ctx(t), c.Hash)
	mustCode(t, err, latchkey.ENotFound)

	_, err = s.UserByID(ctx(t), u.ID)
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
	_, err = s.ConsumeEmailTokenByLink(ctx(t), et.Purpose, et.LinkHash, t0)
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
