// Package password hashes and checks passwords: argon2id in PHC form with
// bounded concurrency, NFKC normalisation, length limits, and a policy of
// minimum length, a common-password blocklist and context words.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/latchkey/latchkey"
)

// Hasher hashes and verifies passwords with argon2id. At most
// maxConcurrent hashes run at once, because each holds Params.Memory KiB
// (19 MiB by default): a burst of 200 logins would otherwise need almost
// 4 GiB (AV-02). It is safe for concurrent use.
type Hasher struct {
	params  Params
	slots   chan struct{}
	maxWait time.Duration
	dummy   string
}

// NewHasher returns a Hasher that hashes new passwords with p, runs at
// most maxConcurrent hashes at once (at least 1; the server passes
// runtime.NumCPU()), and makes a caller wait at most maxWait for a free
// slot before failing with EUnavailable (with maxWait ≤ 0 it fails at once
// when every slot is busy). It panics if p is unusable, which is a
// programming or configuration error caught at start-up.
func NewHasher(p Params, maxConcurrent int, maxWait time.Duration) *Hasher {
	if err := p.validate(); err != nil {
		panic("password: invalid params: " + err.Error())
	}
	h := &Hasher{params: p, slots: make(chan struct{}, max(maxConcurrent, 1)), maxWait: maxWait}
	// VerifyDummy runs against this hash, so its cost is that of a real
	// verification with the current parameters.
	dummy := make([]byte, 32)
	_, _ = rand.Read(dummy) // crypto/rand never returns an error on supported systems
	h.dummy = h.hashNormalized(dummy)
	return h
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// Hash returns the PHC string of password after CheckLength and
// Normalize, with a fresh 16-byte salt:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := CheckLength(password); err != nil {
		return "", err
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.hashNormalized([]byte(Normalize(password))), nil
}

func (h *Hasher) hashNormalized(password []byte) string {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		panic("password: crypto/rand failed: " + err.Error())
	}
	p := h.params
	key := argon2.IDKey(password, salt, p.Iterations, p.Memory, p.Parallelism, keyLen)
	return phc{params: p, salt: salt, key: key}.encode()
}

// Verify reports whether password matches the PHC string encoded, and
// whether encoded should be replaced by a new Hash because it was made
// with other parameters than this Hasher's (meaningful only when ok). The
// password goes through CheckLength and Normalize first, as in Hash. A
// malformed or absurd encoded value is an error, never a panic.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, needsRehash bool, err error) {
	if err := CheckLength(password); err != nil {
		return false, false, err
	}
	stored, err := decodePHC(encoded)
	if err != nil {
		return false, false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	p := stored.params
	key := argon2.IDKey([]byte(Normalize(password)), stored.salt, p.Iterations, p.Memory, p.Parallelism, uint32(len(stored.key)))
	ok = subtle.ConstantTimeCompare(key, stored.key) == 1
	needsRehash = p != h.params || len(stored.salt) != saltLen || len(stored.key) != keyLen
	return ok, needsRehash, nil
}

// VerifyDummy does the work of a Verify that fails, against a hash made at
// construction. Login calls it for an unknown email so that an unknown
// email and a wrong password take the same time (AUTH-01). It returns the
// same errors Verify would (too long, busy, cancelled), so that the
// caller can answer both cases alike under load too.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	_, _, err := h.Verify(ctx, password, h.dummy)
	return err
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	if h.maxWait <= 0 {
		return errBusy()
	}
	timer := time.NewTimer(h.maxWait)
	defer timer.Stop()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("password: waiting for a hashing slot: %w", ctx.Err())
	case <-timer.C:
		return errBusy()
	}
}

func (h *Hasher) release() { <-h.slots }

func errBusy() error {
	return latchkey.Errorf(latchkey.EUnavailable, "The server is busy; try again shortly.")
}
