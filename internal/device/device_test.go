package device

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/testenv"
)

const (
	alice = "alice@example.com"
	bob   = "bob@example.com"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// counterReader is a deterministic stand-in for crypto/rand: SHA-256 of a
// counter, so that every process running the same test issues the same
// values (fuzz workers check what the coordinator issued).
type counterReader struct{ n uint64 }

func (r *counterReader) Read(p []byte) (int, error) {
	for i := range p {
		if i%sha256.Size == 0 {
			r.n++
		}
		sum := sha256.Sum256(binary.BigEndian.AppendUint64(nil, r.n))
		p[i] = sum[i%sha256.Size]
	}
	return len(p), nil
}

func testKey(fill byte) []byte { return bytes.Repeat([]byte{fill}, MinKeySize) }

func newTestCookies(t testing.TB, key []byte) (*Cookies, *testenv.Clock) {
	t.Helper()
	clock := testenv.NewClock(t0)
	c, err := New(key, clock.Now, DefaultTTL)
	if err != nil {
		t.Fatal(err)
	}
	c.random = &counterReader{}
	return c, clock
}

// forge builds a value with a correct MAC under c's key from any fields,
// to reach the checks that come after the MAC.
func forge(c *Cookies, ver byte, issued int64, account string) string {
	var raw [rawLen]byte
	raw[0] = ver
	binary.BigEndian.PutUint64(raw[1:9], uint64(issued))
	copy(raw[9:headerLen], "0123456789abcdef")
	c.sum(raw[headerLen:headerLen], raw[:headerLen], account)
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

// flipByte changes one bit of the decoded value at i and encodes it again.
func flipByte(v string, i int) string {
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		panic(err)
	}
	raw[i] ^= 0x01
	return base64.RawURLEncoding.EncodeToString(raw)
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  []byte
		ttl  time.Duration
	}{
		{"nil key", nil, DefaultTTL},
		{"short key", make([]byte, MinKeySize-1), DefaultTTL},
		{"zero ttl", testKey(1), 0},
		{"negative ttl", testKey(1), -time.Hour},
		{"ttl above the browser cap", testKey(1), MaxTTL + time.Second},
	} {
		if _, err := New(tc.key, nil, tc.ttl); err == nil {
			t.Errorf("%s: New accepted it", tc.name)
		}
	}
	c, err := New(make([]byte, 64), nil, MaxTTL)
	if err != nil {
		t.Fatal(err)
	}
	if c.TTL() != MaxTTL {
		t.Errorf("TTL = %s", c.TTL())
	}
	// A nil clock is the real one.
	if _, ok := c.Verify(c.Issue(alice), alice); !ok {
		t.Error("a fresh value with the real clock was refused")
	}
}

