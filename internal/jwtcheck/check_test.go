package jwtcheck

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/internal/jwttest"
)

const (
	testIssuer   = "http://127.0.0.1:8080"
	testAudience = "latchkey"
)

var t0 = time.Unix(1_800_000_000, 0)

// testKeys are the keys of a test issuer, found by kid only.
type testKeys map[string]Key

func (testKeys) KeyForHeader(string) (Key, bool) { return Key{}, false }

func (k testKeys) KeyForKID(kid string) (Key, error) {
	key, ok := k[kid]
	if !ok {
		return Key{}, errUnknownKID
	}
	return key, nil
}

var errUnknownKID = errors.New("unknown kid")

func keysOf(ks ...*jwttest.Key) testKeys {
	out := testKeys{}
	for _, k := range ks {
		out[k.KID] = Key{Alg: k.Alg, Public: k.Private.Public()}
	}
	return out
}

// The two ways the core is configured: latchkey's own verifier (no leeway
// on exp, ClockSkew on nbf and iat, aud one string, jti and iat required)
// and the verify package's (one leeway, aud arrays, jti and iat optional).
func latchkeyChecker(now *time.Time) *Checker {
	return New(Config{Issuer: testIssuer, Audience: testAudience, Skew: 30 * time.Second,
		Clock: func() time.Time { return *now }, RequireIDAndIssuedAt: true})
}

func verifyChecker(now *time.Time) *Checker {
	return New(Config{Issuer: testIssuer, Audience: testAudience, Leeway: 30 * time.Second, Skew: 30 * time.Second,
		Clock: func() time.Time { return *now }, AudienceArray: true})
}

func claims() map[string]any {
	return map[string]any{
		"iss": testIssuer, "sub": "user-1", "aud": testAudience,
		"exp": t0.Add(15 * time.Minute).Unix(), "iat": t0.Unix(), "nbf": t0.Unix(),
		"jti": "jti-1", "sid": "sess-1", "roles": []string{"user"}, "auth_time": t0.Add(-time.Hour).Unix(),
	}
}

func TestCheck(t *testing.T) {
	now := t0
	es, ed, rs := jwttest.NewKey(t, "ES256", "k-es"), jwttest.NewKey(t, "EdDSA", "k-ed"), jwttest.NewKey(t, "RS256", "k-rs")
	keys := keysOf(es, ed, rs)
	for _, c := range []*Checker{latchkeyChecker(&now), verifyChecker(&now)} {
		for _, k := range []*jwttest.Key{es, ed, rs} {
			got, err := c.Check(k.Mint(t, k.Header(), claims()), keys)
			if err != nil {
				t.Fatalf("%s: %v", k.Alg, err)
			}
			if got.Subject != "user-1" || got.SessionID != "sess-1" || !slices.Equal(got.Roles, []string{"user"}) ||
				got.AuthTime == nil || !got.AuthTime.Equal(t0.Add(-time.Hour)) || !got.ExpiresAt.Equal(t0.Add(15*time.Minute)) {
				t.Fatalf("%s: claims %+v", k.Alg, got)
			}
		}
	}
}

