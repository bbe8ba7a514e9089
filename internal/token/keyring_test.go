package token

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func TestGenerateKey(t *testing.T) {
	for _, alg := range []string{ES256, EdDSA, RS256} {
		t.Run(alg, func(t *testing.T) {
			var k latchkey.SigningKey
			var err error
			if alg == RS256 {
				k, err = rsaKey()
			} else {
				k, err = GenerateKey(alg, sharedSealer, testNow)
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.Algorithm != alg || k.State != latchkey.KeyNext {
				t.Fatalf("alg %q state %q", k.Algorithm, k.State)
			}
			raw, err := base64.RawURLEncoding.DecodeString(k.ID)
			if err != nil || len(raw) != 16 {
				t.Fatalf("kid %q is not 16 bytes of base64url", k.ID)
			}
			pub, err := x509.ParsePKIXPublicKey(k.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			switch p := pub.(type) {
			case *ecdsa.PublicKey:
				if alg != ES256 || p.Curve.Params().Name != "P-256" {
					t.Fatalf("%s key on %s", alg, p.Curve.Params().Name)
				}
			case ed25519.PublicKey:
				if alg != EdDSA {
					t.Fatal("Ed25519 key for", alg)
				}
			case *rsa.PublicKey:
				if alg != RS256 || p.N.BitLen() != 3072 {
					t.Fatalf("%s RSA key of %d bits", alg, p.N.BitLen())
				}
			}
			// The private key is sealed: it is not DER in the clear, and
			// it opens only with its own kid as additional data.
			if _, err := x509.ParsePKCS8PrivateKey(k.SealedPrivate); err == nil {
				t.Fatal("private key stored in the clear")
			}
			if _, err := sharedSealer.Open(k.SealedPrivate, []byte("another-kid")); err == nil {
				t.Fatal("sealed key opened under another kid")
			}
			der, err := sharedSealer.Open(k.SealedPrivate, []byte(k.ID))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := x509.ParsePKCS8PrivateKey(der); err != nil {
				t.Fatal(err)
			}
		})
	}
	if _, err := GenerateKey("HS256", sharedSealer, testNow); err == nil {
		t.Fatal("generated an HS256 key")
	}
}

func TestNewKeyringRefusesBadKeys(t *testing.T) {
	good, err := GenerateKey(ES256, sharedSealer, testNow)
	if err != nil {
		t.Fatal(err)
	}
	good.State = latchkey.KeyCurrent
	ed, err := GenerateKey(EdDSA, sharedSealer, testNow)
	if err != nil {
		t.Fatal(err)
	}
	other := newSealer()
	cases := map[string]func(k *latchkey.SigningKey){
		"alg does not fit the key": func(k *latchkey.SigningKey) { k.Algorithm = RS256 },
		"EdDSA on an EC key":       func(k *latchkey.SigningKey) { k.Algorithm = EdDSA },
		"HS256":                    func(k *latchkey.SigningKey) { k.Algorithm = "HS256" },
		"garbage public key":       func(k *latchkey.SigningKey) { k.PublicKey = []byte("junk") },
		"unknown state":            func(k *latchkey.SigningKey) { k.State = "revoked" },
		"no kid":                   func(k *latchkey.SigningKey) { k.ID = "" },
		"sealed under another kid": func(k *latchkey.SigningKey) { k.ID = "moved" },
		"private does not match":   func(k *latchkey.SigningKey) { k.SealedPrivate = resealAs(t, ed, k.ID) },
		"sealed with another master key": func(k *latchkey.SigningKey) {
			der, _ := sharedSealer.Open(k.SealedPrivate, []byte(k.ID))
			k.SealedPrivate, _ = other.Seal(der, []byte(k.ID))
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			k := good
			mutate(&k)
			if _, err := NewKeyring([]latchkey.SigningKey{k}, sharedSealer); err == nil {
				t.Fatal("keyring accepted a bad key")
			}
		})
	}
	if _, err := NewKeyring([]latchkey.SigningKey{good, good}, sharedSealer); err == nil {
		t.Fatal("keyring accepted a duplicate kid")
	}
	if _, err := NewKeyring([]latchkey.SigningKey{good}, sharedSealer); err != nil {
		t.Fatal(err)
	}
}

// resealAs seals k's private key under kid.
func resealAs(t *testing.T, k latchkey.SigningKey, kid string) []byte {
	der, err := sharedSealer.Open(k.SealedPrivate, []byte(k.ID))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := sharedSealer.Seal(der, []byte(kid))
	if err != nil {
		t.Fatal(err)
	}
	return sealed
}

func TestKeyringPicksNewestCurrent(t *testing.T) {
	a, _ := GenerateKey(ES256, sharedSealer, testNow)
	b, _ := GenerateKey(ES256, sharedSealer, testNow)
	a.State, b.State = latchkey.KeyCurrent, latchkey.KeyCurrent
	early, late := testNow, testNow.Add(time.Second)
	a.ActivatedAt, b.ActivatedAt = &late, &early
	for _, order := range [][]latchkey.SigningKey{{a, b}, {b, a}} {
		kr, err := NewKeyring(order, sharedSealer)
		if err != nil {
			t.Fatal(err)
		}
		if kr.CurrentKID() != a.ID {
			t.Fatalf("signing with %s, want the newest current %s", kr.CurrentKID(), a.ID)
		}
		if !kr.Has(b.ID) {
			t.Fatal("the older current key is not published")
		}
	}
}

func TestKeyringWithoutCurrentVerifiesOnly(t *testing.T) {
	f := newFixture(t, ES256)
	tok := f.issue()
	var published []latchkey.SigningKey
	for _, k := range f.keys {
		if k.State != latchkey.KeyCurrent {
			published = append(published, k)
		} else {
			k.State = latchkey.KeyRetired
			published = append(published, k)
		}
	}
	f.keys = published
	f.rebuild()
	if _, _, err := f.iss.Issue(Grant{UserID: "u", SessionID: "s"}); err == nil {
		t.Fatal("issued a token without a current key")
	}
	wantValid(t, f.ver, tok)
}

// KEY-01: public members only, a unique kid, use "sig" and one alg each.
func TestJWKS(t *testing.T) {
	for _, alg := range []string{ES256, EdDSA, RS256} {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t, alg)
			var doc struct {
				Keys []map[string]any `json:"keys"`
			}
			dec := json.NewDecoder(bytes.NewReader(f.kr.JWKS()))
			dec.UseNumber()
			if err := dec.Decode(&doc); err != nil {
				t.Fatal(err)
			}
			if len(doc.Keys) != len(f.keys) {
				t.Fatalf("%d keys published, want %d", len(doc.Keys), len(f.keys))
			}
			seen := map[string]bool{}
			for i, k := range doc.Keys {
				for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k", "oth"} {
					if _, ok := k[private]; ok {
						t.Fatalf("key %d has private member %q", i, private)
					}
				}
				kid, _ := k["kid"].(string)
				if kid == "" || seen[kid] {
					t.Fatalf("key %d: kid %q missing or repeated", i, kid)
				}
				seen[kid] = true
				if k["use"] != "sig" {
					t.Fatalf("key %s: use %v", kid, k["use"])
				}
				want := f.keys[slices.IndexFunc(f.keys, func(s latchkey.SigningKey) bool { return s.ID == kid })].Algorithm
				if k["alg"] != want {
					t.Fatalf("key %s: alg %v, want %s", kid, k["alg"], want)
				}
				checkJWKMatches(t, k, f.keys[slices.IndexFunc(f.keys, func(s latchkey.SigningKey) bool { return s.ID == kid })])
			}
		})
	}
}