func TestIssueFormat(t *testing.T) {
	c, _ := newTestCookies(t, testKey(1))
	c.random = strings.NewReader(strings.Repeat("r", randomLen))
	v := c.Issue(alice)
	if len(v) != valueLen || valueLen != 76 {
		t.Fatalf("len = %d (valueLen %d), want 76", len(v), valueLen)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(v)
	if err != nil {
		t.Fatalf("not base64url without padding: %v", err)
	}
	if raw[0] != version {
		t.Errorf("version byte %d", raw[0])
	}
	if got := int64(binary.BigEndian.Uint64(raw[1:9])); got != t0.Unix() {
		t.Errorf("issued at %d, want %d", got, t0.Unix())
	}
	if !bytes.Equal(raw[9:headerLen], []byte(strings.Repeat("r", randomLen))) {
		t.Errorf("random part %q", raw[9:headerLen])
	}
	if bytes.Contains(raw, []byte(alice)) || strings.Contains(v, base64.RawURLEncoding.EncodeToString([]byte("alice"))) {
		t.Error("the value carries the account in clear")
	}
}

func TestIssueIsFresh(t *testing.T) {
	c, err := New(testKey(1), nil, DefaultTTL) // crypto/rand
	if err != nil {
		t.Fatal(err)
	}
	values, ids := map[string]bool{}, map[string]bool{}
	for range 200 {
		v := c.Issue(alice)
		id, ok := c.Verify(v, alice)
		if !ok {
			t.Fatal("fresh value refused")
		}
		if values[v] || ids[id] {
			t.Fatalf("value or device id repeated: %s %s", v, id)
		}
		values[v], ids[id] = true, true
	}
}

func TestDeviceID(t *testing.T) {
	c, clock := newTestCookies(t, testKey(1))
	v := c.Issue(alice)
	id, ok := c.Verify(v, alice)
	if !ok {
		t.Fatal("refused")
	}
	if len(id) != 2*idLen {
		t.Errorf("device id %q: want %d hex characters", id, 2*idLen)
	}
	if _, err := hex.DecodeString(id); err != nil || strings.ToLower(id) != id {
		t.Errorf("device id %q is not lower-case hex", id)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(v)
	if strings.Contains(hex.EncodeToString(raw), id) {
		t.Error("device id is a piece of the value")
	}
	clock.Advance(30 * 24 * time.Hour)
	if again, _ := c.Verify(v, alice); again != id {
		t.Errorf("device id changed over time: %q, then %q", id, again)
	}
	if other, _ := c.Verify(c.Issue(alice), alice); other == id {
		t.Error("two issued values share a device id")
	}
}

func TestVerify(t *testing.T) {
	c, clock := newTestCookies(t, testKey(1))
	good := c.Issue(alice)
	otherKey, _ := newTestCookies(t, testKey(2))
	fromOtherKey := otherKey.Issue(alice)

	for _, tc := range []struct {
		name    string
		value   string
		account string
		at      time.Time
		want    bool
	}{
		{"fresh", good, alice, t0, true},
		{"a day later", good, alice, t0.Add(24 * time.Hour), true},
		{"one second before expiry", good, alice, t0.Add(DefaultTTL - time.Second), true},
		{"at expiry", good, alice, t0.Add(DefaultTTL), false},
		{"long expired", good, alice, t0.Add(10 * DefaultTTL), false},
		{"other account", good, bob, t0, false},
		{"account in upper case", good, strings.ToUpper(alice), t0, false},
		{"account with a trailing space", good, alice + " ", t0, false},
		{"account prefix", good, alice[:5], t0, false},
		{"empty account", forge(c, version, t0.Unix(), ""), "", t0, false},
		{"other key", fromOtherKey, alice, t0, false},
		{"empty", "", alice, t0, false},
		{"truncated by one", good[:len(good)-1], alice, t0, false},
		{"truncated by four", good[:len(good)-4], alice, t0, false},
		{"header only", good[:12], alice, t0, false},
		{"one more character", good + "A", alice, t0, false},
		{"padded", good + "==", alice, t0, false},
		{"doubled", good + good, alice, t0, false},
		{"oversized", strings.Repeat("A", 1<<20), alice, t0, false},
		{"line break inside", good[:40] + "\n" + good[41:], alice, t0, false},
		{"standard alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(forgeWith(c, "-_")), alice, t0, false},
		{"last character changed", good[:len(good)-1] + otherChar(good[len(good)-1]), alice, t0, false},
		{"first character changed", otherChar(good[0]) + good[1:], alice, t0, false},
		{"version byte changed", flipByte(good, 0), alice, t0, false},
		{"issue time changed", flipByte(good, 8), alice, t0, false},
		{"random part changed", flipByte(good, 9), alice, t0, false},
		{"MAC changed", flipByte(good, rawLen-1), alice, t0, false},
		{"forged control: valid", forge(c, version, t0.Unix(), alice), alice, t0, true},
		{"unknown version, valid MAC", forge(c, 2, t0.Unix(), alice), alice, t0, false},
		{"version zero, valid MAC", forge(c, 0, t0.Unix(), alice), alice, t0, false},
		{"dated within the clock skew", forge(c, version, t0.Add(maxClockSkew).Unix(), alice), alice, t0, true},
		{"dated in the future", forge(c, version, t0.Add(maxClockSkew+time.Second).Unix(), alice), alice, t0, false},
		{"dated far in the future", forge(c, version, 1<<62, alice), alice, t0, false},
		{"negative issue time", forge(c, version, -1, alice), alice, t0, false},
		{"issued at the epoch", forge(c, version, 0, alice), alice, t0, false},
	} {
		clock.Set(tc.at)
		id, ok := c.Verify(tc.value, tc.account)
		if ok != tc.want {
			t.Errorf("%s: Verify = %v, want %v", tc.name, ok, tc.want)
		}
		if !ok && id != "" {
			t.Errorf("%s: refused but returned device id %q", tc.name, id)
		}
	}
}

// TestVerifyEveryBitFlip: no single changed bit anywhere is accepted.
func TestVerifyEveryBitFlip(t *testing.T) {
	c, _ := newTestCookies(t, testKey(1))
	good := c.Issue(alice)
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	for i := range raw {
		for bit := range 8 {
			mod := bytes.Clone(raw)
			mod[i] ^= 1 << bit
			if _, ok := c.Verify(base64.RawURLEncoding.EncodeToString(mod), alice); ok {
				t.Errorf("accepted with bit %d of byte %d flipped", bit, i)
			}
		}
	}
}

func TestKeyIsCopied(t *testing.T) {
	key := testKey(1)
	c, _ := newTestCookies(t, key)
	v := c.Issue(alice)
	key[0] ^= 0xff
	if _, ok := c.Verify(v, alice); !ok {
		t.Error("changing the caller's key slice changed the Cookies")
	}
}

func TestHTTPCookie(t *testing.T) {
	c, _ := newTestCookies(t, testKey(1))
	v := c.Issue(alice)
	for _, secure := range []bool{true, false} {
		hc := c.HTTPCookie(v, secure)
		if err := hc.Valid(); err != nil {
			t.Fatal(err)
		}
		wantName := CookieName
		if secure {
			wantName = "__Host-latchkey_device"
		}
		if hc.Name != wantName || hc.Name != Name(secure) || hc.Value != v || hc.Path != "/" || hc.Domain != "" ||
			!hc.HttpOnly || hc.Secure != secure || hc.SameSite != http.SameSiteStrictMode ||
			hc.MaxAge != int(DefaultTTL/time.Second) {
			t.Errorf("secure=%v: %+v", secure, hc)
		}
		if n := len(hc.String()); n > 4096 {
			t.Errorf("Set-Cookie is %d bytes", n)
		}
	}
}

func TestBackoffKey(t *testing.T) {
	k := BackoffKey(alice, "0123456789abcdef")
	if strings.ToLower(k) == k {
		t.Errorf("%q could be an account key (account keys are lower case)", k)
	}
	if !strings.Contains(k, alice) || !strings.Contains(k, "0123456789abcdef") {
		t.Errorf("%q does not name the account and the device", k)
	}
	if BackoffKey(bob, "0123456789abcdef") == k || BackoffKey(alice, "fedcba9876543210") == k {
		t.Error("two devices or accounts share a key")
	}
}

// forgeWith issues values until one contains a character of chars.
func forgeWith(c *Cookies, chars string) string {
	for {
		v := c.Issue(alice)
		if strings.ContainsAny(v, chars) {
			return v
		}
	}
}

func otherChar(b byte) string {
	if b == 'A' {
		return "B"
	}
	return "A"
}

func BenchmarkVerify(b *testing.B) {
	c, _ := newTestCookies(b, testKey(1))
	v := c.Issue(alice)
	for b.Loop() {
		if _, ok := c.Verify(v, alice); !ok {
			b.Fatal("refused")
		}
	}
}
