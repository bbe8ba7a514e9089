// Package mfa holds latchkey's second factors: TOTP (RFC 6238) secrets,
// their otpauth:// URIs and QR codes, and code checks that tell which time
// step a code belongs to, so that a use case can refuse a replayed code.
package mfa

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters: RFC 6238's defaults, the ones every authenticator app
// supports (SHA-1, 6 digits, 30 s), with one step of clock skew either way.
const (
	Period      = 30 * time.Second
	Digits      = 6
	SecretBytes = 20 // 160 bits, RFC 4226's recommendation
	Skew        = 1
)

var encoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Secret is a TOTP shared secret. It never prints: String and LogValue
// hide it; Base32 is for the one response that shows it at enrollment.
type Secret struct{ raw []byte }

// NewSecret draws a fresh secret from crypto/rand.
func NewSecret() (Secret, error) {
	b := make([]byte, SecretBytes)
	if _, err := rand.Read(b); err != nil {
		return Secret{}, fmt.Errorf("mfa: %w", err)
	}
	return Secret{raw: b}, nil
}

// SecretFromBytes wraps stored secret bytes (opened from their sealed form).
func SecretFromBytes(b []byte) (Secret, error) {
	if len(b) < 16 {
		return Secret{}, errors.New("mfa: a TOTP secret has at least 128 bits")
	}
	return Secret{raw: append([]byte(nil), b...)}, nil
}

// Bytes returns the raw secret, to be sealed before it is stored.
func (s Secret) Bytes() []byte { return append([]byte(nil), s.raw...) }

// Base32 is the secret as authenticator apps take it (no padding).
func (s Secret) Base32() string { return encoding.EncodeToString(s.raw) }

func (s Secret) String() string { return "[totp secret]" }

// LogValue keeps the secret out of structured logs.
func (s Secret) LogValue() slog.Value { return slog.StringValue("[totp secret]") }

// URI is the otpauth:// URI an authenticator app scans: the issuer names
// the service, account the person (their email).
func URI(issuer, account string, s Secret) string {
	v := url.Values{}
	v.Set("secret", s.Base32())
	v.Set("issuer", issuer)
	v.Set("algorithm", "SHA1")
	v.Set("digits", fmt.Sprint(Digits))
	v.Set("period", fmt.Sprint(int(Period/time.Second)))
	label := url.PathEscape(issuer) + ":" + url.PathEscape(account)
	return "otpauth://totp/" + label + "?" + v.Encode()
}

// NormalizeCode forgives what people do when they type a code: spaces
// and dashes ("123 456").
func NormalizeCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, s)
}

// Step is the RFC 6238 time step of t.
func Step(t time.Time) int64 { return t.Unix() / int64(Period/time.Second) }

// Match checks code against the steps around now and returns the step it
// belongs to. The caller records accepted steps and refuses a step that is
// not later than the last one accepted: that is what makes a code work once
// (RFC 6238 §5.2). Codes are compared in constant time.
func Match(s Secret, code string, now time.Time) (step int64, ok bool) {
	if len(code) != Digits || strings.Trim(code, "0123456789") != "" {
		return 0, false
	}
	current := Step(now)
	for d := int64(-Skew); d <= Skew; d++ {
		want, err := codeAt(s, current+d)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			step, ok = current+d, true // keep looping: every candidate costs the same
		}
	}
	return step, ok
}

// codeAt is the code of one time step.
func codeAt(s Secret, step int64) (string, error) {
	return totp.GenerateCodeCustom(s.Base32(), time.Unix(step*int64(Period/time.Second), 0), totp.ValidateOpts{
		Period: uint(Period / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// QRPNG draws uri as a QR code PNG of size×size pixels.
func QRPNG(uri string, size int) ([]byte, error) {
	code, err := qr.Encode(uri, qr.M, qr.Auto)
	if err != nil {
		return nil, fmt.Errorf("mfa: qr: %w", err)
	}
	if code, err = barcode.Scale(code, size, size); err != nil {
		return nil, fmt.Errorf("mfa: qr: %w", err)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, code); err != nil {
		return nil, fmt.Errorf("mfa: qr: %w", err)
	}
	return b.Bytes(), nil
}

// QRSVG draws uri as a QR code in SVG: one path of unit squares with a
// four-module quiet zone, which scales without blurring and needs no
// image endpoint (a page can inline it under a strict CSP).
func QRSVG(uri string) (string, error) {
	code, err := qr.Encode(uri, qr.M, qr.Auto)
	if err != nil {
		return "", fmt.Errorf("mfa: qr: %w", err)
	}
	const quiet = 4
	n := code.Bounds().Dx()
	var path strings.Builder
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if r, _, _, _ := code.At(x, y).RGBA(); r == 0 {
				fmt.Fprintf(&path, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	size := n + 2*quiet
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-label="QR code for your authenticator app"><rect width="100%%" height="100%%" fill="#fff"/><path fill="#000" d="%s"/></svg>`,
		size, size, path.String()), nil
}
