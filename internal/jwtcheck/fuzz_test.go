package jwtcheck

// The fuzz and differential suite of the token-checking core: arbitrary
// tokens against both configurations, the claims reader and the header
// reader against encoding/json.

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/json"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/internal/jwttest"
)

// FuzzCheck feeds arbitrary strings to both configurations of the core.
// Neither may panic; whatever one accepts must really carry a signature of
// the issuer's key over its first two segments (checked here with
// crypto/ecdsa directly) and complete claims; and whatever latchkey's own,
// stricter configuration accepts, the verify package's accepts too, with
// the same claims.
func FuzzCheck(f *testing.F) {
	now := t0
	es := jwttest.NewKey(f, "ES256", "k-es")
	keys := keysOf(es)
	own, lib := latchkeyChecker(&now), verifyChecker(&now)
	hdr := jwttest.JSON(es.Header())
	sign := func(h string, edit func(map[string]any), extra string) string {
		cl := claims()
		if edit != nil {
			edit(cl)
		}
		body := jwttest.JSON(cl)
		if extra != "" {
			body = strings.TrimSuffix(body, "}") + "," + extra + "}"
		}
		return jwttest.Sign(f, es.Private, h, body)
	}
	good := sign(hdr, nil, "")
	h, p, s := jwttest.Segments(f, good)
	attackerHS := jwttest.HMAC(`{"alg":"HS256","kid":"k-es","typ":"at+jwt"}`, jwttest.JSON(claims()), []byte(jwttest.JSON(es.JWK())))
	for _, seed := range []string{
		good,
		sign(hdr, func(c map[string]any) { c["roles"], c["scope"] = []string{}, "a b" }, ""),
		sign(hdr, func(c map[string]any) { c["exp"] = t0.Add(-time.Hour).Unix() }, ""),
		sign(hdr, func(c map[string]any) { c["exp"] = t0.Add(-10 * time.Second).Unix() }, ""),
		sign(hdr, func(c map[string]any) { c["aud"] = []string{"x", testAudience} }, ""),
		sign(hdr, func(c map[string]any) { delete(c, "jti"); delete(c, "iat") }, ""),
		sign(hdr, func(c map[string]any) { c["auth_time"] = 1.5 }, ""),
		sign(hdr, func(c map[string]any) { c["iss"] = "http://localhost:8080" }, ""),
		sign(hdr, nil, `"SUB":"admin-1"`),
		sign(`{"alg":"ES256","jku":"http://127.0.0.1:1/","kid":"k-es","typ":"at+jwt"}`, nil, ""),
		h + "." + p + ".", h + "." + p, h + "." + p + "." + s + "." + s + "." + s,
		jwttest.Seg(`{"alg":"none"}`) + "." + p + ".",
		attackerHS,
		h + "." + p + "." + jwttest.B64.EncodeToString(make([]byte, 64)),
		strings.Repeat(".", 1000),
		"", "a.b.c", "e30.e30.e30",
	} {
		f.Add(seed)
	}
	pub := es.Private.Public().(*ecdsa.PublicKey)
	f.Fuzz(func(t *testing.T, tok string) {
		strict, errStrict := own.Check(tok, keys)
		lenient, errLenient := lib.Check(tok, keys)
		if errStrict == nil && (errLenient != nil || !reflect.DeepEqual(strict, lenient)) {
			t.Fatalf("latchkey's configuration accepts %q, the verify package's says %v", tok, errLenient)
		}
		if errLenient != nil {
			if lenient != nil {
				t.Fatal("claims returned with an error")
			}
			return
		}
		parts := strings.Split(tok, ".")
		if len(parts) != 3 {
			t.Fatalf("accepted %d segments", len(parts))
		}
		sig, err := jwttest.B64.DecodeString(parts[2])
		if err != nil || len(sig) != 64 {
			t.Fatalf("accepted a signature of %d bytes (%v)", len(sig), err)
		}
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		if !ecdsa.Verify(pub, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			t.Fatal("accepted a token whose signature does not verify")
		}
		if lenient.Subject == "" || lenient.Issuer != testIssuer || lenient.ExpiresAt == nil {
			t.Fatalf("accepted incomplete claims %+v", lenient)
		}
	})
}

