// Package device issues and checks device cookies, the defence against
// malicious lockout described in OWASP's "Blocking Brute Force Attacks"
// (device cookies).
//
// The problem: a back-off counted per account stops one account being
// guessed from many addresses, but it also lets anybody lock the owner out
// with a few wrong passwords. A device cookie tells the owner's own clients
// apart from everybody else. A client that has signed in to an account gets
// a cookie, signed by the server, naming that account. When a client signs
// in to the same account again presenting a valid cookie, its failures are
// counted on a key of its own (one per device) instead of the account's,
// and failures elsewhere do not block it. Clients without a valid cookie for
// the account (an attacker, or the owner on a new device) share the
// account-wide back-off as before.
//
// Why not trust IP addresses instead: addresses are shared (NAT, carrier-grade
// NAT, VPNs), an attacker on the same network would inherit the trust, and
// people move between networks all day. The cookie belongs to one client and
// cannot be chosen with a header.
//
// Why a back-off per device, not none: a cookie can be stolen (malware, a
// shared computer). A trusted device still slows down after a few failures,
// on the same schedule as the account, so a stolen cookie buys no more
// guesses than the owner has, and does not weaken anybody else's limit.
//
// Why bound to the account: the MAC covers the account key, so a cookie
// earned by signing in to one account (the attacker's own, say) exempts
// nothing on any other. A browser keeps one device cookie; signing in to
// another account replaces it.
//
// A device cookie is not a credential. It never signs anybody in and never
// skips the password check; it only decides which back-off counter a failure
// goes to. Cookies are stateless, so one cannot be revoked alone: they expire
// after their TTL, and all of them stop working when the key changes (a new
// master key, or a new KeyPurpose).
package device

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"time"
)

const (
	// CookieName is the cookie's name on a plain-http development server.
	CookieName = "latchkey_device"
	// SecureCookieName is its name over HTTPS: the __Host- prefix makes the
	// browser refuse it unless it is Secure, host-only and Path=/.
	SecureCookieName = "__Host-" + CookieName

	// DefaultTTL is how long a device stays known without signing in again.
	DefaultTTL = 180 * 24 * time.Hour
	// MaxTTL is the longest lifetime New accepts: browsers cap a cookie's
	// lifetime at 400 days anyway.
	MaxTTL = 400 * 24 * time.Hour
	// MinKeySize is the shortest HMAC key New accepts.
	MinKeySize = 32
	// KeyPurpose is the purpose to derive the key under with
	// crypt.DeriveKey. Changing it invalidates every device cookie.
	KeyPurpose = "latchkey device cookie v1"

	// maxClockSkew is how far in the future an issue time may lie, for
	// instances whose clocks differ slightly. Anything later is refused.
	maxClockSkew = time.Minute
)

// Cookie value layout, before base64url without padding:
// version (1) | issued at, Unix seconds (8, big-endian) | random (16) |
// HMAC-SHA256 (32) over macLabel | version | issued at | random | account.
// Everything ahead of the account has a fixed length, so the MAC input is
// unambiguous.
const (
	version   byte = 1
	macLabel       = "latchkey device cookie\x00"
	headerLen      = 1 + 8 + randomLen
	randomLen      = 16
	rawLen         = headerLen + sha256.Size
	// idLen is the number of bytes in a device id (hex-encoded, so twice
	// as many characters).
	idLen = 8
)

// valueLen is the length of every cookie value; Verify refuses any other
// length before decoding anything.
var valueLen = base64.RawURLEncoding.EncodedLen(rawLen)

// Cookies issues and verifies device cookies under one key. It is safe for
// concurrent use.
type Cookies struct {
	key    []byte
	clock  func() time.Time
	ttl    time.Duration
	random io.Reader // crypto/rand; tests replace it
}

