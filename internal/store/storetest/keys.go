package storetest

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func newAPIKey(t *testing.T, u *latchkey.User, n int) *latchkey.APIKey {
	created := at(time.Duration(n) * time.Millisecond)
	return &latchkey.APIKey{
		ID: latchkey.NewID(created), UserID: u.ID, Name: "key", Prefix: "lk_abcd",
		Hash: randBytes(t), Scopes: []string{"read", "introspect"}, CreatedAt: created,
	}
}

func testAPIKeys(t *testing.T, s latchkey.Store) {
	u, other := createUser(t, s, 1), createUser(t, s, 2)
	k1 := newAPIKey(t, u, 1)
	k1.ExpiresAt = ptr(at(24 * time.Hour))
	must(t, s.CreateAPIKey(ctx(t), k1))
	got, err := s.APIKeyByHash(ctx(t), k1.Hash)
	must(t, err)
	equal(t, "APIKeyByHash", got, k1)
	got, err = s.APIKeyByID(ctx(t), k1.ID)
	must(t, err)
	equal(t, "APIKeyByID", got, k1)

	k2 := newAPIKey(t, u, 2)
	k2.Scopes = nil
	must(t, s.CreateAPIKey(ctx(t), k2))
	k3 := newAPIKey(t, u, 3)
	must(t, s.CreateAPIKey(ctx(t), k3))
	ko := newAPIKey(t, other, 4)
	must(t, s.CreateAPIKey(ctx(t), ko))

	must(t, s.RevokeAPIKey(ctx(t), k3.ID, at(time.Hour)))
	must(t, s.RevokeAPIKey(ctx(t), k3.ID, at(2*time.Hour)))
	got, err = s.APIKeyByID(ctx(t), k3.ID)
	must(t, err)
	equal(t, "revoked at", got.RevokedAt, ptr(at(time.Hour)))

	list, err := s.ListAPIKeys(ctx(t), u.ID)
	must(t, err)
	equal(t, "listed keys", list, []latchkey.APIKey{*k2, *k1})

	ids, err := s.RevokeUserAPIKeys(ctx(t), u.ID, at(3*time.Hour))
	must(t, err)
	if len(ids) != 2 || !(ids[0] == k1.ID && ids[1] == k2.ID || ids[0] == k2.ID && ids[1] == k1.ID) {
		t.Fatalf("RevokeUserAPIKeys = %v, want %s and %s", ids, k1.ID, k2.ID)
	}
	list, err = s.ListAPIKeys(ctx(t), u.ID)
	must(t, err)
	equal(t, "keys after revoking all", len(list), 0)
	list, err = s.ListAPIKeys(ctx(t), other.ID)
	must(t, err)
	equal(t, "other user's keys", len(list), 1)

	_, err = s.APIKeyByHash(ctx(t), randBytes(t))
	mustCode(t, err, latchkey.ENotFound)
	_, err = s.APIKeyByID(ctx(t), "nope")
	mustCode(t, err, latchkey.ENotFound)
	mustCode(t, s.RevokeAPIKey(ctx(t), "nope", t0), latchkey.ENotFound)
	dup := newAPIKey(t, u, 5)
	dup.Hash = k1.Hash
	mustCode(t, s.CreateAPIKey(ctx(t), dup), latchkey.EConflict)
}

func testTouchAPIKeys(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	var keys []*latchkey.APIKey
	for n := range 5 {
		k := newAPIKey(t, u, n)
		must(t, s.CreateAPIKey(ctx(t), k))
		keys = append(keys, k)
	}
	must(t, s.TouchAPIKeys(ctx(t), nil))
	touch := map[string]time.Time{"unknown": at(time.Hour)}
	for i, k := range keys[:4] {
		touch[k.ID] = at(time.Duration(i+1) * time.Hour)
	}
	must(t, s.TouchAPIKeys(ctx(t), touch))
	// An older time does not move last use backwards.
	must(t, s.TouchAPIKeys(ctx(t), map[string]time.Time{keys[0].ID: at(time.Minute), keys[1].ID: at(10 * time.Hour)}))
	want := []*time.Time{ptr(at(time.Hour)), ptr(at(10 * time.Hour)), ptr(at(3 * time.Hour)), ptr(at(4 * time.Hour)), nil}
	for i, k := range keys {
		got, err := s.APIKeyByID(ctx(t), k.ID)
		must(t, err)
		equal(t, "last used", got.LastUsedAt, want[i])
	}
}

