package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func authRequestN(c *latchkey.Client, n int) *latchkey.AuthRequest {
	created := at(time.Duration(n) * time.Millisecond)
	return &latchkey.AuthRequest{ID: latchkey.NewID(created), ClientID: c.ID, CreatedAt: created, ExpiresAt: created.Add(30 * time.Minute),
		Params: latchkey.AuthParams{RedirectURI: c.RedirectURIs[0], Scopes: []string{"openid", "email"}, State: "st", Nonce: "n",
			CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", Prompt: []string{"login"}, MaxAge: ptr(uint(60))}}
}

func testAuthRequests(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	c := clientN(t, 1)
	must(t, s.CreateClient(ctx(t), c))
	r := authRequestN(c, 1)
	must(t, s.CreateAuthRequest(ctx(t), r))
	got, err := s.AuthRequestByID(ctx(t), r.ID)
	must(t, err)
	equal(t, "stored request", got, r)
	_, err = s.AuthRequestByID(ctx(t), "nope")
	mustCode(t, err, latchkey.ENotFound)

	// A code needs a completed request.
	code := randBytes(t)
	mustCode(t, s.SetAuthCode(ctx(t), r.ID, code, at(time.Minute)), latchkey.ENotFound)
	done := latchkey.AuthDone{UserID: u.ID, SessionID: "sess", AuthTime: at(-time.Hour), AMR: []string{"pwd"}, ACR: "aal1", At: at(time.Second)}
	must(t, s.CompleteAuthRequest(ctx(t), r.ID, done))
	mustCode(t, s.CompleteAuthRequest(ctx(t), r.ID, done), latchkey.ENotFound)
	mustCode(t, s.CompleteAuthRequest(ctx(t), "nope", done), latchkey.ENotFound)
	must(t, s.SetAuthCode(ctx(t), r.ID, code, at(time.Minute)))
	mustCode(t, s.SetAuthCode(ctx(t), r.ID, randBytes(t), at(time.Minute)), latchkey.ENotFound)
	want := *r
	want.UserID, want.SessionID, want.AuthTime, want.AMR, want.ACR, want.DoneAt = u.ID, "sess", ptr(at(-time.Hour)), []string{"pwd"}, "aal1", ptr(at(time.Second))
	want.CodeHash, want.CodeExpiresAt = code, ptr(at(time.Minute))
	got, err = s.AuthRequestByID(ctx(t), r.ID)
	must(t, err)
	equal(t, "completed request", got, &want)

	used, first, err := s.UseAuthCode(ctx(t), code, at(2*time.Second))
	must(t, err)
	want.CodeUsedAt = ptr(at(2 * time.Second))
	equal(t, "first use", first, true)
	equal(t, "used request", used, &want)
	used, first, err = s.UseAuthCode(ctx(t), code, at(3*time.Second))
	must(t, err)
	equal(t, "second use", first, false)
	equal(t, "second use keeps the first time", used.CodeUsedAt, ptr(at(2*time.Second)))
	_, _, err = s.UseAuthCode(ctx(t), randBytes(t), at(time.Second))
	mustCode(t, err, latchkey.ENotFound)

	// Deleting the client takes its requests.
	must(t, s.DeleteClient(ctx(t), c.ID))
	_, err = s.AuthRequestByID(ctx(t), r.ID)
	mustCode(t, err, latchkey.ENotFound)
}

func testUseAuthCodeConcurrent(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	c := clientN(t, 1)
	must(t, s.CreateClient(ctx(t), c))
	r := authRequestN(c, 1)
	must(t, s.CreateAuthRequest(ctx(t), r))
	must(t, s.CompleteAuthRequest(ctx(t), r.ID, latchkey.AuthDone{UserID: u.ID, AuthTime: t0, At: t0}))
	code := randBytes(t)
	must(t, s.SetAuthCode(ctx(t), r.ID, code, at(time.Minute)))
	var wg sync.WaitGroup
	firsts := make(chan bool, 20)
	for range 20 {
		wg.Go(func() {
			err := s.InTx(ctx(t), func(tx latchkey.Tx) error {
				_, first, err := tx.UseAuthCode(ctx(t), code, t0)
				firsts <- first
				return err
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	close(firsts)
	n := 0
	for f := range firsts {
		if f {
			n++
		}
	}
	equal(t, "exchanges that used the code first", n, 1)
}

func testConsents(t *testing.T, s latchkey.Store) {
	u, v := createUser(t, s, 1), createUser(t, s, 2)
	c, d := clientN(t, 1), clientN(t, 2)
	must(t, s.CreateClient(ctx(t), c))
	must(t, s.CreateClient(ctx(t), d))
	_, err := s.ConsentByUserClient(ctx(t), u.ID, c.ID)
	mustCode(t, err, latchkey.ENotFound)
	first := &latchkey.Consent{UserID: u.ID, ClientID: c.ID, Scopes: []string{"openid"}, CreatedAt: t0, UpdatedAt: t0}
	must(t, s.SaveConsent(ctx(t), first))
	again := &latchkey.Consent{UserID: u.ID, ClientID: c.ID, Scopes: []string{"openid", "email"}, CreatedAt: at(time.Hour), UpdatedAt: at(time.Hour)}
	must(t, s.SaveConsent(ctx(t), again))
	got, err := s.ConsentByUserClient(ctx(t), u.ID, c.ID)
	must(t, err)
	equal(t, "replaced consent keeps its creation", got, &latchkey.Consent{UserID: u.ID, ClientID: c.ID, Scopes: []string{"openid", "email"},
		CreatedAt: t0, UpdatedAt: at(time.Hour)})
	must(t, s.SaveConsent(ctx(t), &latchkey.Consent{UserID: u.ID, ClientID: d.ID, CreatedAt: at(2 * time.Hour), UpdatedAt: at(2 * time.Hour)}))
	must(t, s.SaveConsent(ctx(t), &latchkey.Consent{UserID: v.ID, ClientID: d.ID, CreatedAt: t0, UpdatedAt: t0}))
	list, err := s.ListConsents(ctx(t), u.ID)
	must(t, err)
	equal(t, "consents newest first", []string{list[0].ClientID, list[1].ClientID}, []string{d.ID, c.ID})
	must(t, s.DeleteConsent(ctx(t), u.ID, c.ID))
	mustCode(t, s.DeleteConsent(ctx(t), u.ID, c.ID), latchkey.ENotFound)
	list, err = s.ListConsents(ctx(t), u.ID)
	must(t, err)
	equal(t, "consents after delete", len(list), 1)
	must(t, s.DeleteUser(ctx(t), v.ID))
	_, err = s.ConsentByUserClient(ctx(t), v.ID, d.ID)
	mustCode(t, err, latchkey.ENotFound)
}

func testGrants(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	c := clientN(t, 1)
	must(t, s.CreateClient(ctx(t), c))
	g := &latchkey.Grant{ID: latchkey.NewID(t0), ClientID: c.ID, UserID: u.ID, SessionID: "sess", Scopes: []string{"openid"},
		Audience: []string{c.ID}, AuthTime: t0, AMR: []string{"pwd"}, ACR: "aal1", CreatedAt: t0, ExpiresAt: at(time.Hour)}
	must(t, s.CreateGrant(ctx(t), g))
	mustCode(t, s.CreateGrant(ctx(t), g), latchkey.EConflict)
	got, err := s.GrantByID(ctx(t), g.ID)
	must(t, err)
	equal(t, "stored grant", got, g)
	if !got.Live(at(time.Minute)) || got.Live(at(time.Hour)) {
		t.Fatal("Live")
	}
	h := *g
	h.ID, h.AMR, h.Audience = latchkey.NewID(at(time.Second)), nil, nil
	must(t, s.CreateGrant(ctx(t), &h))
	must(t, s.RevokeGrant(ctx(t), g.ID, at(time.Minute)))
	must(t, s.RevokeGrant(ctx(t), g.ID, at(2*time.Minute)))
	got, err = s.GrantByID(ctx(t), g.ID)
	must(t, err)
	equal(t, "first revocation time stays", got.RevokedAt, ptr(at(time.Minute)))
	mustCode(t, s.RevokeGrant(ctx(t), "nope", t0), latchkey.ENotFound)
	ids, err := s.RevokeUserClientGrants(ctx(t), u.ID, c.ID, at(time.Hour))
	must(t, err)
	equal(t, "revoked the live grant only", ids, []string{h.ID})
	must(t, s.DeleteClient(ctx(t), c.ID))
	_, err = s.GrantByID(ctx(t), h.ID)
	mustCode(t, err, latchkey.ENotFound)
}

func testClientRefreshTokens(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	c := clientN(t, 1)
	must(t, s.CreateClient(ctx(t), c))
	g := &latchkey.Grant{ID: latchkey.NewID(t0), ClientID: c.ID, UserID: u.ID, AuthTime: t0, CreatedAt: t0, ExpiresAt: at(time.Hour)}
	must(t, s.CreateGrant(ctx(t), g))
	rt := &latchkey.ClientRefreshToken{Hash: randBytes(t), GrantID: g.ID, CreatedAt: t0, ExpiresAt: at(time.Hour)}
	must(t, s.CreateClientRefreshToken(ctx(t), rt))
	got, err := s.ClientRefreshTokenByHash(ctx(t), rt.Hash)
	must(t, err)
	equal(t, "stored token", got, rt)
	_, err = s.ClientRefreshTokenByHash(ctx(t), randBytes(t))
	mustCode(t, err, latchkey.ENotFound)
	sealed := []byte("sealed successor")
	var wg sync.WaitGroup
	wins := make(chan bool, 10)
	for range 10 {
		wg.Go(func() {
			var won bool
			err := s.InTx(ctx(t), func(tx latchkey.Tx) error {
				var err error
				won, err = tx.MarkClientRefreshTokenUsed(ctx(t), rt.Hash, at(time.Second), sealed)
				return err
			})
			if err != nil {
				t.Error(err)
			}
			wins <- won
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
	equal(t, "concurrent uses that won", n, 1)
	got, err = s.ClientRefreshTokenByHash(ctx(t), rt.Hash)
	must(t, err)
	equal(t, "used at", got.UsedAt, ptr(at(time.Second)))
	equal(t, "sealed successor", got.SealedSuccessor, sealed)
	// The grant's tokens go with it.
	must(t, s.DeleteClient(ctx(t), c.ID))
	_, err = s.ClientRefreshTokenByHash(ctx(t), rt.Hash)
	mustCode(t, err, latchkey.ENotFound)
}

func testAssertionIDs(t *testing.T, s latchkey.Store) {
	must(t, s.UseAssertionID(ctx(t), "client-a", "jti-1", at(time.Minute)))
	mustCode(t, s.UseAssertionID(ctx(t), "client-a", "jti-1", at(time.Minute)), latchkey.EConflict)
	must(t, s.UseAssertionID(ctx(t), "client-b", "jti-1", at(time.Minute)))
	// Expired ids are removed by the janitor, after which they could be
	// stored again (their assertions have expired too).
	_, err := s.DeleteExpired(ctx(t), at(2*time.Minute), t0)
	must(t, err)
	must(t, s.UseAssertionID(ctx(t), "client-a", "jti-1", at(3*time.Minute)))
}

func testDeviceAuthorizations(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	c := clientN(t, 1)
	must(t, s.CreateClient(ctx(t), c))
	d := &latchkey.DeviceAuthorization{ID: latchkey.NewID(t0), ClientID: c.ID, DeviceCodeHash: randBytes(t), UserCodeHash: randBytes(t),
		Scopes: []string{"openid"}, CreatedAt: t0, ExpiresAt: at(10 * time.Minute)}
	must(t, s.CreateDeviceAuthorization(ctx(t), d))
	dup := *d
	dup.ID, dup.DeviceCodeHash = latchkey.NewID(at(time.Second)), randBytes(t)
	mustCode(t, s.CreateDeviceAuthorization(ctx(t), &dup), latchkey.EConflict) // the same user code
	got, err := s.DeviceAuthorizationByDeviceCode(ctx(t), d.DeviceCodeHash)
	must(t, err)
	equal(t, "by device code", got, d)
	got, err = s.DeviceAuthorizationByUserCode(ctx(t), d.UserCodeHash)
	must(t, err)
	equal(t, "by user code", got, d)
	_, err = s.DeviceAuthorizationByUserCode(ctx(t), randBytes(t))
	mustCode(t, err, latchkey.ENotFound)

	// Polls: one per interval.
	tooFast, err := s.PollDeviceAuthorization(ctx(t), d.ID, at(time.Second), 5*time.Second)
	must(t, err)
	equal(t, "first poll", tooFast, false)
	tooFast, err = s.PollDeviceAuthorization(ctx(t), d.ID, at(3*time.Second), 5*time.Second)
	must(t, err)
	equal(t, "poll too soon", tooFast, true)
	tooFast, err = s.PollDeviceAuthorization(ctx(t), d.ID, at(6*time.Second), 5*time.Second)
	must(t, err)
	equal(t, "poll after the interval", tooFast, false)
	_, err = s.PollDeviceAuthorization(ctx(t), "nope", t0, time.Second)
	mustCode(t, err, latchkey.ENotFound)

	mustCode(t, s.ConsumeDeviceAuthorization(ctx(t), d.ID, t0), latchkey.ENotFound) // not approved yet
	done := latchkey.AuthDone{UserID: u.ID, SessionID: "sess", AuthTime: t0, AMR: []string{"pwd"}, ACR: "aal1", At: at(time.Minute)}
	must(t, s.AnswerDeviceAuthorization(ctx(t), d.ID, done, true))
	mustCode(t, s.AnswerDeviceAuthorization(ctx(t), d.ID, done, false), latchkey.ENotFound)
	must(t, s.ConsumeDeviceAuthorization(ctx(t), d.ID, at(2*time.Minute)))
	mustCode(t, s.ConsumeDeviceAuthorization(ctx(t), d.ID, at(2*time.Minute)), latchkey.ENotFound)
	got, err = s.DeviceAuthorizationByDeviceCode(ctx(t), d.DeviceCodeHash)
	must(t, err)
	want := *d
	want.LastPolledAt, want.UserID, want.SessionID, want.AuthTime, want.AMR, want.ACR = ptr(at(6*time.Second)), u.ID, "sess", ptr(t0), []string{"pwd"}, "aal1"
	want.ApprovedAt, want.ConsumedAt = ptr(at(time.Minute)), ptr(at(2*time.Minute))
	equal(t, "answered and consumed", got, &want)

	e := &latchkey.DeviceAuthorization{ID: latchkey.NewID(at(time.Second)), ClientID: c.ID, DeviceCodeHash: randBytes(t), UserCodeHash: randBytes(t),
		CreatedAt: t0, ExpiresAt: at(10 * time.Minute)}
	must(t, s.CreateDeviceAuthorization(ctx(t), e))
	must(t, s.AnswerDeviceAuthorization(ctx(t), e.ID, latchkey.AuthDone{UserID: u.ID, AuthTime: t0, At: t0}, false))
	got, err = s.DeviceAuthorizationByUserCode(ctx(t), e.UserCodeHash)
	must(t, err)
	if got.DeniedAt == nil || got.ApprovedAt != nil {
		t.Fatalf("denied: %+v", got)
	}
	mustCode(t, s.ConsumeDeviceAuthorization(ctx(t), e.ID, t0), latchkey.ENotFound)
}

func testResources(t *testing.T, s latchkey.Store) {
	r := &latchkey.Resource{ID: "https://api.example.com", Name: "Orders API", CreatedAt: t0}
	must(t, s.CreateResource(ctx(t), r))
	mustCode(t, s.CreateResource(ctx(t), r), latchkey.EConflict)
	got, err := s.ResourceByID(ctx(t), r.ID)
	must(t, err)
	equal(t, "resource", got, r)
	must(t, s.CreateResource(ctx(t), &latchkey.Resource{ID: "https://a.example.com", Name: "A", CreatedAt: t0}))
	list, err := s.ListResources(ctx(t))
	must(t, err)
	equal(t, "resources by id", []string{list[0].ID, list[1].ID}, []string{"https://a.example.com", r.ID})
	must(t, s.DeleteResource(ctx(t), r.ID))
	mustCode(t, s.DeleteResource(ctx(t), r.ID), latchkey.ENotFound)
	_, err = s.ResourceByID(ctx(t), r.ID)
	mustCode(t, err, latchkey.ENotFound)

	// A client's resources and an API key's audiences.
	c := clientN(t, 1)
	c.Resources = []string{"https://a.example.com"}
	must(t, s.CreateClient(ctx(t), c))
	gotC, err := s.ClientByID(ctx(t), c.ID)
	must(t, err)
	equal(t, "client resources", gotC.Resources, c.Resources)
	res := []string{"https://a.example.com", "https://b.example.com"}
	gotC, err = s.UpdateClient(ctx(t), c.ID, latchkey.ClientPatch{Resources: &res, UpdatedAt: t0})
	must(t, err)
	equal(t, "updated client resources", gotC.Resources, res)

	u, v := createUser(t, s, 1), createUser(t, s, 2)
	k := &latchkey.APIKey{ID: latchkey.NewID(t0), UserID: u.ID, Name: "k", Prefix: "lk_abcd", Hash: randBytes(t), CreatedAt: t0,
		Audiences: []string{"https://a.example.com"}}
	must(t, s.CreateAPIKey(ctx(t), k))
	gotK, err := s.APIKeyByID(ctx(t), k.ID)
	must(t, err)
	equal(t, "key audiences", gotK.Audiences, k.Audiences)
	mustCode(t, s.SetAPIKeyAudiences(ctx(t), k.ID, v.ID, nil), latchkey.ENotFound) // another user's key
	must(t, s.SetAPIKeyAudiences(ctx(t), k.ID, u.ID, res))
	gotK, err = s.APIKeyByHash(ctx(t), k.Hash)
	must(t, err)
	equal(t, "key audiences after set", gotK.Audiences, res)
	must(t, s.SetAPIKeyAudiences(ctx(t), k.ID, u.ID, nil))
	gotK, err = s.APIKeyByID(ctx(t), k.ID)
	must(t, err)
	equal(t, "key audiences cleared", gotK.Audiences, []string(nil))
	must(t, s.RevokeAPIKey(ctx(t), k.ID, t0))
	mustCode(t, s.SetAPIKeyAudiences(ctx(t), k.ID, u.ID, res), latchkey.ENotFound)
}

func testDeleteExpiredProvider(t *testing.T, s latchkey.Store) {
	u := createUser(t, s, 1)
	c := clientN(t, 1)
	must(t, s.CreateClient(ctx(t), c))
	old, live := authRequestN(c, 1), authRequestN(c, 2)
	old.ExpiresAt = at(time.Minute)
	live.ExpiresAt = at(time.Hour)
	must(t, s.CreateAuthRequest(ctx(t), old))
	must(t, s.CreateAuthRequest(ctx(t), live))
	grant := func(n int, expires time.Time) *latchkey.Grant {
		g := &latchkey.Grant{ID: latchkey.NewID(at(time.Duration(n) * time.Millisecond)), ClientID: c.ID, UserID: u.ID, AuthTime: t0,
			CreatedAt: t0, ExpiresAt: expires}
		must(t, s.CreateGrant(ctx(t), g))
		must(t, s.CreateClientRefreshToken(ctx(t), &latchkey.ClientRefreshToken{Hash: randBytes(t), GrantID: g.ID, CreatedAt: t0, ExpiresAt: expires}))
		return g
	}
	expired, revoked, kept := grant(1, at(time.Minute)), grant(2, at(time.Hour)), grant(3, at(time.Hour))
	must(t, s.RevokeGrant(ctx(t), revoked.ID, at(time.Minute)))
	dev := &latchkey.DeviceAuthorization{ID: latchkey.NewID(t0), ClientID: c.ID, DeviceCodeHash: randBytes(t), UserCodeHash: randBytes(t),
		CreatedAt: t0, ExpiresAt: at(time.Minute)}
	must(t, s.CreateDeviceAuthorization(ctx(t), dev))

	_, err := s.DeleteExpired(ctx(t), at(10*time.Minute), t0)
	must(t, err)
	_, err = s.AuthRequestByID(ctx(t), old.ID)
	mustCode(t, err, latchkey.ENotFound)
	_, err = s.AuthRequestByID(ctx(t), live.ID)
	must(t, err)
	for _, g := range []*latchkey.Grant{expired, revoked} {
		_, err = s.GrantByID(ctx(t), g.ID)
		mustCode(t, err, latchkey.ENotFound)
	}
	_, err = s.GrantByID(ctx(t), kept.ID)
	must(t, err)
	_, err = s.DeviceAuthorizationByDeviceCode(ctx(t), dev.DeviceCodeHash)
	mustCode(t, err, latchkey.ENotFound)
}
