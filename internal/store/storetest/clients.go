package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func clientN(t *testing.T, n int) *latchkey.Client {
	created := at(time.Duration(n) * time.Millisecond)
	return &latchkey.Client{
		ID: latchkey.NewID(created), Name: "App " + string(rune('A'+n)), Type: latchkey.ClientConfidential,
		AuthMethod: latchkey.AuthMethodSecretBasic, SecretHash: randBytes(t),
		RedirectURIs:           []string{"https://app.example/callback", "http://127.0.0.1:9999/cb"},
		PostLogoutRedirectURIs: []string{"https://app.example/"},
		GrantTypes:             []string{latchkey.GrantAuthorizationCode, latchkey.GrantRefreshToken},
		Scopes:                 []string{"openid", "email"},
		CreatedAt:              created, UpdatedAt: created,
	}
}

func testClients(t *testing.T, s latchkey.Store) {
	c := clientN(t, 1)
	must(t, s.CreateClient(ctx(t), c))
	mustCode(t, s.CreateClient(ctx(t), c), latchkey.EConflict)
	got, err := s.ClientByID(ctx(t), c.ID)
	must(t, err)
	equal(t, "stored client", got, c)
	_, err = s.ClientByID(ctx(t), "nope")
	mustCode(t, err, latchkey.ENotFound)

	pub := clientN(t, 2)
	pub.Type, pub.AuthMethod, pub.SecretHash = latchkey.ClientPublic, latchkey.AuthMethodNone, nil
	pub.PostLogoutRedirectURIs, pub.Scopes, pub.FirstParty = nil, nil, true
	pub.JWKS = `{"keys":[]}`
	must(t, s.CreateClient(ctx(t), pub))
	got, err = s.ClientByID(ctx(t), pub.ID)
	must(t, err)
	equal(t, "public client", got, pub)

	all, err := s.ListClients(ctx(t))
	must(t, err)
	equal(t, "clients newest first", []string{all[0].ID, all[1].ID}, []string{pub.ID, c.ID})

	name, uris := "Renamed", []string{"https://other.example/cb"}
	updated, err := s.UpdateClient(ctx(t), c.ID, latchkey.ClientPatch{Name: &name, RedirectURIs: &uris, FirstParty: ptr(true), UpdatedAt: at(time.Hour)})
	must(t, err)
	want := *c
	want.Name, want.RedirectURIs, want.FirstParty, want.UpdatedAt = name, uris, true, at(time.Hour)
	equal(t, "updated client", updated, &want)
	grants, scopes, logout, jwks := []string{latchkey.GrantClientCredentials}, []string{"api"}, []string{}, "{}"
	updated, err = s.UpdateClient(ctx(t), c.ID, latchkey.ClientPatch{GrantTypes: &grants, Scopes: &scopes, PostLogoutRedirectURIs: &logout,
		JWKS: &jwks, UpdatedAt: at(2 * time.Hour)})
	must(t, err)
	want.GrantTypes, want.Scopes, want.PostLogoutRedirectURIs, want.JWKS, want.UpdatedAt = grants, scopes, nil, jwks, at(2*time.Hour)
	equal(t, "second update", updated, &want)
	_, err = s.UpdateClient(ctx(t), "nope", latchkey.ClientPatch{Name: &name, UpdatedAt: t0})
	mustCode(t, err, latchkey.ENotFound)

	must(t, s.DeleteClient(ctx(t), pub.ID))
	mustCode(t, s.DeleteClient(ctx(t), pub.ID), latchkey.ENotFound)
	_, err = s.ClientByID(ctx(t), pub.ID)
	mustCode(t, err, latchkey.ENotFound)
}

func testRotateClientSecret(t *testing.T, s latchkey.Store) {
	c := clientN(t, 1)
	must(t, s.CreateClient(ctx(t), c))
	first, second := randBytes(t), randBytes(t)
	must(t, s.RotateClientSecret(ctx(t), c.ID, c.SecretHash, first, at(time.Hour), at(time.Minute)))
	got, err := s.ClientByID(ctx(t), c.ID)
	must(t, err)
	equal(t, "secret after rotation", got.SecretHash, first)
	equal(t, "previous secret kept", got.PreviousSecretHash, c.SecretHash)
	equal(t, "previous secret's expiry", got.PreviousSecretExpiresAt, ptr(at(time.Hour)))
	equal(t, "updated at", got.UpdatedAt, at(time.Minute))
	// A rotation that read the secret before the first one changed it.
	mustCode(t, s.RotateClientSecret(ctx(t), c.ID, c.SecretHash, second, at(time.Hour), at(time.Minute)), latchkey.EConflict)
	mustCode(t, s.RotateClientSecret(ctx(t), "nope", c.SecretHash, second, at(time.Hour), at(time.Minute)), latchkey.ENotFound)

	// A client without a secret (a public one) gets its first.
	pub := clientN(t, 2)
	pub.SecretHash = nil
	must(t, s.CreateClient(ctx(t), pub))
	must(t, s.RotateClientSecret(ctx(t), pub.ID, nil, second, at(time.Hour), at(time.Minute)))
	got, err = s.ClientByID(ctx(t), pub.ID)
	must(t, err)
	equal(t, "first secret", got.SecretHash, second)
	equal(t, "no previous secret", got.PreviousSecretHash, []byte(nil))

	// Of concurrent rotations from one current secret exactly one wins.
	var wg sync.WaitGroup
	wins := make(chan bool, 10)
	for range 10 {
		wg.Go(func() {
			err := s.InTx(ctx(t), func(tx latchkey.Tx) error {
				return tx.RotateClientSecret(ctx(t), c.ID, first, randBytes(t), at(time.Hour), at(time.Minute))
			})
			if err != nil && !latchkey.IsCode(err, latchkey.EConflict) {
				t.Error(err)
			}
			wins <- err == nil
		})
	}
	wg.Wait()
	close(wins)
	n := 0
	for w := range wins {
		if w {
			n++
		}
	}
	equal(t, "concurrent rotations that won", n, 1)
}