// checkJWKMatches rebuilds the public key from the JWK and compares it
// with the stored PKIX key: the published document is the real key.
func checkJWKMatches(t *testing.T, j map[string]any, k latchkey.SigningKey) {
	t.Helper()
	dec := func(name string) []byte {
		s, _ := j[name].(string)
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(b) == 0 {
			t.Fatalf("member %s: %q", name, s)
		}
		return b
	}
	want, err := x509.ParsePKIXPublicKey(k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	switch j["kty"] {
	case "EC":
		if j["crv"] != "P-256" {
			t.Fatalf("crv %v", j["crv"])
		}
		x, y := dec("x"), dec("y")
		if len(x) != 32 || len(y) != 32 {
			t.Fatalf("coordinates of %d and %d bytes", len(x), len(y))
		}
		point := append(append([]byte{4}, x...), y...)
		if !bytes.Equal(point, mustBytes(t, want.(*ecdsa.PublicKey))) {
			t.Fatal("EC JWK does not match the key")
		}
	case "OKP":
		if j["crv"] != "Ed25519" || !bytes.Equal(dec("x"), want.(ed25519.PublicKey)) {
			t.Fatal("OKP JWK does not match the key")
		}
	case "RSA":
		p := want.(*rsa.PublicKey)
		if new(big.Int).SetBytes(dec("n")).Cmp(p.N) != 0 || new(big.Int).SetBytes(dec("e")).Int64() != int64(p.E) {
			t.Fatal("RSA JWK does not match the key")
		}
		if p.N.BitLen() < 3072 {
			t.Fatalf("RSA key of %d bits", p.N.BitLen())
		}
	default:
		t.Fatalf("kty %v", j["kty"])
	}
}

func mustBytes(t *testing.T, k *ecdsa.PublicKey) []byte {
	b, err := k.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
