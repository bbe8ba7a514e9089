package provider

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/crypt"
	"github.com/latchkey/latchkey/internal/store/sqlite"
	"github.com/latchkey/latchkey/internal/testenv"
)

type fixture struct {
	db      *sqlite.DB
	clock   *testenv.Clock
	clients *Clients
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	clock := testenv.NewClock(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))
	return &fixture{db: db, clock: clock, clients: NewClients(db, clock.Now)}
}

var admin = auth.Actor{UserID: "admin-1", Meta: auth.Meta{IP: "127.0.0.1", UserAgent: "test"}}

func TestCreateConfidentialClient(t *testing.T) {
	f := newFixture(t)
	c, secret, err := f.clients.Create(t.Context(), ClientInput{Name: " Web app ", RedirectURIs: []string{"https://app.example/cb"}}, admin)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "Web app" || c.Type != latchkey.ClientConfidential || c.AuthMethod != latchkey.AuthMethodSecretBasic {
		t.Fatalf("defaults: %+v", c)
	}
	// 256 bits, base64url: 43 characters; only its SHA-256 is stored.
	if len(secret.Reveal()) != 43 {
		t.Fatalf("secret length %d", len(secret.Reveal()))
	}
	stored, err := f.db.ClientByID(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(stored.SecretHash) != string(crypt.Hash(secret.Reveal())) {
		t.Fatal("the stored hash is not the secret's SHA-256")
	}
	if !CheckSecret(stored, secret.Reveal(), f.clock.Now()) || CheckSecret(stored, secret.Reveal()+"x", f.clock.Now()) ||
		CheckSecret(stored, secret.Reveal()[:42], f.clock.Now()) || CheckSecret(stored, "", f.clock.Now()) {
		t.Fatal("CheckSecret accepts exactly the secret")
	}
	events, _, err := f.db.ListAudit(t.Context(), latchkey.AuditFilter{Type: latchkey.AuditClientCreated})
	if err != nil || len(events) != 1 || strings.Contains(events[0].Reason, secret.Reveal()) || events[0].UserID != admin.UserID {
		t.Fatalf("audit: %+v %v", events, err)
	}
}

func TestCreatePublicClientHasNoSecret(t *testing.T) {
	f := newFixture(t)
	c, secret, err := f.clients.Create(t.Context(), ClientInput{Name: "SPA", Type: latchkey.ClientPublic,
		RedirectURIs: []string{"http://127.0.0.1:3000/cb", "com.example.app:/callback"}}, admin)
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" || c.SecretHash != nil || c.AuthMethod != latchkey.AuthMethodNone {
		t.Fatalf("public client: %+v", c)
	}
	if CheckSecret(c, "anything", f.clock.Now()) {
		t.Fatal("a public client has no secret to match")
	}
	if _, err := f.clients.RotateSecret(t.Context(), c.ID, DefaultSecretOverlap, admin); !latchkey.IsCode(err, latchkey.EInvalidRequest) {
		t.Fatalf("rotating a public client's secret: %v", err)
	}
}

func TestClientValidation(t *testing.T) {
	f := newFixture(t)
	ok := ClientInput{Name: "App", RedirectURIs: []string{"https://app.example/cb"}}
	cases := map[string]func(in *ClientInput){
		"no name":              func(in *ClientInput) { in.Name = " " },
		"control in name":      func(in *ClientInput) { in.Name = "a\nb" },
		"bad type":             func(in *ClientInput) { in.Type = "trusted" },
		"public with secret":   func(in *ClientInput) { in.Type, in.AuthMethod = latchkey.ClientPublic, latchkey.AuthMethodSecretBasic },
		"confidential none":    func(in *ClientInput) { in.AuthMethod = latchkey.AuthMethodNone },
		"http redirect":        func(in *ClientInput) { in.RedirectURIs = []string{"http://app.example/cb"} },
		"relative redirect":    func(in *ClientInput) { in.RedirectURIs = []string{"/cb"} },
		"fragment":             func(in *ClientInput) { in.RedirectURIs = []string{"https://app.example/cb#x"} },
		"userinfo":             func(in *ClientInput) { in.RedirectURIs = []string{"https://u:p@app.example/cb"} },
		"javascript":           func(in *ClientInput) { in.RedirectURIs = []string{"javascript:alert(1)"} },
		"bare custom scheme":   func(in *ClientInput) { in.RedirectURIs = []string{"myapp:/cb"} },
		"duplicate redirect":   func(in *ClientInput) { in.RedirectURIs = []string{"https://a.example/", "https://a.example/"} },
		"no redirect for code": func(in *ClientInput) { in.RedirectURIs = nil },
		"unknown grant":        func(in *ClientInput) { in.GrantTypes = []string{"password"} },
		"implicit":             func(in *ClientInput) { in.GrantTypes = []string{"implicit"} },
		"no grant":             func(in *ClientInput) { in.GrantTypes = []string{} },
		"public client creds": func(in *ClientInput) {
			in.Type, in.GrantTypes = latchkey.ClientPublic, []string{latchkey.GrantClientCredentials}
		},
		"refresh alone":           func(in *ClientInput) { in.GrantTypes = []string{latchkey.GrantRefreshToken} },
		"bad scope":               func(in *ClientInput) { in.Scopes = []string{"a b"} },
		"jwt without jwks":        func(in *ClientInput) { in.AuthMethod = latchkey.AuthMethodPrivateKeyJWT },
		"jwks without jwt":        func(in *ClientInput) { in.JWKS = `{"keys":[]}` },
		"private key in jwks":     func(in *ClientInput) { in.AuthMethod, in.JWKS = latchkey.AuthMethodPrivateKeyJWT, privateJWK },
		"jwks not json":           func(in *ClientInput) { in.AuthMethod, in.JWKS = latchkey.AuthMethodPrivateKeyJWT, "keys" },
		"post-logout not allowed": func(in *ClientInput) { in.PostLogoutRedirectURIs = []string{"ftp://x"} },
	}
	for name, edit := range cases {
		in := ok
		edit(&in)
		if _, _, err := f.clients.Create(t.Context(), in, admin); !latchkey.IsCode(err, latchkey.EInvalidRequest) {
			t.Errorf("%s: %v, want invalid_request", name, err)
		}
	}
	if _, _, err := f.clients.Create(t.Context(), ok, admin); err != nil {
		t.Fatal(err)
	}
	cc := ClientInput{Name: "Service", GrantTypes: []string{latchkey.GrantClientCredentials}, Scopes: []string{"api:read"}}
	if _, _, err := f.clients.Create(t.Context(), cc, admin); err != nil {
		t.Fatalf("a client-credentials client needs no redirect URI: %v", err)
	}
	jwt := ClientInput{Name: "JWT", AuthMethod: latchkey.AuthMethodPrivateKeyJWT, JWKS: publicJWKS, GrantTypes: []string{latchkey.GrantClientCredentials}}
	if c, secret, err := f.clients.Create(t.Context(), jwt, admin); err != nil || secret != "" || c.SecretHash != nil {
		t.Fatalf("private_key_jwt client: %v %q", err, secret)
	}
}

