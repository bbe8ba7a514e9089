package auth

import (
	"bytes"
	"testing"

	"github.com/latchkey/latchkey"
)

func TestEmailSecrets(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		s := newEmailSecret()
		if !validCode(s.Code) || len(s.Token) != 43 || seen[s.Token] {
			t.Fatalf("secret %+v", s)
		}
		seen[s.Token] = true
	}
	for _, bad := range []string{"", "1234567", "123456789", "1234567a", "１２３４５６７８"} {
		if validCode(bad) {
			t.Errorf("%q accepted as a code", bad)
		}
	}
}

func TestEmailHashesAreKeyedAndBound(t *testing.T) {
	a, b := emailHasher{key: bytes.Repeat([]byte{1}, 32)}, emailHasher{key: bytes.Repeat([]byte{2}, 32)}
	if bytes.Equal(a.link(latchkey.PurposeVerifyEmail, "t"), b.link(latchkey.PurposeVerifyEmail, "t")) {
		t.Error("the key does not change the hash")
	}
	if bytes.Equal(a.link(latchkey.PurposeVerifyEmail, "t"), a.link(latchkey.PurposePasswordReset, "t")) {
		t.Error("a token hashes alike for two purposes")
	}
	if bytes.Equal(a.code(latchkey.PurposeSignIn, "x@example.com", "12345678"), a.code(latchkey.PurposeSignIn, "y@example.com", "12345678")) {
		t.Error("a code hashes alike for two addresses")
	}
	if bytes.Equal(a.sum("ab", "c"), a.sum("a", "bc")) {
		t.Error("part boundaries are ambiguous")
	}
}
