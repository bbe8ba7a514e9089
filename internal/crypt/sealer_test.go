package crypt

import (
	"bytes"
	"errors"
	"testing"
)

func newTestSealer(t *testing.T, fill byte) *Sealer {
	t.Helper()
	s, err := NewSealer(bytes.Repeat([]byte{fill}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewSealerKeySize(t *testing.T) {
	for _, n := range []int{0, 16, 24, 31, 33, 64} {
		if _, err := NewSealer(make([]byte, n)); err == nil {
			t.Errorf("NewSealer accepted a %d-byte key", n)
		}
	}
}

func TestSealRoundTrip(t *testing.T) {
	s := newTestSealer(t, 1)
	for _, pt := range [][]byte{nil, {}, []byte("x"), bytes.Repeat([]byte("signing key "), 500)} {
		sealed, err := s.Seal(pt, []byte("key-id-1"))
		if err != nil {
			t.Fatal(err)
		}
		if sealed[0] != sealVersion {
			t.Errorf("first byte %d, want version %d", sealed[0], sealVersion)
		}
		if len(pt) > 4 && bytes.Contains(sealed, pt[:5]) {
			t.Errorf("sealed value contains plaintext")
		}
		got, err := s.Open(sealed, []byte("key-id-1"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, pt) {
			t.Errorf("Open = %q, want %q", got, pt)
		}
	}
}

func TestSealNonceIsFresh(t *testing.T) {
	s := newTestSealer(t, 1)
	a, _ := s.Seal([]byte("same"), nil)
	b, _ := s.Seal([]byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are identical")
	}
	if bytes.Equal(a[1:1+nonceSize], b[1:1+nonceSize]) {
		t.Fatal("nonce repeated")
	}
}

func TestOpenRefusesTampering(t *testing.T) {
	s := newTestSealer(t, 1)
	ad := []byte("row 7")
	sealed, err := s.Seal([]byte("private key bytes"), ad)
	if err != nil {
		t.Fatal(err)
	}
	// Flip every bit of every byte in turn: version, nonce, ciphertext, tag.
	for i := range sealed {
		for bit := range 8 {
			c := bytes.Clone(sealed)
			c[i] ^= 1 << bit
			if _, err := s.Open(c, ad); !errors.Is(err, ErrOpen) {
				t.Fatalf("flipping bit %d of byte %d: err = %v, want ErrOpen", bit, i, err)
			}
		}
	}
	cases := map[string][]byte{
		"empty":       nil,
		"version":     sealed[:1],
		"no tag":      sealed[:len(sealed)-16],
		"one short":   sealed[:len(sealed)-1],
		"one longer":  append(bytes.Clone(sealed), 0),
		"doubled":     append(bytes.Clone(sealed), sealed...),
		"version two": append([]byte{2}, sealed[1:]...),
	}
	for name, c := range cases {
		if _, err := s.Open(c, ad); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: err = %v, want ErrOpen", name, err)
		}
	}
}

func TestOpenWrongKeyOrAdditionalData(t *testing.T) {
	s := newTestSealer(t, 1)
	sealed, _ := s.Seal([]byte("secret"), []byte("row 7"))
	if _, err := newTestSealer(t, 2).Open(sealed, []byte("row 7")); !errors.Is(err, ErrOpen) {
		t.Errorf("wrong key: err = %v, want ErrOpen", err)
	}
	for _, ad := range [][]byte{nil, []byte("row 8"), []byte("row 7 "), []byte("Row 7")} {
		if _, err := s.Open(sealed, ad); !errors.Is(err, ErrOpen) {
			t.Errorf("additional data %q: err = %v, want ErrOpen", ad, err)
		}
	}
}

func TestSealForToken(t *testing.T) {
	prev := RandomToken(32)
	successor := []byte(RandomToken(32))
	sealed, err := SealForToken(prev, successor)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, successor) {
		t.Fatal("sealed value contains the successor")
	}
	got, err := OpenWithToken(prev, sealed)
	if err != nil || !bytes.Equal(got, successor) {
		t.Fatalf("OpenWithToken = %q, %v", got, err)
	}
	if _, err := OpenWithToken(RandomToken(32), sealed); !errors.Is(err, ErrOpen) {
		t.Errorf("another token: err = %v, want ErrOpen", err)
	}
	if _, err := OpenWithToken(prev[:len(prev)-1], sealed); !errors.Is(err, ErrOpen) {
		t.Errorf("truncated token: err = %v, want ErrOpen", err)
	}
	c := bytes.Clone(sealed)
	c[len(c)-1] ^= 1
	if _, err := OpenWithToken(prev, c); !errors.Is(err, ErrOpen) {
		t.Errorf("tampered: err = %v, want ErrOpen", err)
	}
	if _, err := SealForToken("", successor); err == nil {
		t.Error("SealForToken accepted an empty token")
	}
}

// A value sealed for a token must not open with a Sealer whose key is the
// token's raw bytes or its SHA-256 (what the database stores).
func TestSealForTokenKeyIsDerived(t *testing.T) {
	tok := RandomToken(24) // 32 characters, usable as a raw AES key
	sealed, _ := SealForToken(tok, []byte("x"))
	for name, key := range map[string][]byte{"raw": []byte(tok), "sha256": Hash(tok)} {
		s, err := NewSealer(key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Open(sealed, nil); err == nil {
			t.Errorf("opened with the %s token as key", name)
		}
	}
}