// An EC P-256 key pair written once for these tests.
const publicJWKS = `{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`
const privateJWK = `{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}]}`

func TestRotateSecretWithOverlap(t *testing.T) {
	f := newFixture(t)
	c, old, err := f.clients.Create(t.Context(), ClientInput{Name: "App", RedirectURIs: []string{"https://app.example/cb"}}, admin)
	if err != nil {
		t.Fatal(err)
	}
	next, err := f.clients.RotateSecret(t.Context(), c.ID, time.Hour, admin)
	if err != nil {
		t.Fatal(err)
	}
	get := func() *latchkey.Client {
		c, err := f.clients.Get(t.Context(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if cl := get(); !CheckSecret(cl, next.Reveal(), f.clock.Now()) || !CheckSecret(cl, old.Reveal(), f.clock.Now()) {
		t.Fatal("during the overlap both secrets work")
	}
	f.clock.Advance(time.Hour)
	if cl := get(); !CheckSecret(cl, next.Reveal(), f.clock.Now()) || CheckSecret(cl, old.Reveal(), f.clock.Now()) {
		t.Fatal("after the overlap only the new secret works")
	}
	// A second rotation ends the first one's previous secret at once.
	third, err := f.clients.RotateSecret(t.Context(), c.ID, time.Minute, admin)
	if err != nil {
		t.Fatal(err)
	}
	if cl := get(); !CheckSecret(cl, third.Reveal(), f.clock.Now()) || !CheckSecret(cl, next.Reveal(), f.clock.Now()) || CheckSecret(cl, old.Reveal(), f.clock.Now()) {
		t.Fatal("two secrets at most: the current and the one before")
	}
	// No overlap: the previous secret stops at once.
	fourth, err := f.clients.RotateSecret(t.Context(), c.ID, 0, admin)
	if err != nil {
		t.Fatal(err)
	}
	if cl := get(); !CheckSecret(cl, fourth.Reveal(), f.clock.Now()) || CheckSecret(cl, third.Reveal(), f.clock.Now()) {
		t.Fatal("a rotation without overlap ends the previous secret")
	}
	for _, bad := range []time.Duration{-time.Second, MaxSecretOverlap + time.Second} {
		if _, err := f.clients.RotateSecret(t.Context(), c.ID, bad, admin); !latchkey.IsCode(err, latchkey.EInvalidRequest) {
			t.Errorf("overlap %s: %v", bad, err)
		}
	}
	if _, err := f.clients.RotateSecret(t.Context(), "nope", DefaultSecretOverlap, admin); !latchkey.IsCode(err, latchkey.ENotFound) {
		t.Fatalf("unknown client: %v", err)
	}
}

func TestUpdateAndDeleteClient(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c, _, err := f.clients.Create(ctx, ClientInput{Name: "App", RedirectURIs: []string{"https://app.example/cb"}}, admin)
	if err != nil {
		t.Fatal(err)
	}
	uris := []string{"https://app.example/cb2"}
	first := true
	got, err := f.clients.Update(ctx, c.ID, ClientChanges{RedirectURIs: &uris, FirstParty: &first}, admin)
	if err != nil || got.RedirectURIs[0] != uris[0] || !got.FirstParty || got.Name != "App" {
		t.Fatalf("update: %+v %v", got, err)
	}
	none := []string{}
	if _, err := f.clients.Update(ctx, c.ID, ClientChanges{RedirectURIs: &none}, admin); !latchkey.IsCode(err, latchkey.EInvalidRequest) {
		t.Fatalf("an update that leaves an invalid client: %v", err)
	}
	if err := f.clients.Delete(ctx, c.ID, admin); err != nil {
		t.Fatal(err)
	}
	if _, err := f.clients.Get(ctx, c.ID); !latchkey.IsCode(err, latchkey.ENotFound) {
		t.Fatalf("deleted client: %v", err)
	}
	if err := f.clients.Delete(ctx, c.ID, admin); !latchkey.IsCode(err, latchkey.ENotFound) {
		t.Fatalf("second delete: %v", err)
	}
}