// Where the two configurations part, they part as configured, and nowhere
// else.
func TestConfigurations(t *testing.T) {
	now := t0
	es := jwttest.NewKey(t, "ES256", "k-es")
	keys := keysOf(es)
	own, lib := latchkeyChecker(&now), verifyChecker(&now)
	mint := func(edit func(map[string]any)) string {
		cl := claims()
		edit(cl)
		return es.Mint(t, es.Header(), cl)
	}
	for name, tc := range map[string]struct {
		tok            string
		ownOK, libOK   bool
		ownExp, libExp bool
	}{
		"aud array":        {tok: mint(func(c map[string]any) { c["aud"] = []string{"other", testAudience} }), libOK: true},
		"aud one in array": {tok: mint(func(c map[string]any) { c["aud"] = []string{testAudience} }), libOK: true},
		"no jti":           {tok: mint(func(c map[string]any) { delete(c, "jti") }), libOK: true},
		"no iat":           {tok: mint(func(c map[string]any) { delete(c, "iat") }), libOK: true},
		"exp now":          {tok: mint(func(c map[string]any) { c["exp"] = t0.Unix() }), ownExp: true, libOK: true},
		"exp 29 s ago":     {tok: mint(func(c map[string]any) { c["exp"] = t0.Add(-29 * time.Second).Unix() }), ownExp: true, libOK: true},
		"exp 30 s ago":     {tok: mint(func(c map[string]any) { c["exp"] = t0.Add(-30 * time.Second).Unix() }), ownExp: true, libExp: true},
		"nbf in 29 s":      {tok: mint(func(c map[string]any) { c["nbf"] = t0.Add(29 * time.Second).Unix() }), ownOK: true, libOK: true},
		"nbf in 31 s":      {tok: mint(func(c map[string]any) { c["nbf"] = t0.Add(31 * time.Second).Unix() })},
		"iat in 31 s":      {tok: mint(func(c map[string]any) { c["iat"] = t0.Add(31 * time.Second).Unix() })},
		"no sub":           {tok: mint(func(c map[string]any) { delete(c, "sub") })},
		"no exp":           {tok: mint(func(c map[string]any) { delete(c, "exp") })},
		"expired, no sub":  {tok: mint(func(c map[string]any) { c["exp"] = t0.Add(-time.Hour).Unix(); delete(c, "sub") })},
		"header cty": {tok: jwttest.Sign(t, es.Private, `{"alg":"ES256","cty":"JWT","kid":"k-es","typ":"at+jwt"}`,
			jwttest.JSON(claims()))},
		"nested duplicate": {tok: mint(func(c map[string]any) { c["x"] = map[string]any{"a": 1, "A": 2} })},
		"null role":        {tok: mint(func(c map[string]any) { c["roles"] = []any{"user", nil} })},
	} {
		for _, side := range []struct {
			c          *Checker
			ok, expiry bool
		}{{own, tc.ownOK, tc.ownExp}, {lib, tc.libOK, tc.libExp}} {
			_, err := side.c.Check(tc.tok, keys)
			if (err == nil) != side.ok || errors.Is(err, ErrExpired) != side.expiry {
				t.Errorf("%s (leeway %v): err = %v, want ok %v, expired %v", name, side.c.cfg.Leeway, err, side.ok, side.expiry)
			}
		}
	}
}

// A genuine token whose iss is another spelling of the issuer's URL is
// refused, and the error names both values for operators.
func TestIssuerMismatchNamesBoth(t *testing.T) {
	now := t0
	es := jwttest.NewKey(t, "ES256", "k-es")
	for _, c := range []*Checker{latchkeyChecker(&now), verifyChecker(&now)} {
		for _, expired := range []bool{false, true} {
			cl := claims()
			cl["iss"] = "http://localhost:8080"
			if expired {
				cl["exp"] = t0.Add(-time.Hour).Unix()
			}
			_, err := c.Check(es.Mint(t, es.Header(), cl), keysOf(es))
			var iss *IssuerError
			if !errors.As(err, &iss) || iss.Received != "http://localhost:8080" || iss.Expected != testIssuer {
				t.Fatalf("err = %v, want an IssuerError naming both issuers", err)
			}
			if !errors.Is(err, jwt.ErrTokenInvalidIssuer) || errors.Is(err, ErrExpired) {
				t.Fatalf("err = %v: invalid issuer, never merely expired", err)
			}
			if msg := err.Error(); !strings.Contains(msg, `"http://localhost:8080"`) || !strings.Contains(msg, `"`+testIssuer+`"`) {
				t.Fatalf("message %q does not name both issuers", msg)
			}
		}
		cl := claims()
		delete(cl, "iss")
		var iss *IssuerError
		if _, err := c.Check(es.Mint(t, es.Header(), cl), keysOf(es)); !errors.As(err, &iss) || iss.Received != "" {
			t.Fatalf("no iss: err = %v", err)
		}
	}
	// A forged token never gets as far as its claims: no issuer is named.
	attacker := jwttest.NewKey(t, "ES256", "k-es")
	cl := claims()
	cl["iss"] = "http://localhost:8080"
	var iss *IssuerError
	if _, err := latchkeyChecker(&now).Check(attacker.Mint(t, attacker.Header(), cl), keysOf(es)); err == nil || errors.As(err, &iss) {
		t.Fatalf("forged token: err = %v", err)
	}
}

