package crypt

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// hkdfOneBlock is RFC 5869 written out for one output block and no salt:
// PRK = HMAC(zeros, master); T(1) = HMAC(PRK, info | 0x01).
func hkdfOneBlock(master []byte, info string) []byte {
	ext := hmac.New(sha256.New, make([]byte, sha256.Size))
	ext.Write(master)
	exp := hmac.New(sha256.New, ext.Sum(nil))
	exp.Write([]byte(info))
	exp.Write([]byte{1})
	return exp.Sum(nil)
}

func TestDeriveKey(t *testing.T) {
	master := bytes.Repeat([]byte{7}, KeySize)
	a := DeriveKey(master, "latchkey device cookie v1")
	if len(a) != KeySize {
		t.Fatalf("len = %d, want %d", len(a), KeySize)
	}
	if want := hkdfOneBlock(master, "latchkey device cookie v1"); !bytes.Equal(a, want) {
		t.Errorf("DeriveKey = %x, want HKDF-SHA256 %x", a, want)
	}
	// Pinned (computed apart from Go, with Python's hmac module): a change
	// here invalidates every value made with a derived key.
	if got, want := hex.EncodeToString(a), "457a30cc73fed8f913941c94d1d3eab73163140616ee3d5bf0ce669324eacc6e"; got != want {
		t.Errorf("DeriveKey = %s, want %s", got, want)
	}
	if !bytes.Equal(a, DeriveKey(master, "latchkey device cookie v1")) {
		t.Error("DeriveKey is not deterministic")
	}
	for _, other := range [][]byte{
		DeriveKey(master, "latchkey device cookie v2"),
		DeriveKey(bytes.Repeat([]byte{8}, KeySize), "latchkey device cookie v1"),
	} {
		if bytes.Equal(a, other) {
			t.Error("another purpose or master gave the same key")
		}
	}
	if bytes.Equal(a, master) {
		t.Error("DeriveKey returned the master key")
	}
}

func TestDeriveKeyRefusesMisuse(t *testing.T) {
	for name, call := range map[string]func(){
		"short master":  func() { DeriveKey(make([]byte, KeySize-1), "p") },
		"nil master":    func() { DeriveKey(nil, "p") },
		"empty purpose": func() { DeriveKey(make([]byte, KeySize), "") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			call()
		}()
	}
}