// New returns Cookies signing with key (at least MinKeySize bytes; derive it
// from the master key with crypt.DeriveKey(master, KeyPurpose) so that it
// serves no other purpose). clock is the time source (nil means time.Now); values expire ttl
// after they are issued (0 < ttl ≤ MaxTTL; DefaultTTL is a good choice).
func New(key []byte, clock func() time.Time, ttl time.Duration) (*Cookies, error) {
	if len(key) < MinKeySize {
		return nil, fmt.Errorf("device: key must be at least %d bytes, got %d", MinKeySize, len(key))
	}
	if ttl <= 0 || ttl > MaxTTL {
		return nil, fmt.Errorf("device: ttl must be between 0 and %s, got %s", MaxTTL, ttl)
	}
	if clock == nil {
		clock = time.Now
	}
	return &Cookies{key: append([]byte(nil), key...), clock: clock, ttl: ttl, random: rand.Reader}, nil
}

// TTL is how long an issued value stays valid.
func (c *Cookies) TTL() time.Duration { return c.ttl }

// Issue returns a new cookie value for account, the canonical per-account
// key that the server also counts the back-off on (a normalised email).
// Each call returns a different value with a different device id; the
// server issues one after every successful sign-in.
func (c *Cookies) Issue(account string) string {
	var raw [rawLen]byte
	raw[0] = version
	binary.BigEndian.PutUint64(raw[1:9], uint64(c.clock().Unix()))
	if _, err := io.ReadFull(c.random, raw[9:headerLen]); err != nil {
		panic("device: reading random bytes: " + err.Error())
	}
	c.sum(raw[headerLen:headerLen], raw[:headerLen], account)
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

// Verify reports whether value is a cookie this key issued for account that
// has not expired, and if so returns its device id: a short, non-secret
// name for the device (hex), which the server uses as the device's back-off
// key (see BackoffKey). A value for another account, from another key,
// altered, truncated, too long, of an unknown version, expired or dated in
// the future is refused, with no reason given.
func (c *Cookies) Verify(value, account string) (deviceID string, ok bool) {
	if len(value) != valueLen || account == "" {
		return "", false
	}
	var raw [rawLen]byte
	n, err := base64.RawURLEncoding.Strict().Decode(raw[:], []byte(value))
	if err != nil || n != rawLen || raw[0] != version {
		return "", false
	}
	var want [sha256.Size]byte
	if !hmac.Equal(raw[headerLen:], c.sum(want[:0], raw[:headerLen], account)) {
		return "", false
	}
	iat := int64(binary.BigEndian.Uint64(raw[1:9]))
	issued, now := time.Unix(iat, 0), c.clock()
	if iat < 0 || issued.After(now.Add(maxClockSkew)) || !now.Before(issued.Add(c.ttl)) {
		return "", false
	}
	id := sha256.Sum256(raw[9:headerLen])
	return hex.EncodeToString(id[:idLen]), true
}

// sum appends the MAC of header and account to dst.
func (c *Cookies) sum(dst, header []byte, account string) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(macLabel))
	m.Write(header)
	m.Write([]byte(account))
	return m.Sum(dst)
}

// Name is the cookie's name: SecureCookieName over HTTPS, CookieName on a
// plain-http development server (where browsers refuse __Host- cookies).
func Name(secure bool) string {
	if secure {
		return SecureCookieName
	}
	return CookieName
}

// HTTPCookie wraps a value from Issue in a cookie: HttpOnly, SameSite=Strict
// (it is only needed on same-site sign-in requests), Path=/, Secure over
// HTTPS, lasting the TTL.
func (c *Cookies) HTTPCookie(value string, secure bool) *http.Cookie {
	return &http.Cookie{
		Name: Name(secure), Value: value, Path: "/", MaxAge: int(c.ttl / time.Second),
		Secure: secure, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	}
}

// BackoffKey is the back-off key of one device on one account. It starts
// with an upper-case letter, which no account key contains (the server
// lower-cases every email it counts on), so no typed email can name, and
// lock, a device's counter.
func BackoffKey(account, deviceID string) string {
	return "Device " + deviceID + " " + account
}
