package token

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/jwttest"
)

func TestRoundTrip(t *testing.T) {
	for _, alg := range []string{ES256, EdDSA, RS256} {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t, alg)
			authTime := testNow.Add(-90*time.Minute + 700*time.Millisecond)
			tok, exp, err := f.iss.Issue(Grant{UserID: "user-a", SessionID: "sess-a", Roles: []string{"user", "admin"}, Scope: "read write",
				AuthTime: authTime, EmailVerified: true})
			if err != nil {
				t.Fatal(err)
			}
			if !exp.Equal(testNow.Add(15 * time.Minute)) {
				t.Fatalf("expiresAt %v", exp)
			}
			c := wantValid(t, f.ver, tok)
			if c.Subject != "user-a" || c.SessionID != "sess-a" || c.Scope != "read write" ||
				!slices.Equal(c.Roles, []string{"user", "admin"}) || c.Issuer != testIssuer ||
				!slices.Equal([]string(c.Audience), []string{testAudience}) || !c.ExpiresAt.Equal(exp) ||
				c.AuthTime == nil || !c.AuthTime.Equal(testNow.Add(-90*time.Minute)) {
				t.Fatalf("claims %+v", c)
			}
			h, p, _ := jwttest.Segments(t, tok)
			if h != canonicalHeader(alg, f.current.ID) {
				t.Fatalf("header segment %s is not the canonical one the verifier recognises", h)
			}
			var hdr map[string]any
			mustJSON(t, h, &hdr)
			if len(hdr) != 3 || hdr["alg"] != alg || hdr["typ"] != "at+jwt" || hdr["kid"] != f.current.ID {
				t.Fatalf("header %v", hdr)
			}
			var claims map[string]any
			mustJSON(t, p, &claims)
			want := []string{"aud", "auth_time", "email_verified", "exp", "iat", "iss", "jti", "nbf", "roles", "scope", "sid", "sub"}
			got := make([]string, 0, len(claims))
			for k := range claims {
				got = append(got, k)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("claims %v, want exactly %v (no personal data)", got, want)
			}
			if claims["aud"] != testAudience {
				t.Fatalf("aud %v is not a single string", claims["aud"])
			}
			if claims["email_verified"] != true || !c.EmailVerified {
				t.Fatalf("email_verified %v, want true", claims["email_verified"])
			}
			if claims["auth_time"] != float64(testNow.Add(-90*time.Minute).Unix()) {
				t.Fatalf("auth_time %v is not the whole second of the sign-in", claims["auth_time"])
			}
		})
	}
}

func TestIssueShape(t *testing.T) {
	f := newFixture(t, ES256)
	tok, _, err := f.iss.Issue(Grant{UserID: "user-a"})
	if err != nil {
		t.Fatal(err)
	}
	_, p, _ := jwttest.Segments(t, tok)
	raw, _ := b64.DecodeString(p)
	if !strings.Contains(string(raw), `"roles":[]`) || strings.Contains(string(raw), `"sid"`) ||
		strings.Contains(string(raw), `"scope"`) || strings.Contains(string(raw), `"auth_time"`) {
		t.Fatalf("claims %s", raw)
	}
	c := wantValid(t, f.ver, tok)
	if c.Roles == nil || len(c.Roles) != 0 || c.AuthTime != nil {
		t.Fatalf("roles %#v", c.Roles)
	}
	jtis := map[string]bool{}
	for range 50 {
		c := wantValid(t, f.ver, f.issue())
		if len(c.ID) != 22 || jtis[c.ID] {
			t.Fatalf("jti %q short or repeated", c.ID)
		}
		jtis[c.ID] = true
	}
	if _, _, err := f.iss.Issue(Grant{SessionID: "s"}); err == nil {
		t.Fatal("issued a token without a subject")
	}
	for _, at := range []time.Time{time.Unix(-1, 0), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if _, _, err := f.iss.Issue(Grant{UserID: "user-a", AuthTime: at}); err == nil {
			t.Fatalf("issued auth_time %v, which no verifier would read back", at)
		}
	}
}

// auth_time is read as strictly as exp: a bare non-negative integer of
// sensible size, never a case variant or a duplicate.
func TestAuthTimeClaim(t *testing.T) {
	f := newFixture(t, ES256)
	h := f.headerJSON()
	signIn := f.now.Add(-time.Hour).Unix()
	c := wantValid(t, f.ver, f.signCurrent(h, f.claimsJSON(map[string]string{"auth_time": itoa(signIn)})))
	if c.AuthTime == nil || c.AuthTime.Unix() != signIn {
		t.Fatalf("auth_time read as %v, want %d", c.AuthTime, signIn)
	}
	if c := wantValid(t, f.ver, f.signCurrent(h, f.claimsJSON(map[string]string{"auth_time": "0"}))); c.AuthTime == nil || c.AuthTime.Unix() != 0 {
		t.Fatalf("auth_time 0 read as %v", c.AuthTime)
	}
	for _, bad := range []string{`"` + itoa(signIn) + `"`, itoa(signIn) + ".5", itoa(signIn) + ".0", "-1", "1e9", "1E10", "null",
		"true", "[]", "{}", "99999999999999999999", "253402300800", "0x7fffffff", "01893456000"} {
		wantInvalid(t, f.ver, f.signCurrent(h, f.claimsJSON(map[string]string{"auth_time": bad})))
	}
	for _, extra := range []string{`"AUTH_TIME":1`, `"Auth_time":1`, `"auth_time":1`} {
		wantInvalid(t, f.ver, f.signCurrent(h, f.claimsJSON(map[string]string{"auth_time": itoa(signIn)}, extra)))
	}
}

