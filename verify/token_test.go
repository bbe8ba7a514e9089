package verify_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/jwttest"
	"github.com/latchkey/latchkey/internal/testenv"
	"github.com/latchkey/latchkey/verify"
)

func TestValidTokens(t *testing.T) {
	es, ed, rs := jwttest.NewKey(t, "ES256", "k-es"), jwttest.NewKey(t, "EdDSA", "k-ed"), jwttest.NewKey(t, "RS256", "k-rs")
	is := newIssuer(t, es, ed, rs)
	c := testenv.NewClock(t0)
	v := newVerifier(t, is, c, nil)

	for _, k := range []*jwttest.Key{es, ed, rs} {
		t.Run(k.Alg, func(t *testing.T) {
			cl := claims(is.URL, t0)
			cl["scope"] = "read write"
			cl["auth_time"] = t0.Add(-time.Hour).Unix()
			id, err := v.Authenticate(bearer(k.Mint(t, k.Header(), cl)))
			if err != nil {
				t.Fatal(err)
			}
			if id.Kind != verify.KindAccessToken || id.UserID != "user-1" || id.SessionID != "sess-1" ||
				!id.HasRole("user") || id.HasRole("admin") || !id.HasScope("write") || id.HasScope("admin") ||
				!id.ExpiresAt.Equal(t0.Add(15*time.Minute)) || !id.AuthTime.Equal(t0.Add(-time.Hour)) {
				t.Fatalf("identity = %+v", id)
			}
		})
	}

	variants := map[string]func(h, cl map[string]any){
		"typ application/at+jwt": func(h, _ map[string]any) { h["typ"] = "application/at+jwt" },
		"aud array":              func(_, cl map[string]any) { cl["aud"] = []string{"other", "latchkey"} },
		"expired 1 s ago":        func(_, cl map[string]any) { cl["exp"] = t0.Add(-time.Second).Unix() },
		"expired within leeway":  func(_, cl map[string]any) { cl["exp"] = t0.Add(-29 * time.Second).Unix() },
		"nbf within leeway":      func(_, cl map[string]any) { cl["nbf"] = t0.Add(29 * time.Second).Unix() },
		"no nbf, no iat":         func(_, cl map[string]any) { delete(cl, "nbf"); delete(cl, "iat") },
		"unscoped":               func(_, cl map[string]any) { delete(cl, "scope") },
	}
	for name, edit := range variants {
		t.Run(name, func(t *testing.T) {
			h, cl := es.Header(), claims(is.URL, t0)
			edit(h, cl)
			id, err := v.Authenticate(bearer(es.Mint(t, h, cl)))
			if err != nil {
				t.Fatal(err)
			}
			if name == "unscoped" && (len(id.Scopes) != 0 || !id.HasScope("anything")) {
				t.Fatalf("unscoped token: %+v", id)
			}
			if !id.AuthTime.IsZero() {
				t.Fatalf("a token without auth_time: AuthTime %v", id.AuthTime)
			}
		})
	}
	if n := is.jwksFetch.Load(); n != 1 {
		t.Errorf("JWKS fetched %d times, want 1", n)
	}
}