// FuzzClaims holds the strict claims reader to encoding/json on every
// claim it accepts.
func FuzzClaims(f *testing.F) {
	for _, s := range []string{
		`{"iss":"http://127.0.0.1:8080","sub":"u","aud":"latchkey","exp":1800000900,"iat":1800000000,"nbf":1800000000,"jti":"j","sid":"s","roles":["user"],"scope":"a b"}`,
		`{"aud":["a","b"],"roles":[]}`, `{"exp":1.5}`, `{"exp":-1}`, `{"exp":1e20}`, `{"exp":null}`, `{"sub":1}`,
		`{"sub":"a","SUB":"b"}`, `{"Sub":"b"}`, `{"roles":["a",1]}`, `{"aud":[]}`, `{"x":{"sub":"nested"}}`,
		`{"auth_time":1800000000}`, `{"auth_time":"1"}`, `{"auth_time":-1}`, `{"AUTH_TIME":1}`, `{"ſub":"x"}`,
		`{"roles":["a",null]}`, `{"sub":"\u0061\u00e9"}`,
		`{"email_verified":true}`, `{"email_verified":false}`, `{"email_verified":"true"}`, `{"email_verified":1}`,
		`{"email_verified":null}`, `{"EMAIL_VERIFIED":true}`,
		`{"amr":["pwd","otp","mfa"],"acr":"aal2"}`, `{"amr":"pwd"}`, `{"amr":[1]}`, `{"acr":2}`, `{"AMR":["pwd"]}`, `{"Acr":"aal2"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var c Claims
		if err := json.Unmarshal(data, &c); err != nil {
			return
		}
		var want struct {
			Iss      string   `json:"iss"`
			Sub      string   `json:"sub"`
			Jti      string   `json:"jti"`
			Sid      string   `json:"sid"`
			Scope    string   `json:"scope"`
			Roles    []string `json:"roles"`
			Exp      *int64   `json:"exp"`
			Iat      *int64   `json:"iat"`
			Nbf      *int64   `json:"nbf"`
			AuthTime *int64   `json:"auth_time"`
			Verified *bool    `json:"email_verified"`
			AMR      []string `json:"amr"`
			ACR      string   `json:"acr"`
		}
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", data, err)
		}
		if want.Iss != c.Issuer || want.Sub != c.Subject || want.Jti != c.ID || want.Sid != c.SessionID ||
			want.Scope != c.Scope || !slices.Equal(want.Roles, c.Roles) || (want.Verified != nil && *want.Verified != c.EmailVerified) ||
			(want.Verified == nil && c.EmailVerified) || !slices.Equal(want.AMR, c.AMR) || want.ACR != c.ACR {
			t.Fatalf("%q: read %+v, encoding/json reads %+v", data, c, want)
		}
		same := func(want *int64, got *jwt.NumericDate) bool {
			return (want == nil) == (got == nil) && (want == nil || *want == got.Unix())
		}
		if !same(want.Exp, c.ExpiresAt) || !same(want.Iat, c.IssuedAt) || !same(want.Nbf, c.NotBefore) || !same(want.AuthTime, c.AuthTime) {
			t.Fatalf("%q: a time disagrees with encoding/json", data)
		}
	})
}

// FuzzHeader holds the header reader to encoding/json: whatever it
// accepts holds exactly alg, kid and typ, as encoding/json reads them.
func FuzzHeader(f *testing.F) {
	for _, s := range []string{
		`{"alg":"ES256","kid":"k","typ":"at+jwt"}`, `{"alg":"ES256","kid":"k","typ":"application/at+jwt"}`,
		`{"alg":"ES256","kid":"k","typ":"at+jwt","cty":"JWT"}`, `{"alg":"ES256","ALG":"HS256","kid":"k","typ":"at+jwt"}`,
		`{"alg":"ES256","kid":"k","typ":"at+jwt","jku":"http://x/"}`, `{"alg":"ES256","kid":1,"typ":"at+jwt"}`,
		`{"alg":"ES256","kid":"\u006b","typ":"at+jwt"}`, `{"alg":"none","kid":"k"}`,
	} {
		f.Add(jwttest.Seg(s))
	}
	f.Fuzz(func(t *testing.T, seg string) {
		h, err := parseHeader(seg)
		if err != nil {
			return
		}
		raw, err := jwttest.B64.DecodeString(seg)
		if err != nil {
			t.Fatalf("accepted %q, which is not base64url: %v", seg, err)
		}
		var want map[string]any
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", raw, err)
		}
		if len(want) != 3 || want["alg"] != h.alg || want["kid"] != h.kid || want["typ"] != h.typ {
			t.Fatalf("%q: read %+v, encoding/json reads %v", raw, h, want)
		}
	})
}
