package verify_test

import (
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/jwttest"
	"github.com/latchkey/latchkey/internal/testenv"
)

// FuzzAuthenticate feeds arbitrary bearer credentials to a Verifier: it
// must never panic, and only the genuine token may be accepted.
func FuzzAuthenticate(f *testing.F) {
	es := jwttest.NewKey(f, "ES256", "k-es")
	is := newIssuer(f, es)
	v := newVerifier(f, is, testenv.NewClock(t0), nil)
	good := es.Mint(f, es.Header(), claims(is.URL, t0))
	parts := strings.Split(good, ".")
	for _, s := range []string{
		good, parts[0] + "." + parts[1] + ".", parts[0], strings.Repeat(".", 100), "a.b.c", "lk_x",
		jwttest.Seg(`{"alg":"none","typ":"at+jwt","kid":"k-es"}`) + "." + parts[1] + ".",
		jwttest.Seg(`{"alg":"ES256","typ":"at+jwt","kid":"k-es","alg":"HS256"}`) + "." + parts[1] + "." + parts[2],
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		if strings.HasPrefix(tok, "lk_") {
			return // API keys go to the issuer; covered elsewhere
		}
		r := bearer("x")
		r.Header.Set("Authorization", "Bearer "+tok)
		id, err := v.Authenticate(r)
		if err == nil && id.UserID != "user-1" {
			t.Fatalf("accepted a forged token: %+v", id)
		}
	})
}