// TestRefusedTokens runs the access-token attacks of docs/threat-model.md
// that concern a verifier. Every forged token claims sub "admin".
func TestRefusedTokens(t *testing.T) {
	es, rs := jwttest.NewKey(t, "ES256", "k-es"), jwttest.NewKey(t, "RS256", "k-rs")
	ed := jwttest.NewKey(t, "EdDSA", "k-ed")
	is := newIssuer(t, es, rs, ed)
	c := testenv.NewClock(t0)
	v := newVerifier(t, is, c, nil)

	forged := func() map[string]any { cl := claims(is.URL, t0); cl["sub"] = "admin"; return cl }
	good := es.Mint(t, es.Header(), forged())
	parts := strings.Split(good, ".")
	hs := func(key []byte, hdr map[string]any) string {
		return jwttest.HMAC(jwttest.JSON(hdr), jwttest.JSON(forged()), key)
	}
	hsHeader := func(kid any) map[string]any { return map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": kid} }
	withSig := func(sig []byte) string {
		return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	edit := func(k *jwttest.Key, fn func(h, cl map[string]any)) string {
		h, cl := k.Header(), forged()
		fn(h, cl)
		return k.Mint(t, h, cl)
	}
	rawClaims := func(body string) string {
		return jwttest.Sign(t, es.Private, jwttest.JSON(es.Header()), body)
	}
	rawHeader := func(hdr string) string {
		return jwttest.Sign(t, es.Private, hdr, jwttest.JSON(forged()))
	}
	tpl := jwttest.JSON(forged())

	esPub := es.Private.Public()
	spki, _ := x509.MarshalPKIXPublicKey(esPub)
	rsSPKI, _ := x509.MarshalPKIXPublicKey(rs.Private.Public())
	attacker := jwttest.NewKey(t, "ES256", "k-es")
	n := elliptic.P256().Params().N.FillBytes(make([]byte, 32))
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	der, err := ecdsa.SignASN1(rand.Reader, es.Private.(*ecdsa.PrivateKey), digest[:])
	if err != nil {
		t.Fatal(err)
	}
	realSig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	flipped := append([]byte(nil), realSig...)
	flipped[10] ^= 1

	cases := map[string]string{
		// JWT-01: alg none, every spelling, with and without a signature.
		"none":          jwttest.Seg(`{"alg":"none","typ":"at+jwt","kid":"k-es"}`) + "." + parts[1] + ".",
		"None":          jwttest.Seg(`{"alg":"None","typ":"at+jwt","kid":"k-es"}`) + "." + parts[1] + ".",
		"NONE":          jwttest.Seg(`{"alg":"NONE","typ":"at+jwt","kid":"k-es"}`) + "." + parts[1] + ".",
		"nOnE sig":      jwttest.Seg(`{"alg":"nOnE","typ":"at+jwt","kid":"k-es"}`) + "." + parts[1] + "." + parts[2],
		"none with sig": jwttest.Seg(`{"alg":"none","typ":"at+jwt","kid":"k-es"}`) + "." + parts[1] + "." + parts[2],
		// JWT-02, JWT-03
		"signature removed":  parts[0] + "." + parts[1] + ".",
		"two segments":       parts[0] + "." + parts[1],
		"payload modified":   parts[0] + "." + jwttest.Seg(strings.Replace(tpl, `"user"`, `"admin"`, 1)) + "." + parts[2],
		"signature bit flip": withSig(flipped),
		// JWT-04: HMAC with the public key as the secret, in every form.
		"HS256 PEM SPKI":      hs(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}), hsHeader("k-es")),
		"HS256 DER":           hs(spki, hsHeader("k-es")),
		"HS256 JWK":           hs([]byte(jwttest.JSON(es.JWK())), hsHeader("k-es")),
		"HS256 RSA PEM SPKI":  hs(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsSPKI}), hsHeader("k-rs")),
		"HS256 RSA PEM PKCS1": hs(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(rs.Private.Public().(*rsa.PublicKey))}), hsHeader("k-rs")),
		"HS256 RSA JWK":       hs([]byte(jwttest.JSON(rs.JWK())), hsHeader("k-rs")),
		"HS256 empty key":     hs([]byte{}, hsHeader("k-es")),
		"HS256 secret":        hs([]byte("secret"), hsHeader("k-es")),
		// JWT-07, JWT-09: key material in the header.
		"embedded jwk with kid": func() string {
			h := attacker.Header()
			h["jwk"] = attacker.JWK()
			return attacker.Mint(t, h, forged())
		}(),
		"embedded jwk no kid": func() string {
			h := attacker.Header()
			delete(h, "kid")
			h["jwk"] = attacker.JWK()
			return attacker.Mint(t, h, forged())
		}(),
		"x5c": edit(es, func(h, _ map[string]any) { h["x5c"] = []string{base64.StdEncoding.EncodeToString(spki)} }),
		// JWT-10, JWT-11, JWT-12: hostile kid values.
		"kid traversal":  hs([]byte{}, hsHeader("../../../../../../dev/null")),
		"kid /dev/null":  hs([]byte{0}, hsHeader("/dev/null")),
		"kid environ":    hs([]byte{}, hsHeader("/proc/self/environ")),
		"kid pipe":       hs([]byte{}, hsHeader("|sleep 10")),
		"kid subshell":   hs([]byte{}, hsHeader("$(sleep 10)")),
		"kid sqli union": hs([]byte("1"), hsHeader("x' UNION SELECT '1';--")),
		"kid sqli or":    hs([]byte("1"), hsHeader("' OR '1'='1")),
		"kid sqli sleep": hs([]byte("1"), hsHeader("1' AND pg_sleep(5)--")),
		"kid 10KB":       edit(es, func(h, _ map[string]any) { h["kid"] = strings.Repeat("k", 10_000) }),
		"kid number":     edit(es, func(h, _ map[string]any) { h["kid"] = 1 }),
		"kid array":      edit(es, func(h, _ map[string]any) { h["kid"] = []string{"k-es"} }),
		"kid object":     edit(es, func(h, _ map[string]any) { h["kid"] = map[string]string{"k": "k-es"} }),
		"kid null":       edit(es, func(h, _ map[string]any) { h["kid"] = nil }),
		"kid missing":    edit(es, func(h, _ map[string]any) { delete(h, "kid") }),
		"kid unknown":    edit(es, func(h, _ map[string]any) { h["kid"] = "nope" }),
		// JWT-13, JWT-14: ECDSA signature shapes.
		"ECDSA zero signature": withSig(make([]byte, 64)),
		"ECDSA r=s=n":          withSig(append(append([]byte(nil), n...), n...)),
		"ECDSA DER signature":  withSig(der),
		"ECDSA 63 bytes":       withSig(realSig[:63]),
		"ECDSA 65 bytes":       withSig(append(append([]byte(nil), realSig...), 0)),
		// JWT-15: alg not the key's.
		"alg hs256":       edit(es, func(h, _ map[string]any) { h["alg"] = "hs256" }),
		"alg Hs256":       edit(es, func(h, _ map[string]any) { h["alg"] = "Hs256" }),
		"alg ES256 sp":    edit(es, func(h, _ map[string]any) { h["alg"] = "ES256 " }),
		"alg ES256K":      edit(es, func(h, _ map[string]any) { h["alg"] = "ES256K" }),
		"alg PS256":       edit(es, func(h, _ map[string]any) { h["alg"] = "PS256" }),
		"alg ES384":       edit(es, func(h, _ map[string]any) { h["alg"] = "ES384" }),
		"alg EdDSA on ES": edit(es, func(h, _ map[string]any) { h["alg"] = "EdDSA" }),
		"alg RS256 on Ed": func() string {
			// An RS256 signature that names the Ed25519 key.
			h := rs.Header()
			h["kid"] = "k-ed"
			return rs.Mint(t, h, forged())
		}(),
		// JWT-16, JWT-17: time claims.
		"exp missing":  edit(es, func(_, cl map[string]any) { delete(cl, "exp") }),
		"exp string":   edit(es, func(_, cl map[string]any) { cl["exp"] = "2100000000" }),
		"exp float":    edit(es, func(_, cl map[string]any) { cl["exp"] = float64(t0.Unix()) + 600.5 }),
		"exp negative": edit(es, func(_, cl map[string]any) { cl["exp"] = -1 }),
		"exp 1e20":     edit(es, func(_, cl map[string]any) { cl["exp"] = 1e20 }),
		"exp null":     edit(es, func(_, cl map[string]any) { cl["exp"] = nil }),
		"nbf future":   edit(es, func(_, cl map[string]any) { cl["nbf"] = t0.Add(10 * time.Minute).Unix() }),
		"iat future":   edit(es, func(_, cl map[string]any) { cl["iat"] = t0.Add(10 * time.Minute).Unix() }),
		// auth_time is read as strictly as exp.
		"auth_time string":     edit(es, func(_, cl map[string]any) { cl["auth_time"] = "1800000000" }),
		"auth_time float":      edit(es, func(_, cl map[string]any) { cl["auth_time"] = float64(t0.Unix()) - 0.5 }),
		"auth_time negative":   edit(es, func(_, cl map[string]any) { cl["auth_time"] = -1 }),
		"auth_time 1e20":       edit(es, func(_, cl map[string]any) { cl["auth_time"] = 1e20 }),
		"auth_time year 10000": edit(es, func(_, cl map[string]any) { cl["auth_time"] = 253402300800 }),
		"auth_time null":       edit(es, func(_, cl map[string]any) { cl["auth_time"] = nil }),
		"lone AUTH_TIME":       edit(es, func(_, cl map[string]any) { cl["AUTH_TIME"] = t0.Unix() }),
		"duplicate auth_time":  rawClaims(strings.Replace(tpl, `"sub":"admin"`, `"sub":"admin","auth_time":1,"auth_time":2`, 1)),
		// JWT-18, JWT-19: issuer and audience.
		"iss missing":        edit(es, func(_, cl map[string]any) { delete(cl, "iss") }),
		"iss evil":           edit(es, func(_, cl map[string]any) { cl["iss"] = "https://evil.test" }),
		"iss trailing slash": edit(es, func(_, cl map[string]any) { cl["iss"] = is.URL + "/" }),
		"iss case":           edit(es, func(_, cl map[string]any) { cl["iss"] = strings.ToUpper(is.URL) }),
		"aud missing":        edit(es, func(_, cl map[string]any) { delete(cl, "aud") }),
		"aud other":          edit(es, func(_, cl map[string]any) { cl["aud"] = "other-api" }),
		"aud empty array":    edit(es, func(_, cl map[string]any) { cl["aud"] = []string{} }),
		"aud other array":    edit(es, func(_, cl map[string]any) { cl["aud"] = []string{"other-api"} }),
		"aud empty string":   edit(es, func(_, cl map[string]any) { cl["aud"] = "" }),
		// JWT-20: not an access token.
		"typ missing": edit(es, func(h, _ map[string]any) { delete(h, "typ") }),
		"typ JWT":     edit(es, func(h, _ map[string]any) { h["typ"] = "JWT" }),
		"typ number":  edit(es, func(h, _ map[string]any) { h["typ"] = 1 }),
		// JWT-21
		"crit custom": edit(es, func(h, _ map[string]any) { h["crit"] = []string{"x-custom"}; h["x-custom"] = 1 }),
		"crit exp":    edit(es, func(h, _ map[string]any) { h["crit"] = []string{"exp"} }),
		// JWT-22: duplicate and case-variant members.
		"duplicate sub":     rawClaims(strings.Replace(tpl, `"sub":"admin"`, `"sub":"user-1","sub":"admin"`, 1)),
		"case-variant sub":  rawClaims(strings.Replace(tpl, `"sub":"admin"`, `"sub":"user-1","SUB":"admin"`, 1)),
		"lone SUB":          rawClaims(strings.Replace(tpl, `"sub":"admin"`, `"SUB":"admin"`, 1)),
		"escaped dup sub":   rawClaims(strings.Replace(tpl, `"sub":"admin"`, `"sub":"user-1","\u0073ub":"admin"`, 1)),
		"duplicate alg":     rawHeader(`{"alg":"HS256","alg":"ES256","typ":"at+jwt","kid":"k-es"}`),
		"case-variant alg":  rawHeader(`{"ALG":"HS256","alg":"ES256","typ":"at+jwt","kid":"k-es"}`),
		"duplicate kid":     rawHeader(`{"alg":"ES256","typ":"at+jwt","kid":"nope","kid":"k-es"}`),
		"claims not object": rawClaims(`["sub","admin"]`),
		"claims trailing":   rawClaims(tpl + `{}`),
		"sub missing":       edit(es, func(_, cl map[string]any) { delete(cl, "sub") }),
		"sub number":        edit(es, func(_, cl map[string]any) { cl["sub"] = 1 }),
		"roles string":      edit(es, func(_, cl map[string]any) { cl["roles"] = "admin" }),
		// JWT-23, JWT-24, JWT-25, JWT-26: malformed input.
		"one segment":        parts[0],
		"four segments":      good + "." + parts[2],
		"five segments JWE":  good + ".a.b",
		"padding":            parts[0] + "=." + parts[1] + "." + parts[2],
		"plus":               parts[0] + "." + parts[1] + "." + strings.Replace(parts[2], parts[2][:1], "+", 1),
		"slash":              "/" + good[1:],
		"space inside":       parts[0] + ". " + parts[1] + "." + parts[2],
		"newline inside":     parts[0] + ".\n" + parts[1] + "." + parts[2],
		"JSON serialisation": `{"payload":"` + parts[1] + `","signatures":[{"protected":"` + parts[0] + `","signature":"` + parts[2] + `"}]}`,
		"JSON no protected":  `{"payload":"` + parts[1] + `","signature":"` + parts[2] + `"}`,
		"100000 dots":        strings.Repeat(".", 100_000),
		"1 MiB":              strings.Repeat("A", 1<<20),
		"just over 8 KiB":    edit(es, func(_, cl map[string]any) { cl["pad"] = strings.Repeat("x", 8<<10) }),
		"empty header":       "." + parts[1] + "." + parts[2],
		"header not JSON":    jwttest.Seg("nope") + "." + parts[1] + "." + parts[2],
		// JWT-30: non-canonical base64 (trailing bits set) in the signature.
		"non-canonical base64": parts[0] + "." + parts[1] + "." + noncanonical(parts[2]),
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			id, err := v.Authenticate(bearer(tok))
			if err == nil {
				t.Fatalf("accepted: %+v", id)
			}
			if !errors.Is(err, verify.ErrInvalidToken) {
				t.Fatalf("err = %v, want ErrInvalidToken", err)
			}
		})
	}
	// The genuine token the forgeries were made from passes, so each
	// refusal above is due to the change the case made.
	if _, err := v.Authenticate(bearer(good)); err != nil {
		t.Fatalf("genuine token refused: %v", err)
	}
}

