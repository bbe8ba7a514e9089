package auth_test

import (
	"crypto/rand"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/crypt"
	"github.com/latchkey/latchkey/internal/password"
	"github.com/latchkey/latchkey/internal/store/sqlite"
	"github.com/latchkey/latchkey/internal/token"
)

// Access tokens say when the user signed in (auth_time), and a refresh
// keeps that time: it is a new token, not a new sign-in.
func TestAccessTokensCarryAuthTime(t *testing.T) {
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	master := make([]byte, crypt.KeySize)
	rand.Read(master)
	sealer, err := crypt.NewSealer(master)
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Date(2031, 3, 14, 15, 9, 26, 535897932, time.UTC)}
	keys := token.NewKeyManager(db, sealer, token.ES256, 15*time.Minute, clock.now, slog.New(slog.DiscardHandler))
	if err := keys.Init(ctx); err != nil {
		t.Fatal(err)
	}
	const iss, aud = "https://auth.example.test", "latchkey"
	ver := token.NewVerifier(keys.Keyring, iss, aud, 0, clock.now)
	svc := auth.New(auth.Config{AccessTokenTTL: 15 * time.Minute, RefreshTokenTTL: time.Hour, SessionIdleTimeout: time.Hour},
		auth.Deps{
			Store:    db,
			Hasher:   password.NewHasher(password.Params{Memory: 64, Iterations: 1, Parallelism: 1}, 1, time.Second),
			Policy:   password.DefaultPolicy(),
			Issuer:   token.NewIssuer(keys.Keyring, iss, aud, 15*time.Minute, clock.now),
			Verifier: ver,
			Clock:    clock.now,
		})
	signedUp, err := svc.Signup(ctx, auth.SignupInput{Email: "a@example.test", Password: "a long enough passphrase"}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	signIn := signedUp.Session.CreatedAt.Truncate(time.Second)
	check := func(what string, tok *auth.Tokens) {
		t.Helper()
		c, err := ver.Verify(tok.AccessToken.Reveal())
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if c.AuthTime == nil || !c.AuthTime.Equal(signIn) {
			t.Errorf("%s: auth_time %v, want the sign-in at %v", what, c.AuthTime, signIn)
		}
	}
	check("signup", signedUp)
	clock.advance(10 * time.Minute)
	refreshed, err := svc.Refresh(ctx, signedUp.RefreshToken.Reveal(), auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	check("refresh", refreshed)
}
