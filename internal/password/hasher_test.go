package password

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// fast are cheap parameters for tests; one test uses the real defaults.
var fast = Params{Memory: 64, Iterations: 1, Parallelism: 1}

func newFast(t testing.TB) *Hasher {
	t.Helper()
	return NewHasher(fast, 2, time.Second)
}

var phcPattern = regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$`)

// PW-12: PHC form with the real defaults; distinct salts for one password.
func TestHashDefaultParamsPHC(t *testing.T) {
	h := NewHasher(DefaultParams, 2, time.Second)
	ctx := context.Background()
	a, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{a, b} {
		m := phcPattern.FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("hash %q is not a PHC argon2id string with a 16-byte salt and 32-byte hash", s)
		}
		if m[1] != "19456" || m[2] != "2" || m[3] != "1" {
			t.Errorf("params m=%s,t=%s,p=%s; want m=19456,t=2,p=1", m[1], m[2], m[3])
		}
	}
	if a == b || strings.Split(a, "$")[4] == strings.Split(b, "$")[4] {
		t.Errorf("the same password hashed twice gave the same salt")
	}
	ok, rehash, err := h.Verify(ctx, "correct horse battery staple", a)
	if !ok || rehash || err != nil {
		t.Errorf("Verify = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
}

func TestVerify(t *testing.T) {
	h := newFast(t)
	ctx := context.Background()
	const pw = "Tr0ub4dor&3 plus more"
	enc, err := h.Hash(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, password string
		want           bool
	}{
		{"same", pw, true},
		{"case flipped", "tR0UB4DOR&3 PLUS MORE", false}, // PW-08
		{"trailing space", pw + " ", false},              // PW-08
		{"leading space", " " + pw, false},
		{"one character less", pw[:len(pw)-1], false},
		{"one character more", pw + "e", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		ok, _, err := h.Verify(ctx, tt.password, enc)
		if err != nil || ok != tt.want {
			t.Errorf("%s: Verify = %v, %v; want %v", tt.name, ok, err, tt.want)
		}
	}
}

// PW-07: NFC, NFD and compatibility forms are one password.
func TestNormalisationEquivalence(t *testing.T) {
	h := newFast(t)
	ctx := context.Background()
	pairs := [][2]string{
		{"caf\u00e9 au lait", "cafe\u0301 au lait"},          // é precomposed / decomposed
		{"\uff11\uff12\uff13\uff14abcdefgh", "1234abcdefgh"}, // fullwidth digits
		{"\u212bngstr\u00f6m!", "\u00c5ngstro\u0308m!"},      // Angstrom sign / Å
	}
	for _, p := range pairs {
		enc, err := h.Hash(ctx, p[0])
		if err != nil {
			t.Fatal(err)
		}
		if ok, _, err := h.Verify(ctx, p[1], enc); !ok || err != nil {
			t.Errorf("%q did not verify against a hash of %q: %v", p[1], p[0], err)
		}
		if Normalize(p[0]) != Normalize(p[1]) {
			t.Errorf("Normalize(%q) != Normalize(%q)", p[0], p[1])
		}
	}
}

// PW-02, PW-03, AV-01, PW-09: refused before hashing. The only hashing slot
// is held throughout, so a call that tried to hash would fail with
// EUnavailable instead of EInvalidRequest.
func TestBadInputRefusedWithoutHashing(t *testing.T) {
	h := NewHasher(fast, 1, 0)
	enc, err := h.Hash(context.Background(), strings.Repeat("a", MaxBytes))
	if err != nil {
		t.Fatalf("a %d-byte password was refused: %v", MaxBytes, err)
	}
	h.slots <- struct{}{}
	defer h.release()
	ctx := context.Background()
	inputs := map[string]string{
		"1025 bytes":      strings.Repeat("a", MaxBytes+1),
		"1 MB":            strings.Repeat("x", 1<<20),
		"1025 bytes é":    strings.Repeat("é", 512) + "a",
		"NUL":             "ab\x00cdefghij",
		"escape":          "abcdefgh\x1b[2J",
		"tab":             "abcd\tefgh",
		"DEL":             "abcdefgh\x7f",
		"C1 control":      "abcdefgh\u0085",
		"invalid UTF-8":   "abcdefgh\xff",
		"lone surrogate":  "abcdefgh\xed\xa0\x80",
		"1024 bytes + NL": strings.Repeat("a", MaxBytes-1) + "\n",
	}
	for name, pw := range inputs {
		if _, err := h.Hash(ctx, pw); !latchkey.IsCode(err, latchkey.EInvalidRequest) {
			t.Errorf("Hash(%s): err = %v, want %s", name, err, latchkey.EInvalidRequest)
		}
		if _, _, err := h.Verify(ctx, pw, enc); !latchkey.IsCode(err, latchkey.EInvalidRequest) {
			t.Errorf("Verify(%s): err = %v, want %s", name, err, latchkey.EInvalidRequest)
		}
		if err := h.VerifyDummy(ctx, pw); !latchkey.IsCode(err, latchkey.EInvalidRequest) {
			t.Errorf("VerifyDummy(%s): err = %v, want %s", name, err, latchkey.EInvalidRequest)
		}
	}
	err = CheckLength(strings.Repeat("a", MaxBytes+1))
	if msg := latchkey.ErrorMessage(err); msg != "The password is longer than 1024 bytes." {
		t.Errorf("message %q", msg)
	}
}

// PW-09: the part before a NUL is not the password either.
func TestNULPrefixDoesNotVerify(t *testing.T) {
	h := newFast(t)
	enc, _ := h.Hash(context.Background(), "abcdefghij")
	if ok, _, _ := h.Verify(context.Background(), "abcdefghij\x00zzz", enc); ok {
		t.Fatal("a password with a NUL appended verified")
	}
}

// PW-13: parameters are read from each hash; a change asks for a rehash.
func TestNeedsRehash(t *testing.T) {
	ctx := context.Background()
	old := NewHasher(Params{Memory: 32, Iterations: 1, Parallelism: 1}, 1, time.Second)
	enc, _ := old.Hash(ctx, "a long enough password")
	for _, p := range []Params{
		{Memory: 64, Iterations: 1, Parallelism: 1},
		{Memory: 32, Iterations: 2, Parallelism: 1},
		{Memory: 32, Iterations: 1, Parallelism: 2},
	} {
		h := NewHasher(p, 1, time.Second)
		ok, rehash, err := h.Verify(ctx, "a long enough password", enc)
		if !ok || !rehash || err != nil {
			t.Errorf("params %+v: Verify = %v, %v, %v; want true, true, nil", p, ok, rehash, err)
		}
		fresh, _ := h.Hash(ctx, "a long enough password")
		if ok, rehash, _ := h.Verify(ctx, "a long enough password", fresh); !ok || rehash {
			t.Errorf("params %+v: a fresh hash verifies %v and asks for rehash %v", p, ok, rehash)
		}
	}
	if ok, rehash, _ := old.Verify(ctx, "a long enough password", enc); !ok || rehash {
		t.Errorf("same params: ok %v, rehash %v", ok, rehash)
	}
}

func TestVerifyRefusesMalformedHashes(t *testing.T) {
	h := newFast(t)
	good, _ := h.Hash(context.Background(), "password")
	bad := []string{
		"",
		"plaintext",
		strings.Replace(good, "argon2id", "argon2i", 1),
		strings.Replace(good, "v=19", "v=16", 1),
		strings.Replace(good, "m=64", "m=1048577", 1), // > 1 GiB
		strings.Replace(good, "t=1", "t=101", 1),
		strings.Replace(good, "t=1", "t=0", 1),
		strings.Replace(good, "p=1", "p=0", 1),
		strings.Replace(good, "p=1", "p=256", 1),
		strings.Replace(good, "m=64", "m=4294967296", 1),
		strings.Replace(good, "m=64,t=1", "t=1,m=64", 1),
		good + "$",
		good[:len(good)-1] + "!",
		"$2b$12$abcdefghijklmnopqrstuuS9oFJ5zDvuYsJK0G7eZ4xyPX5E4y5Iu",
	}
	for _, enc := range bad {
		ok, _, err := h.Verify(context.Background(), "password", enc)
		if err == nil || ok {
			t.Errorf("Verify against %q = %v, %v; want an error", enc, ok, err)
		}
	}
}

// AV-02: with every slot held, a caller waits at most maxWait, then gets
// EUnavailable; a cancelled context ends the wait with the context's error.
func TestConcurrencyBound(t *testing.T) {
	h := NewHasher(fast, 1, 20*time.Millisecond)
	h.slots <- struct{}{} // a hash in progress
	ctx := context.Background()
	if _, err := h.Hash(ctx, "password one"); !latchkey.IsCode(err, latchkey.EUnavailable) {
		t.Fatalf("Hash with the slot taken: err = %v, want %s", err, latchkey.EUnavailable)
	}
	if _, _, err := h.Verify(ctx, "password one", h.dummy); !latchkey.IsCode(err, latchkey.EUnavailable) {
		t.Fatalf("Verify with the slot taken: err = %v, want %s", err, latchkey.EUnavailable)
	}
	if err := h.VerifyDummy(ctx, "password one"); !latchkey.IsCode(err, latchkey.EUnavailable) {
		t.Fatalf("VerifyDummy with the slot taken: err = %v, want %s", err, latchkey.EUnavailable)
	}
	if msg := latchkey.ErrorMessage(errBusy()); msg != "The server is busy; try again shortly." {
		t.Errorf("message %q", msg)
	}

	patient := NewHasher(fast, 1, time.Hour)
	patient.slots <- struct{}{}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := patient.Hash(cctx, "password one"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: err = %v, want context.Canceled", err)
	}

	// Once the slot is released, a waiting call proceeds.
	done := make(chan error, 1)
	go func() {
		_, err := patient.Hash(ctx, "password one")
		done <- err
	}()
	patient.release()
	if err := <-done; err != nil {
		t.Fatalf("Hash after release: %v", err)
	}
	if n := len(patient.slots); n != 0 {
		t.Fatalf("%d slots still held after every call returned", n)
	}
}

// maxConcurrent sets the number of slots; below 1 it means 1.
func TestConcurrencySlots(t *testing.T) {
	for n, want := range map[int]int{-1: 1, 0: 1, 1: 1, 4: 4} {
		if got := cap(NewHasher(fast, n, 0).slots); got != want {
			t.Errorf("maxConcurrent %d: %d slots, want %d", n, got, want)
		}
	}
}

// VerifyDummy runs the same computation as a failed Verify: the dummy hash
// has this Hasher's parameters, and the dummy never matches.
func TestVerifyDummy(t *testing.T) {
	h := newFast(t)
	d, err := decodePHC(h.dummy)
	if err != nil {
		t.Fatal(err)
	}
	if d.params != fast || len(d.salt) != saltLen || len(d.key) != keyLen {
		t.Errorf("dummy hash %q does not use the Hasher's parameters", h.dummy)
	}
	if err := h.VerifyDummy(context.Background(), "any password"); err != nil {
		t.Fatal(err)
	}
	if NewHasher(fast, 1, 0).dummy == h.dummy {
		t.Error("two Hashers share a dummy hash")
	}
}

func TestNewHasherRefusesUnusableParams(t *testing.T) {
	for _, p := range []Params{{}, {Memory: 64, Iterations: 0, Parallelism: 1}, {Memory: 64, Iterations: 1}, {Memory: 4, Iterations: 1, Parallelism: 1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewHasher(%+v) did not panic", p)
				}
			}()
			NewHasher(p, 1, 0)
		}()
	}
}

func BenchmarkHashDefault(b *testing.B) {
	h := NewHasher(DefaultParams, 1, time.Minute)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyDefault(b *testing.B) {
	h := NewHasher(DefaultParams, 1, time.Minute)
	ctx := context.Background()
	enc, _ := h.Hash(ctx, "correct horse battery staple")
	for b.Loop() {
		if _, _, err := h.Verify(ctx, "correct horse battery staple", enc); err != nil {
			b.Fatal(err)
		}
	}
}

// The cost of refusing an over-long password: no hashing at all.
func BenchmarkRefuseOneMegabyte(b *testing.B) {
	h := NewHasher(DefaultParams, 1, time.Minute)
	pw := strings.Repeat("x", 1<<20)
	for b.Loop() {
		if _, err := h.Hash(context.Background(), pw); err == nil {
			b.Fatal("accepted")
		}
	}
}
