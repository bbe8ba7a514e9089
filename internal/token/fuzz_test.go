package token

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"
)

// FuzzVerify feeds arbitrary strings to Verify. It must never panic, and
// whatever it accepts must really carry a signature of one of the
// keyring's keys over its first two segments, checked here with
// crypto/ecdsa directly.
func FuzzVerify(f *testing.F) {
	fx := newFixture(f, ES256)
	good := fx.issue()
	h, p, s := segments(f, good)
	attackerHS := hs256(`{"alg":"HS256","kid":"`+fx.current.ID+`","typ":"at+jwt"}`, fx.claimsJSON(admin), fx.current.PublicKey)
	for _, seed := range []string{
		good,
		fx.signCurrent(fx.headerJSON(), fx.claimsJSON(map[string]string{"roles": `[]`, "scope": `"a b"`})),
		fx.signCurrent(fx.headerJSON(), fx.claimsJSON(map[string]string{"exp": itoa(fx.now.Add(-time.Hour).Unix())})),
		fx.signCurrent(fx.headerJSON(), fx.claimsJSON(map[string]string{"auth_time": itoa(fx.now.Add(-time.Hour).Unix())})),
		fx.signCurrent(fx.headerJSON(), fx.claimsJSON(map[string]string{"auth_time": "1.5"})),
		fx.signCurrent(fx.headerJSON(), fx.claimsJSON(nil, `"SUB":"admin-1"`)),
		fx.signCurrent(`{"alg":"ES256","jku":"http://127.0.0.1:1/","kid":"`+fx.current.ID+`","typ":"at+jwt"}`, fx.claimsJSON(nil)),
		h + "." + p + ".", h + "." + p, h + "." + p + "." + s + "." + s + "." + s,
		b64.EncodeToString([]byte(`{"alg":"none"}`)) + "." + p + ".",
		attackerHS,
		h + "." + p + "." + b64.EncodeToString(make([]byte, 64)),
		strings.Repeat(".", 1000),
		"", "a.b.c", "e30.e30.e30",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := fx.ver.Verify(tok)
		if err != nil {
			if c != nil {
				t.Fatal("claims returned with an error")
			}
			return
		}
		parts := strings.Split(tok, ".")
		if len(parts) != 3 {
			t.Fatalf("accepted %d segments", len(parts))
		}
		hdr, err := b64.DecodeString(parts[0])
		if err != nil {
			t.Fatal(err)
		}
		var head struct{ Kid string }
		if err := json.Unmarshal(hdr, &head); err != nil {
			t.Fatal(err)
		}
		var signer []byte
		for _, k := range fx.keys {
			if k.ID == head.Kid {
				signer = k.PublicKey
			}
		}
		if signer == nil {
			t.Fatalf("accepted kid %q that is not in the keyring", head.Kid)
		}
		pub, err := x509.ParsePKIXPublicKey(signer)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := b64.DecodeString(parts[2])
		if err != nil || len(sig) != 64 {
			t.Fatalf("accepted a signature of %d bytes (%v)", len(sig), err)
		}
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(pub.(*ecdsa.PublicKey), sum[:], r, s) {
			t.Fatal("accepted a token whose signature does not verify")
		}
		if c.Subject == "" || c.ID == "" || c.ExpiresAt == nil {
			t.Fatalf("accepted incomplete claims %+v", c)
		}
	})
}