// An error of the key source comes back unchanged (verify's "issuer
// unreachable" must stay a 503), and no key source is consulted for a
// token refused before its header is read.
func TestKeysErrorUnchanged(t *testing.T) {
	now := t0
	es := jwttest.NewKey(t, "ES256", "k-es")
	tok := es.Mint(t, es.Header(), claims())
	if _, err := latchkeyChecker(&now).Check(tok, testKeys{}); err != errUnknownKID {
		t.Fatalf("err = %v, want the key source's own error", err)
	}
	if _, err := latchkeyChecker(&now).Check(tok+".x", panicKeys{}); err == nil {
		t.Fatal("four segments accepted")
	}
}

type panicKeys struct{}

func (panicKeys) KeyForHeader(string) (Key, bool) { panic("key source consulted") }
func (panicKeys) KeyForKID(string) (Key, error)   { panic("key source consulted") }

// TestEmailVerifiedClaim: the claim is a JSON boolean or the claims are
// refused; absent, it reads as false.
func TestEmailVerifiedClaim(t *testing.T) {
	for in, want := range map[string]bool{`{"email_verified":true}`: true, `{"email_verified":false}`: false, `{}`: false} {
		var c Claims
		if err := json.Unmarshal([]byte(in), &c); err != nil || c.EmailVerified != want {
			t.Errorf("%s: %v, %v; want %v", in, c.EmailVerified, err, want)
		}
	}
	for _, in := range []string{`{"email_verified":"true"}`, `{"email_verified":1}`, `{"email_verified":null}`, `{"Email_Verified":true}`} {
		var c Claims
		if err := json.Unmarshal([]byte(in), &c); err == nil {
			t.Errorf("%s: accepted", in)
		}
	}
}

// TestAssuranceClaims: amr is an array of strings and acr a string, or the
// claims are refused (MF-06: a verifier reads what latchkey wrote, nothing
// a second parser could read differently).
func TestAssuranceClaims(t *testing.T) {
	var c Claims
	if err := json.Unmarshal([]byte(`{"amr":["pwd","otp","mfa"],"acr":"aal2"}`), &c); err != nil ||
		!slices.Equal(c.AMR, []string{"pwd", "otp", "mfa"}) || c.ACR != "aal2" {
		t.Errorf("read %v %q, %v", c.AMR, c.ACR, err)
	}
	for _, in := range []string{`{"amr":"pwd"}`, `{"amr":null}`, `{"amr":[1]}`, `{"acr":2}`, `{"acr":null}`, `{"AMR":["mfa"]}`, `{"Acr":"aal2"}`} {
		var c Claims
		if err := json.Unmarshal([]byte(in), &c); err == nil {
			t.Errorf("%s: accepted", in)
		}
	}
	out, err := json.Marshal(Claims{AMR: []string{"pwd"}, ACR: "aal1"})
	if err != nil || !strings.Contains(string(out), `"amr":["pwd"],"acr":"aal1"`) {
		t.Errorf("wrote %s, %v", out, err)
	}
	if out, _ := json.Marshal(Claims{}); strings.Contains(string(out), "amr") || strings.Contains(string(out), "acr") {
		t.Errorf("empty amr/acr written: %s", out)
	}
}