func mustJSON(t *testing.T, seg string, v any) {
	t.Helper()
	raw, err := b64.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatal(err)
	}
}

func TestRetiredAndPrunedKeys(t *testing.T) {
	f := newFixture(t, ES256)
	tok := f.issue()
	// Rotate by hand: current → retired, next → current.
	for i := range f.keys {
		switch f.keys[i].State {
		case latchkey.KeyCurrent:
			f.keys[i].State = latchkey.KeyRetired
		case latchkey.KeyNext:
			f.keys[i].State = latchkey.KeyCurrent
		}
	}
	old := f.current.ID
	f.rebuild()
	if f.kr.CurrentKID() == old {
		t.Fatal("rotation did not change the signing key")
	}
	wantValid(t, f.ver, tok) // retired keys still verify
	h, _, _ := jwttest.Segments(t, f.issue())
	var hdr map[string]any
	mustJSON(t, h, &hdr)
	if hdr["kid"] != f.kr.CurrentKID() {
		t.Fatalf("new token has kid %v", hdr["kid"])
	}
	// Prune the retired key that signed tok.
	f.keys = slices.DeleteFunc(f.keys, func(k latchkey.SigningKey) bool { return k.ID == old })
	f.rebuild()
	wantInvalid(t, f.ver, tok)
}

// latchkey's own endpoints honour exp to the second: a token is refused
// from the second its exp names.
func TestExpiry(t *testing.T) {
	f := newFixture(t, ES256)
	tok := f.issue()
	exp := f.now.Add(15 * time.Minute)
	f.now = exp.Add(-time.Second)
	wantValid(t, f.ver, tok)
	for _, after := range []time.Duration{0, time.Second, ClockSkew} {
		f.now = exp.Add(after)
		_, err := f.ver.Verify(tok)
		if !latchkey.IsCode(err, latchkey.ETokenExpired) || latchkey.ErrorMessage(err) != "The access token has expired." {
			t.Fatalf("exp+%v: got %v, want token_expired", after, err)
		}
	}
}

// A Verifier given a leeway accepts a token that long after its exp, on
// either side of the ClockSkew the parser is built with.
func TestExpiryWithLeeway(t *testing.T) {
	f := newFixture(t, ES256)
	tok := f.issue()
	exp := f.now.Add(15 * time.Minute)
	clock := func() time.Time { return f.now }
	for _, leeway := range []time.Duration{5 * time.Second, ClockSkew, 2 * time.Minute} {
		v := NewVerifier(f.keyring, testIssuer, testAudience, leeway, clock)
		f.now = exp.Add(leeway - time.Second)
		wantValid(t, v, tok)
		f.now = exp.Add(leeway)
		if _, err := v.Verify(tok); !latchkey.IsCode(err, latchkey.ETokenExpired) {
			t.Fatalf("leeway %v, at exp+leeway: %v, want token_expired", leeway, err)
		}
	}
	// A forged token just past exp is invalid, never merely expired, even
	// where the leeway-free check is the one that notices the expiry.
	f.now = exp.Add(time.Second)
	forged := tok[:len(tok)-4] + "AAAA"
	wantInvalid(t, f.ver, forged)
}

// A genuine token from another spelling of the issuer's URL is refused
// with the client's one message; the operator's detail names both issuers.
func TestIssuerMismatchNamesBothForOperators(t *testing.T) {
	f := newFixture(t, ES256)
	const other = "http://localhost:8080"
	tok := f.signCurrent(f.headerJSON(), f.claimsJSON(map[string]string{"iss": `"` + other + `"`}))
	_, err := f.ver.Verify(tok)
	wantInvalid(t, f.ver, tok)
	detail := err.Error()
	if !strings.Contains(detail, `"`+other+`"`) || !strings.Contains(detail, `"`+testIssuer+`"`) {
		t.Fatalf("operator detail %q does not name both issuers", detail)
	}
	if msg := latchkey.ErrorMessage(err); strings.Contains(msg, other) || strings.Contains(msg, testIssuer) {
		t.Fatalf("client message %q carries the detail", msg)
	}
	if strings.Contains(detail, tok) || strings.Contains(detail, strings.Split(tok, ".")[2]) {
		t.Fatal("the error carries the token")
	}
}
