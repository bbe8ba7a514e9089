package mfa

import (
	"bytes"
	"fmt"
	"image/png"
	"log/slog"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/testenv"
)

// RFC 6238 Appendix B, SHA-1, truncated to 6 digits.
func TestRFC6238Vectors(t *testing.T) {
	s, err := SecretFromBytes([]byte("12345678901234567890"))
	if err != nil {
		t.Fatal(err)
	}
	for unix, code := range map[int64]string{59: "287082", 1111111109: "081804", 1234567890: "005924", 2000000000: "279037"} {
		step, ok := Match(s, code, time.Unix(unix, 0))
		if !ok || step != unix/30 {
			t.Errorf("T=%d code %s: step %d ok %v", unix, code, step, ok)
		}
	}
}

// TestAgreesWithOathtool checks codes from an implementation latchkey did
// not write: Debian's oathtool.
func TestAgreesWithOathtool(t *testing.T) {
	if _, err := exec.LookPath("oathtool"); err != nil {
		if testenv.Required() {
			t.Fatal("oathtool is not installed, and LATCHKEY_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("oathtool is not installed")
	}
	s, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 2, 10, 0, 15, 0, time.UTC)
	oath := func(at time.Time) string {
		out, err := exec.Command("oathtool", "--totp", "-b", "-d", "6", "-N", at.Format("2006-01-02 15:04:05 UTC"), s.Base32()).Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	for offset, want := range map[time.Duration]bool{0: true, -Period: true, Period: true, -2 * Period: false, 2 * Period: false} {
		code := oath(now.Add(offset))
		step, ok := Match(s, code, now)
		if ok != want || (ok && step != Step(now.Add(offset))) {
			t.Errorf("a code from %v: ok %v step %d, want ok %v", offset, ok, step, want)
		}
	}
	for _, bad := range []string{"", "12345", "1234567", "12345a", "１２３４５６"} {
		if _, ok := Match(s, bad, now); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestURI(t *testing.T) {
	s, _ := NewSecret()
	u, err := url.Parse(URI("latchkey", "ada@example.com", s))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/latchkey:ada@example.com" || q.Get("secret") != s.Base32() ||
		q.Get("issuer") != "latchkey" || q.Get("digits") != "6" || q.Get("period") != "30" || q.Get("algorithm") != "SHA1" {
		t.Errorf("uri %s", u)
	}
	if len(s.Base32()) != 32 { // 160 bits
		t.Errorf("secret %d characters", len(s.Base32()))
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s, _ := NewSecret()
	var b bytes.Buffer
	slog.New(slog.NewJSONHandler(&b, nil)).Info("x", "secret", s)
	if strings.Contains(b.String()+fmt.Sprint(s)+fmt.Sprintf("%v %+v", s, s), s.Base32()) {
		t.Error("the secret was printed")
	}
	if _, err := SecretFromBytes([]byte("short")); err == nil {
		t.Error("a short secret was accepted")
	}
}

func TestQRCodes(t *testing.T) {
	s, _ := NewSecret()
	uri := URI("latchkey", "ada@example.com", s)
	p, err := QRPNG(uri, 256)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(p))
	if err != nil || img.Bounds().Dx() != 256 || img.Bounds().Dy() != 256 {
		t.Fatalf("png: %v %v", err, img.Bounds())
	}
	svg, err := QRSVG(uri)
	if err != nil || !strings.HasPrefix(svg, "<svg ") || !strings.Contains(svg, `viewBox="0 0 `) || strings.Count(svg, "h1v1") < 100 {
		t.Errorf("svg: %v %.200s", err, svg)
	}
}
