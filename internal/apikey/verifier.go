package apikey

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/latchkey/latchkey"
)

// Store is the part of latchkey.Store that verification reads.
type Store interface {
	APIKeyByHash(ctx context.Context, hash []byte) (*latchkey.APIKey, error)
	UserByID(ctx context.Context, id string) (*latchkey.User, error)
}

// Toucher records when keys were last used (latchkey.APIKeyStore has it).
type Toucher interface {
	TouchAPIKeys(ctx context.Context, lastUsed map[string]time.Time) error
}

// Defaults for Options.
const (
	DefaultCacheSize = 10_000
	DefaultCacheTTL  = 30 * time.Second
	// TouchInterval is the shortest time between two writes of one key's
	// last_used_at, and how often Run flushes.
	TouchInterval = time.Minute
)

// Options tune a Verifier. The zero value is usable.
type Options struct {
	// CacheSize bounds the number of verified keys kept (default 10 000).
	CacheSize int
	// CacheTTL is how long a verified key is trusted without asking the
	// store again (default 30 s); it bounds how long a revocation made on
	// another instance takes to reach this one. Negative disables the cache.
	CacheTTL time.Duration
	// Toucher receives last-use times; nil means they are not recorded.
	Toucher Toucher
	// Logger reports flush failures in Run (default slog.Default()).
	Logger *slog.Logger
}

// Result is a verified key and its owner. A Result may be shared by many
// calls to Verify: neither it nor what it points to may be modified.
type Result struct {
	Key  *latchkey.APIKey
	User *latchkey.User
}

// Verifier checks API keys, keeping recently verified ones in memory so that
// a repeated key costs no database round trip.
type Verifier struct {
	store Store
	clock func() time.Time
	ttl   time.Duration
	cache *cache // nil when caching is off
	log   *slog.Logger
	usage usage
	// gen counts invalidations. A lookup that an invalidation overtook
	// does not cache what it read, which may be the state from before.
	gen atomic.Uint64
	// paused turns the cache off while revocations from other instances
	// could be missed (their channel is down): every key goes to the store.
	paused atomic.Bool
}