func testIdentities(t *testing.T, s latchkey.Store) {
	u, other := createUser(t, s, 1), createUser(t, s, 2)
	i1 := &latchkey.Identity{ID: latchkey.NewID(at(1)), UserID: u.ID, Provider: "github", Subject: "1", Email: "a@example.com", CreatedAt: at(time.Millisecond)}
	i2 := &latchkey.Identity{ID: latchkey.NewID(at(2)), UserID: u.ID, Provider: "google", Subject: "1", CreatedAt: at(2 * time.Millisecond)}
	must(t, s.CreateIdentity(ctx(t), i1))
	must(t, s.CreateIdentity(ctx(t), i2))
	got, err := s.IdentityByProviderSubject(ctx(t), "github", "1")
	must(t, err)
	equal(t, "IdentityByProviderSubject", got, i1)
	list, err := s.ListIdentities(ctx(t), u.ID)
	must(t, err)
	equal(t, "ListIdentities", list, []latchkey.Identity{*i2, *i1})

	dup := &latchkey.Identity{ID: "another", UserID: other.ID, Provider: "github", Subject: "1", CreatedAt: t0}
	mustCode(t, s.CreateIdentity(ctx(t), dup), latchkey.EConflict)
	_, err = s.IdentityByProviderSubject(ctx(t), "github", "2")
	mustCode(t, err, latchkey.ENotFound)

	mustCode(t, s.DeleteIdentity(ctx(t), other.ID, i1.ID), latchkey.ENotFound) // not theirs
	must(t, s.DeleteIdentity(ctx(t), u.ID, i1.ID))
	mustCode(t, s.DeleteIdentity(ctx(t), u.ID, i1.ID), latchkey.ENotFound)
	list, err = s.ListIdentities(ctx(t), u.ID)
	must(t, err)
	equal(t, "after delete", list, []latchkey.Identity{*i2})
}

func testOneTimeCodes(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	c := &latchkey.OneTimeCode{Hash: randBytes(t), UserID: u.ID, Provider: "github", CreatedAt: t0, ExpiresAt: at(time.Minute)}
	must(t, s.CreateOneTimeCode(ctx(t), c))
	got, err := s.ConsumeOneTimeCode(ctx(t), c.Hash, at(59*time.Second))
	must(t, err)
	equal(t, "consumed code", got, c)
	_, err = s.ConsumeOneTimeCode(ctx(t), c.Hash, at(59*time.Second))
	mustCode(t, err, latchkey.ENotFound)

	expired := &latchkey.OneTimeCode{Hash: randBytes(t), UserID: u.ID, CreatedAt: t0, ExpiresAt: at(time.Minute)}
	must(t, s.CreateOneTimeCode(ctx(t), expired))
	_, err = s.ConsumeOneTimeCode(ctx(t), expired.Hash, at(time.Minute))
	mustCode(t, err, latchkey.ENotFound)
	_, err = s.ConsumeOneTimeCode(ctx(t), randBytes(t), t0)
	mustCode(t, err, latchkey.ENotFound)
	mustCode(t, s.CreateOneTimeCode(ctx(t), &latchkey.OneTimeCode{Hash: randBytes(t), UserID: "ghost", CreatedAt: t0, ExpiresAt: t0}), latchkey.ENotFound)
}

func testConsumeOneTimeCodeConcurrent(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	c := &latchkey.OneTimeCode{Hash: randBytes(t), UserID: u.ID, Provider: "github", CreatedAt: t0, ExpiresAt: at(time.Minute)}
	must(t, s.CreateOneTimeCode(ctx(t), c))
	wins := concurrently(t, 50, func(int) (bool, error) {
		_, err := s.ConsumeOneTimeCode(ctx(t), c.Hash, t0)
		if latchkey.IsCode(err, latchkey.ENotFound) {
			return false, nil
		}
		return err == nil, err
	})
	equal(t, "winners", wins, 1)
}

func testSigningKeys(t *testing.T, s latchkey.Store) {
	k1 := &latchkey.SigningKey{ID: "kid-1", Algorithm: "ES256", State: latchkey.KeyCurrent, PublicKey: []byte("pub1"),
		SealedPrivate: []byte("sealed1"), CreatedAt: t0, ActivatedAt: ptr(t0)}
	k2 := &latchkey.SigningKey{ID: "kid-2", Algorithm: "ES256", State: latchkey.KeyNext, PublicKey: []byte("pub2"),
		SealedPrivate: []byte("sealed2"), CreatedAt: at(time.Hour)}
	must(t, s.CreateSigningKey(ctx(t), k1))
	must(t, s.CreateSigningKey(ctx(t), k2))
	mustCode(t, s.CreateSigningKey(ctx(t), k1), latchkey.EConflict)
	list, err := s.ListSigningKeys(ctx(t))
	must(t, err)
	equal(t, "ListSigningKeys", list, []latchkey.SigningKey{*k2, *k1})

	k1.State, k1.RetiredAt = latchkey.KeyRetired, ptr(at(2*time.Hour))
	k2.State, k2.ActivatedAt = latchkey.KeyCurrent, ptr(at(2*time.Hour))
	must(t, s.UpdateSigningKey(ctx(t), k1))
	must(t, s.UpdateSigningKey(ctx(t), k2))
	list, err = s.ListSigningKeys(ctx(t))
	must(t, err)
	equal(t, "after update", list, []latchkey.SigningKey{*k2, *k1})

	must(t, s.DeleteSigningKey(ctx(t), k1.ID))
	list, err = s.ListSigningKeys(ctx(t))
	must(t, err)
	equal(t, "after delete", list, []latchkey.SigningKey{*k2})
	mustCode(t, s.DeleteSigningKey(ctx(t), k1.ID), latchkey.ENotFound)
	mustCode(t, s.UpdateSigningKey(ctx(t), k1), latchkey.ENotFound)
}
