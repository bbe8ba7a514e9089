package clientip

import "net/netip"

// RateKey returns the string under which a client address is rate limited.
// IPv4 addresses count singly; IPv6 addresses count per /64, because one
// subscriber usually holds a whole /64 and could otherwise rotate through
// 2^64 addresses to dodge a per-IP limit.
func RateKey(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	if !a.IsValid() {
		return "unknown"
	}
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