// noncanonical sets the unused low bits of the last base64url character.
func noncanonical(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[last|1])
}

// JWT-16, JWT-27: expiry is reported as such only for a genuine token.
func TestExpiry(t *testing.T) {
	es := jwttest.NewKey(t, "ES256", "k-es")
	is := newIssuer(t, es)
	c := testenv.NewClock(t0)
	v := newVerifier(t, is, c, nil)
	cl := claims(is.URL, t0)
	cl["exp"] = t0.Add(-31 * time.Second).Unix()
	expired := es.Mint(t, es.Header(), cl)
	if _, err := v.Authenticate(bearer(expired)); !errors.Is(err, verify.ErrTokenExpired) {
		t.Fatalf("expired token: err = %v, want ErrTokenExpired", err)
	}
	forgedExpired := expired[:len(expired)-4] + "AAAA"
	if _, err := v.Authenticate(bearer(forgedExpired)); !errors.Is(err, verify.ErrInvalidToken) {
		t.Fatalf("expired and forged: err = %v, want ErrInvalidToken", err)
	}
	cl["aud"] = "other"
	if _, err := v.Authenticate(bearer(es.Mint(t, es.Header(), cl))); !errors.Is(err, verify.ErrInvalidToken) {
		t.Fatalf("expired with wrong aud: err = %v, want ErrInvalidToken", err)
	}

	// A cached token stops working when it expires.
	tok := es.Mint(t, es.Header(), claims(is.URL, t0))
	if _, err := v.Authenticate(bearer(tok)); err != nil {
		t.Fatal(err)
	}
	c.Advance(15*time.Minute + 31*time.Second)
	if _, err := v.Authenticate(bearer(tok)); !errors.Is(err, verify.ErrTokenExpired) {
		t.Fatalf("cached token after exp: err = %v", err)
	}
}