// NewVerifier returns a Verifier that reads keys from store.
func NewVerifier(store Store, clock func() time.Time, opts Options) *Verifier {
	if opts.CacheSize <= 0 {
		opts.CacheSize = DefaultCacheSize
	}
	if opts.CacheTTL == 0 {
		opts.CacheTTL = DefaultCacheTTL
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	v := &Verifier{store: store, clock: clock, ttl: opts.CacheTTL, log: opts.Logger}
	v.usage.init(opts.Toucher)
	if opts.CacheTTL > 0 {
		v.cache = newCache(opts.CacheSize, v.usage.orphan)
	}
	return v
}

// Reasons for refusing a well-formed key, for operators only.
var (
	errUnknown  = errors.New("apikey: no such key")
	errRevoked  = errors.New("apikey: key revoked")
	errExpired  = errors.New("apikey: key expired")
	errNoOwner  = errors.New("apikey: owner not found")
	errDisabled = errors.New("apikey: owner disabled")
)

// Verify returns the key and its owner, or an EInvalidAPIKey error — the
// same message whatever the reason. A malformed key never reaches the store.
// A store failure is returned as is (wrapped), so that the caller refuses the
// request: verification fails closed.
func (v *Verifier) Verify(ctx context.Context, key string) (*Result, error) {
	if err := Parse(key); err != nil {
		return nil, err
	}
	h := Hash(key)
	now := v.clock()
	if v.cache != nil && !v.paused.Load() {
		if e := v.cache.get(&h); e != nil && now.UnixNano() < e.until {
			if !e.res.Key.Usable(now) {
				// Revocation drops the entry; what is left is expiry.
				v.cache.remove(&h, e)
				return nil, invalid(errExpired)
			}
			recordUse(e, now)
			return e.res, nil
		}
	}
	return v.verifyStored(ctx, h, now)
}

// verifyStored is the cache miss. It takes the hash by value so that only
// this path, which goes to the database anyway, moves it to the heap.
func (v *Verifier) verifyStored(ctx context.Context, h [32]byte, now time.Time) (*Result, error) {
	gen := v.gen.Load()
	k, err := v.store.APIKeyByHash(ctx, h[:])
	switch {
	case latchkey.IsCode(err, latchkey.ENotFound):
		return nil, invalid(errUnknown)
	case err != nil:
		return nil, fmt.Errorf("apikey: look up key: %w", err)
	}
	// The store found the key by its hash; comparing again in constant time
	// keeps a store whose lookup is loose (a prefix index, say) from letting
	// another key through.
	if subtle.ConstantTimeCompare(k.Hash, h[:]) != 1 {
		return nil, invalid(errUnknown)
	}
	switch {
	case k.RevokedAt != nil:
		return nil, invalid(errRevoked)
	case !k.Usable(now):
		return nil, invalid(errExpired)
	}
	u, err := v.store.UserByID(ctx, k.UserID)
	switch {
	case latchkey.IsCode(err, latchkey.ENotFound):
		return nil, invalid(errNoOwner)
	case err != nil:
		return nil, fmt.Errorf("apikey: look up key owner: %w", err)
	case u.Disabled:
		return nil, invalid(errDisabled)
	}
	res := &Result{Key: k, User: u}
	if v.cache != nil {
		e := &entry{res: res, until: now.Add(v.ttl).UnixNano()}
		recordUse(e, now)
		v.cache.put(h, e, now.UnixNano(), func() bool { return v.gen.Load() == gen })
	} else {
		v.usage.orphan(k.ID, now.UnixNano())
	}
	return res, nil
}

// Invalidate forgets the key with this ID at once, so that its next use goes
// to the store. Call it when the key is revoked.
func (v *Verifier) Invalidate(keyID string) {
	if v.cache != nil {
		v.gen.Add(1) // before removing: see put
		v.cache.removeIf(func(r *Result) bool { return r.Key.ID == keyID })
	}
}

// PauseCache stops (true) or resumes (false) answering from the cache.
// Either way it is emptied: nothing read while revocations could be missed
// is trusted afterwards.
func (v *Verifier) PauseCache(paused bool) {
	v.paused.Store(paused)
	if v.cache != nil {
		v.gen.Add(1)
		v.cache.removeIf(func(*Result) bool { return true })
	}
}

// InvalidateUser forgets every key of the user at once. Call it when the
// user is disabled or deleted, or their keys are revoked.
func (v *Verifier) InvalidateUser(userID string) {
	if v.cache != nil {
		v.gen.Add(1)
		v.cache.removeIf(func(r *Result) bool { return r.Key.UserID == userID })
	}
}

// usage holds the last-use times that left the cache before being written,
// and when each key was last written.
type usage struct {
	toucher Toucher

	mu      sync.Mutex
	orphans map[string]int64 // key ID → last use not yet written

	flushMu sync.Mutex           // one flush at a time; guards last
	last    map[string]time.Time // key ID → time of its last write
}

func (u *usage) init(t Toucher) {
	u.toucher = t
	u.orphans = make(map[string]int64)
	u.last = make(map[string]time.Time)
}

// orphan keeps a pending use of a key whose cache entry is going away.
func (u *usage) orphan(keyID string, seen int64) {
	if u.toucher == nil {
		return
	}
	u.mu.Lock()
	if seen > u.orphans[keyID] {
		u.orphans[keyID] = seen
	}
	u.mu.Unlock()
}

// recordUse notes that e was used at now. It writes only when the time moves
// on by a second or more: last_used_at needs no finer grain, and skipping the
// write keeps a key used from many cores at once from bouncing a cache line.
func recordUse(e *entry, now time.Time) {
	t := now.UnixNano()
	if t-e.seen.Load() >= int64(time.Second) {
		e.seen.Store(t)
	}
}
