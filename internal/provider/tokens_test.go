package provider

import (
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/crypt"
	"github.com/latchkey/latchkey/internal/testenv"
	"github.com/latchkey/latchkey/internal/token"
)

func testKeyring(t *testing.T, now time.Time) *token.Keyring {
	t.Helper()
	sealer, err := crypt.NewSealer(make([]byte, crypt.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	k, err := token.GenerateKey(token.ES256, sealer, now)
	if err != nil {
		t.Fatal(err)
	}
	k.State = latchkey.KeyCurrent
	kr, err := token.NewKeyring([]latchkey.SigningKey{k}, sealer)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestAccessTokens(t *testing.T) {
	clock := testenv.NewClock(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))
	kr := testKeyring(t, clock.Now())
	s := &tokenSigner{keys: func() *token.Keyring { return kr }, issuer: "https://id.example", ttl: time.Minute, now: clock.Now}
	g := accessGrant{Subject: "user-1", ClientID: "client-1", Audience: []string{"client-1"}, Scopes: []string{"openid", "email"},
		SessionID: "sess", GrantID: "grant", AuthTime: clock.Now(), ACR: "aal1", AMR: []string{"pwd"}}
	raw, exp, err := s.sign(g)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(clock.Now().Add(time.Minute)) {
		t.Fatalf("exp %v", exp)
	}
	c, err := s.verify(raw)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "user-1" || c.ClientID != "client-1" || c.Scope != "openid email" || c.GrantID != "grant" || c.Audience[0] != "client-1" {
		t.Fatalf("claims: %+v", c)
	}
	// op's Crypto turns the token id (the token) into the bearer token and back.
	cr := opCrypto{tokens: s}
	if out, err := cr.Encrypt(raw + ":user-1"); err != nil || out != raw {
		t.Fatalf("Encrypt: %v", err)
	}
	if _, err := cr.Encrypt(raw + ":someone-else"); err == nil {
		t.Fatal("Encrypt took a token for another subject")
	}
	if back, err := cr.Decrypt(raw); err != nil || back != raw+":user-1" {
		t.Fatalf("Decrypt: %q %v", back, err)
	}
	code1, _ := cr.Encrypt("request-id")
	code2, _ := cr.Encrypt("request-id")
	if len(code1) != 43 || code1 == code2 || strings.Contains(code1, "request-id") {
		t.Fatalf("codes must be random: %q %q", code1, code2)
	}

	// A token of latchkey's own API (no client_id) is not one of these.
	own, _, err := token.NewIssuer(func() *token.Keyring { return kr }, "https://id.example", "latchkey", time.Minute, clock.Now).
		Issue(token.Grant{UserID: "user-1", SessionID: "sess"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.verify(own); err == nil {
		t.Fatal("a first-party access token passed as a client's")
	}
	other := &tokenSigner{keys: func() *token.Keyring { return testKeyring(t, clock.Now()) }, issuer: "https://id.example", ttl: time.Minute, now: clock.Now}
	if _, err := other.verify(raw); err == nil {
		t.Fatal("a token verified with a key that did not sign it")
	}
	wrongIss := &tokenSigner{keys: s.keys, issuer: "https://other.example", ttl: time.Minute, now: clock.Now}
	if _, err := wrongIss.verify(raw); err == nil {
		t.Fatal("a token of another issuer passed")
	}
	parts := strings.Split(raw, ".")
	if _, err := s.verify(parts[0] + "." + parts[1] + "."); err == nil {
		t.Fatal("an unsigned token passed")
	}
	clock.Advance(time.Minute)
	if _, err := s.verify(raw); err == nil {
		t.Fatal("an expired token passed")
	}
}
