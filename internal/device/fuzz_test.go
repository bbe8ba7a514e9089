package device

import (
	"encoding/hex"
	"testing"
)

// FuzzVerify feeds untrusted cookie values and accounts to Verify: it must
// never panic, and it must accept only a value it issued, and only for the
// account it was issued for. Issuing is deterministic in tests (counterReader
// and a fixed clock), so every fuzz worker knows the same issued values.
func FuzzVerify(f *testing.F) {
	c, clock := newTestCookies(f, testKey(1))
	issued := map[string]string{} // value → account
	for _, account := range []string{alice, bob, "x"} {
		for range 2 {
			issued[c.Issue(account)] = account
		}
	}
	clock.Set(t0.Add(DefaultTTL / 2))
	issuedLater := c.Issue(alice)
	issued[issuedLater] = alice

	for v, account := range issued {
		f.Add(v, account)
		f.Add(v, bob)
		f.Add(v[:len(v)-1], account)
		f.Add(v+"A", account)
		f.Add(v[:40]+"\n"+v[41:], account)
		f.Add(otherChar(v[10])+v[1:], account)
	}
	for _, v := range []string{"", "A", "====", "\x00\xff", "%2F", forge(c, 2, t0.Unix(), alice), forge(c, version, 1<<62, alice)} {
		f.Add(v, alice)
	}
	f.Fuzz(func(t *testing.T, value, account string) {
		id, ok := c.Verify(value, account)
		if !ok {
			if id != "" {
				t.Fatalf("refused with device id %q", id)
			}
			return
		}
		if want, found := issued[value]; !found || want != account {
			t.Fatalf("accepted %q for %q: issued for %q (issued: %v)", value, account, want, found)
		}
		if _, err := hex.DecodeString(id); err != nil || len(id) != 2*idLen {
			t.Fatalf("device id %q", id)
		}
	})
}