// JWT-08: a URL in the token is never fetched.
func TestNoFetchFromTokenURLs(t *testing.T) {
	var hits atomic.Int64
	trap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer trap.Close()
	es, attacker := jwttest.NewKey(t, "ES256", "k-es"), jwttest.NewKey(t, "ES256", "k-es")
	is := newIssuer(t, es)
	v := newVerifier(t, is, testenv.NewClock(t0), nil)
	trapHost := strings.TrimPrefix(trap.URL, "http://")
	for _, member := range []string{"jku", "x5u"} {
		for _, u := range []string{
			trap.URL + "/jwks.json",
			"http://latchkey.test@" + trapHost + "/",
			is.URL + "/.well-known/jwks.json/../../jwks.json",
			trap.URL + "/.well-known/jwks.json",
		} {
			for _, kid := range []string{"k-es", "attacker"} {
				h := attacker.Header()
				h[member], h["kid"] = u, kid
				cl := claims(is.URL, t0)
				cl["sub"] = "admin"
				if _, err := v.Authenticate(bearer(attacker.Mint(t, h, cl))); !errors.Is(err, verify.ErrInvalidToken) {
					t.Errorf("%s=%s kid=%s: err = %v", member, u, kid, err)
				}
			}
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the URL in the token was fetched %d times", n)
	}
}

// A genuine token whose iss is another spelling of the issuer's URL is
// refused; the error and a Warn line name both issuers for the operator,
// and neither the client nor the log sees the token.
func TestIssuerMismatchIsLogged(t *testing.T) {
	es := jwttest.NewKey(t, "ES256", "k-es")
	is := newIssuer(t, es)
	var logs bytes.Buffer
	v := newVerifier(t, is, testenv.NewClock(t0), func(cfg *verify.Config) {
		cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	})
	const other = "http://localhost:8080"
	cl := claims(is.URL, t0)
	cl["iss"] = other
	tok := es.Mint(t, es.Header(), cl)
	_, err := v.Authenticate(bearer(tok))
	if !errors.Is(err, verify.ErrInvalidToken) {
		t.Fatalf("err = %v, want ErrInvalidToken", err)
	}
	if msg := err.Error(); !strings.Contains(msg, `"`+other+`"`) || !strings.Contains(msg, `"`+is.URL+`"`) {
		t.Fatalf("error %q does not name both issuers", msg)
	}
	line := logs.String()
	if !strings.Contains(line, `"level":"WARN"`) || !strings.Contains(line, `"expected_issuer":"`+is.URL+`"`) ||
		!strings.Contains(line, `"received_issuer":"`+other+`"`) {
		t.Fatalf("log %q does not name both issuers at Warn", line)
	}
	sig := tok[strings.LastIndexByte(tok, '.')+1:]
	if strings.Contains(line, sig) || strings.Contains(err.Error(), sig) {
		t.Fatal("the token reached the log or the error")
	}
	w := httptest.NewRecorder()
	v.Middleware(http.NotFoundHandler()).ServeHTTP(w, bearer(tok))
	if w.Code != http.StatusUnauthorized || strings.Contains(w.Body.String(), other) {
		t.Fatalf("client answer %d %s", w.Code, w.Body)
	}
	// A refusal for any other reason is not logged at Warn.
	logs.Reset()
	cl["iss"] = is.URL
	cl["aud"] = "other-api"
	if _, err := v.Authenticate(bearer(es.Mint(t, es.Header(), cl))); !errors.Is(err, verify.ErrInvalidToken) || logs.Len() != 0 {
		t.Fatalf("wrong aud: err = %v, log %q", err, logs.String())
	}
}
