package token

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/jwttest"
)

// gcmSealer is the AES-GCM sealer the real master key will provide:
// random 12-byte nonce prepended to the ciphertext.
type gcmSealer struct{ aead cipher.AEAD }

func newSealer() *gcmSealer {
	key := make([]byte, 32)
	rand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &gcmSealer{aead: aead}
}

func (s *gcmSealer) Seal(plaintext, ad []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, plaintext, ad), nil
}

func (s *gcmSealer) Open(sealed, ad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed value too short")
	}
	return s.aead.Open(nil, sealed[:n], sealed[n:], ad)
}

const (
	testIssuer   = "https://auth.latchkey.test"
	testAudience = "latchkey-api"
)

// testNow is a fixed instant, whole seconds, far from any boundary.
var testNow = time.Date(2031, 3, 14, 15, 9, 26, 0, time.UTC)

// rsaKey is generated once per test binary: 3072-bit generation is slow.
var rsaKey = sync.OnceValues(func() (latchkey.SigningKey, error) {
	return GenerateKey(RS256, sharedSealer, testNow.Add(-time.Hour))
})

var sharedSealer = newSealer()

// fixture is a keyring with one current key of alg (and a next and a
// retired key of the same alg), an issuer and a verifier on a fake clock.
type fixture struct {
	t       testing.TB
	sealer  Sealer
	keys    []latchkey.SigningKey
	kr      *Keyring
	now     time.Time
	current latchkey.SigningKey
	retired latchkey.SigningKey
	iss     *Issuer
	ver     *Verifier
}

func newFixture(t testing.TB, alg string) *fixture {
	t.Helper()
	f := &fixture{t: t, sealer: sharedSealer, now: testNow}
	gen := func(state string, age time.Duration) latchkey.SigningKey {
		var k latchkey.SigningKey
		var err error
		if alg == RS256 && state == latchkey.KeyCurrent {
			k, err = rsaKey()
		} else if alg == RS256 {
			// Other RSA keys only need to be published: reuse an EC key
			// so the suite does not generate three RSA keys.
			k, err = GenerateKey(ES256, f.sealer, testNow.Add(-age))
		} else {
			k, err = GenerateKey(alg, f.sealer, testNow.Add(-age))
		}
		if err != nil {
			t.Fatal(err)
		}
		k.State = state
		return k
	}
	f.current = gen(latchkey.KeyCurrent, 2*time.Hour)
	act := testNow.Add(-time.Hour)
	f.current.ActivatedAt = &act
	f.retired = gen(latchkey.KeyRetired, 48*time.Hour)
	ret := testNow.Add(-time.Hour)
	f.retired.RetiredAt = &ret
	next := gen(latchkey.KeyNext, time.Minute)
	f.keys = []latchkey.SigningKey{next, f.current, f.retired}
	f.rebuild()
	clock := func() time.Time { return f.now }
	f.iss = NewIssuer(f.keyring, testIssuer, testAudience, 15*time.Minute, clock)
	f.ver = NewVerifier(f.keyring, testIssuer, testAudience, 0, clock)
	return f
}

func (f *fixture) keyring() *Keyring { return f.kr }

func (f *fixture) rebuild() {
	f.t.Helper()
	kr, err := NewKeyring(f.keys, f.sealer)
	if err != nil {
		f.t.Fatal(err)
	}
	f.kr = kr
}

// privateOf opens the private key of k.
func (f *fixture) privateOf(k latchkey.SigningKey) crypto.Signer {
	f.t.Helper()
	pub, err := parsePublic(k.Algorithm, k.PublicKey)
	if err != nil {
		f.t.Fatal(err)
	}
	priv, err := openPrivate(k, f.sealer, pub)
	if err != nil {
		f.t.Fatal(err)
	}
	return priv
}

// issue returns a real token and its claims.
func (f *fixture) issue() string {
	f.t.Helper()
	tok, _, err := f.iss.Issue(Grant{UserID: "user-a", SessionID: "sess-a", Roles: []string{"user"}})
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

var b64 = jwttest.B64

// claimsJSON returns the claims of a good token at f.now with the given
// members replaced (a raw JSON value) or removed (""). Members are written
// in a fixed order; extra may add members verbatim (duplicates included).
func (f *fixture) claimsJSON(over map[string]string, extra ...string) string {
	c := map[string]string{
		"iss":   `"` + testIssuer + `"`,
		"sub":   `"user-a"`,
		"aud":   `"` + testAudience + `"`,
		"exp":   itoa(f.now.Add(10 * time.Minute).Unix()),
		"iat":   itoa(f.now.Add(-time.Minute).Unix()),
		"nbf":   itoa(f.now.Add(-time.Minute).Unix()),
		"jti":   `"jti-1"`,
		"sid":   `"sess-a"`,
		"roles": `["user"]`,
	}
	for k, v := range over {
		if v == "" {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	names := make([]string, 0, len(c))
	for k := range c {
		names = append(names, k)
	}
	sort.Strings(names)
	members := make([]string, 0, len(names)+len(extra))
	for _, k := range names {
		members = append(members, `"`+k+`":`+c[k])
	}
	members = append(members, extra...)
	return "{" + strings.Join(members, ",") + "}"
}

// headerJSON is the header of a good token signed by the current key.
func (f *fixture) headerJSON() string {
	return `{"alg":"` + f.current.Algorithm + `","kid":"` + f.current.ID + `","typ":"at+jwt"}`
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// signCurrent signs header.payload with the current key (a genuine
// signature over forged content: the "[GB]" cases).
func (f *fixture) signCurrent(headerJSON, claimsJSON string) string {
	f.t.Helper()
	return jwttest.Sign(f.t, f.privateOf(f.current), headerJSON, claimsJSON)
}

// wantInvalid asserts that tok is refused as invalid_token (never expired).
func wantInvalid(t testing.TB, v *Verifier, tok string) {
	t.Helper()
	c, err := v.Verify(tok)
	if err == nil {
		t.Fatalf("accepted a bad token (sub %q): %.120s", c.Subject, tok)
	}
	if code := latchkey.ErrorCode(err); code != latchkey.EInvalidToken {
		t.Fatalf("code %q, want %q (%v)", code, latchkey.EInvalidToken, err)
	}
	if msg := latchkey.ErrorMessage(err); msg != "The access token is invalid." {
		t.Fatalf("message %q", msg)
	}
}

// wantValid asserts that tok verifies and returns its claims.
func wantValid(t testing.TB, v *Verifier, tok string) *Claims {
	t.Helper()
	c, err := v.Verify(tok)
	if err != nil {
		t.Fatalf("refused a good token: %v", err)
	}
	return c
}
