package token

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/latchkey/latchkey"
)

// KeyManager keeps the signing keys of one latchkey instance in step with
// the database: it creates the first keys, rotates, prunes, and publishes
// an immutable Keyring that Issuer and Verifier read without locks.
// Several instances may share one database; each reloads periodically to
// pick up the others' rotations.
type KeyManager struct {
	store     KeyStore
	sealer    Sealer
	alg       string
	accessTTL time.Duration
	clock     func() time.Time
	log       *slog.Logger

	state atomic.Pointer[keyState]
}

// keyState is what one load of the keys produced.
type keyState struct {
	ring *Keyring
	keys []latchkey.SigningKey
}

// KeyStore is the storage a KeyManager needs: the signing keys, and a
// transaction in which it changes them and records the change in the
// audit log.
type KeyStore interface {
	latchkey.SigningKeyStore
	InTx(ctx context.Context, fn func(tx latchkey.Tx) error) error
}

// NewKeyManager returns a KeyManager; call Init before using Keyring.
// alg is the algorithm of keys it creates from now on; accessTTL is the
// lifetime of access tokens, which decides how long a retired key stays
// published.
func NewKeyManager(store KeyStore, s Sealer, alg string, accessTTL time.Duration, clock func() time.Time, logger *slog.Logger) *KeyManager {
	return &KeyManager{store: store, sealer: s, alg: alg, accessTTL: accessTTL, clock: clock, log: logger}
}

// errNoCurrent means the database holds no current key.
var errNoCurrent = errors.New("token: no current signing key")

// Init loads the keys and, on a database without a current key, creates a
// current and a next one in one transaction. The transaction reads the keys
// again, so an instance that starts alongside another one that has just
// created them uses those. (If two transactions still both create keys,
// every instance signs with the newest current key and the other stays
// published until the next rotation retires it.)
func (m *KeyManager) Init(ctx context.Context) error {
	if !Algorithms(m.alg) {
		return fmt.Errorf("token: unsupported signing algorithm %q", m.alg)
	}
	keys, err := m.store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("token: list signing keys: %w", err)
	}
	if !slices.ContainsFunc(keys, isCurrent) {
		err := m.store.InTx(ctx, func(tx latchkey.Tx) error {
			keys, err := tx.ListSigningKeys(ctx)
			if err != nil {
				return fmt.Errorf("list signing keys: %w", err)
			}
			if slices.ContainsFunc(keys, isCurrent) {
				return nil
			}
			return m.bootstrap(ctx, tx, keys)
		})
		if err != nil {
			return fmt.Errorf("token: create signing keys: %w", err)
		}
	}
	return m.Reload(ctx)
}

// bootstrap makes a key current (a waiting next one, else a new one) and
// makes sure a next key is published.
func (m *KeyManager) bootstrap(ctx context.Context, tx latchkey.Tx, keys []latchkey.SigningKey) error {
	now := m.clock().UTC()
	current, ok := oldestNext(keys)
	if ok {
		current.State, current.ActivatedAt = latchkey.KeyCurrent, &now
		if err := tx.UpdateSigningKey(ctx, &current); err != nil {
			return fmt.Errorf("promote key %s: %w", current.ID, err)
		}
	} else {
		k, err := m.create(ctx, tx, latchkey.KeyCurrent, now)
		if err != nil {
			return err
		}
		current = k
	}
	m.log.InfoContext(ctx, "signing key is now current", "kid", current.ID, "alg", current.Algorithm)
	return m.ensureNext(ctx, tx, keys, current.ID, now)
}

// create generates a key of the configured algorithm in state and stores it.
func (m *KeyManager) create(ctx context.Context, tx latchkey.Tx, state string, now time.Time) (latchkey.SigningKey, error) {
	k, err := GenerateKey(m.alg, m.sealer, now)
	if err != nil {
		return latchkey.SigningKey{}, err
	}
	k.State = state
	if state == latchkey.KeyCurrent {
		k.ActivatedAt = &now
	}
	if err := tx.CreateSigningKey(ctx, &k); err != nil {
		return latchkey.SigningKey{}, fmt.Errorf("store new key: %w", err)
	}
	return k, nil
}

// ensureNext creates a next key unless one (other than exceptID) exists.
func (m *KeyManager) ensureNext(ctx context.Context, tx latchkey.Tx, keys []latchkey.SigningKey, exceptID string, now time.Time) error {
	for _, k := range keys {
		if k.State == latchkey.KeyNext && k.ID != exceptID {
			return nil
		}
	}
	next, err := m.create(ctx, tx, latchkey.KeyNext, now)
	if err != nil {
		return err
	}
	m.log.InfoContext(ctx, "signing key published as next", "kid", next.ID, "alg", next.Algorithm)
	return nil
}

// Keyring returns the keys in force. It is nil before Init succeeds.
func (m *KeyManager) Keyring() *Keyring {
	if st := m.state.Load(); st != nil {
		return st.ring
	}
	return nil
}

// Keys lists the published keys, newest first, without their sealed
// private halves.
func (m *KeyManager) Keys() []latchkey.SigningKey {
	st := m.state.Load()
	if st == nil {
		return nil
	}
	out := slices.Clone(st.keys)
	for i := range out {
		out[i].SealedPrivate = nil
	}
	return out
}

// Reload reads the keys from the database and swaps in a new Keyring. On
// any failure, or when no key is current, the keyring in force stays.
func (m *KeyManager) Reload(ctx context.Context) error {
	keys, err := m.store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("token: list signing keys: %w", err)
	}
	ring, err := NewKeyring(keys, m.sealer)
	if err != nil {
		return err
	}
	if ring.CurrentKID() == "" {
		return errNoCurrent
	}
	if old := m.Keyring(); old != nil && old.CurrentKID() != ring.CurrentKID() {
		m.log.InfoContext(ctx, "signing key changed", "kid", ring.CurrentKID(), "previous_kid", old.CurrentKID())
	}
	m.state.Store(&keyState{ring: ring, keys: keys})
	return nil
}

// Rotate retires the current key, promotes the next one and publishes a
// new next key (of the configured algorithm), and appends audit (its type
// set to keys.rotated) in the same transaction; then it reloads. It
// returns the key that now signs.
func (m *KeyManager) Rotate(ctx context.Context, audit latchkey.AuditEvent) (latchkey.SigningKey, error) {
	return m.rotate(ctx, audit, nil)
}

// errNotDue stops an automatic rotation that another instance has done.
var errNotDue = errors.New("rotation not due")

// rotate does Rotate; when due is set it is asked, inside the transaction,
// whether the rotation is still wanted.
func (m *KeyManager) rotate(ctx context.Context, audit latchkey.AuditEvent, due func([]latchkey.SigningKey, time.Time) bool) (latchkey.SigningKey, error) {
	var promoted latchkey.SigningKey
	err := m.store.InTx(ctx, func(tx latchkey.Tx) error {
		keys, err := tx.ListSigningKeys(ctx)
		if err != nil {
			return fmt.Errorf("list signing keys: %w", err)
		}
		now := m.clock().UTC()
		if due != nil && !due(keys, now) {
			return errNotDue
		}
		var retired []string
		for _, k := range keys {
			if k.State != latchkey.KeyCurrent {
				continue
			}
			k.State, k.RetiredAt = latchkey.KeyRetired, &now
			if err := tx.UpdateSigningKey(ctx, &k); err != nil {
				return fmt.Errorf("retire key %s: %w", k.ID, err)
			}
			retired = append(retired, k.ID)
		}
		next, ok := oldestNext(keys)
		if ok {
			if age := now.Sub(next.CreatedAt); age < m.accessTTL {
				// Verifiers that cached the JWKS before this key appeared
				// will have to fetch it again.
				m.log.WarnContext(ctx, "promoting a next key published less than one access-token lifetime ago",
					"kid", next.ID, "published_for", age.String())
			}
			next.State, next.ActivatedAt = latchkey.KeyCurrent, &now
			if err := tx.UpdateSigningKey(ctx, &next); err != nil {
				return fmt.Errorf("promote key %s: %w", next.ID, err)
			}
		} else {
			m.log.WarnContext(ctx, "no next key to promote; a new key signs at once")
			if next, err = m.create(ctx, tx, latchkey.KeyCurrent, now); err != nil {
				return err
			}
		}
		promoted = next
		if err := m.ensureNext(ctx, tx, keys, next.ID, now); err != nil {
			return err
		}
		audit.Type = latchkey.AuditKeysRotated
		if audit.ID == "" {
			audit.ID = latchkey.NewID(now)
		}
		if audit.Time.IsZero() {
			audit.Time = now
		}
		if audit.Outcome == "" {
			audit.Outcome = latchkey.OutcomeSuccess
		}
		if audit.Reason == "" {
			audit.Reason = fmt.Sprintf("key %s now signs; retired %v", next.ID, retired)
		}
		if err := tx.AppendAudit(ctx, &audit); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, errNotDue) {
			return latchkey.SigningKey{}, err
		}
		return latchkey.SigningKey{}, fmt.Errorf("token: rotate signing keys: %w", err)
	}
	m.log.InfoContext(ctx, "signing keys rotated", "kid", promoted.ID, "alg", promoted.Algorithm)
	promoted.SealedPrivate = nil
	if err := m.Reload(ctx); err != nil {
		return promoted, err
	}
	return promoted, nil
}

// Prune deletes retired keys whose every token has expired everywhere:
// retired more than one access-token lifetime plus ClockSkew ago (other
// hosts still accept a token for ClockSkew after its exp).
func (m *KeyManager) Prune(ctx context.Context) error {
	keys, err := m.store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("token: list signing keys: %w", err)
	}
	now := m.clock()
	deleted := 0
	for _, k := range keys {
		if k.State != latchkey.KeyRetired || k.RetiredAt == nil || !now.After(k.RetiredAt.Add(m.accessTTL+ClockSkew)) {
			continue
		}
		err := m.store.DeleteSigningKey(ctx, k.ID)
		if err != nil && !latchkey.IsCode(err, latchkey.ENotFound) {
			return fmt.Errorf("token: delete retired key %s: %w", k.ID, err)
		}
		m.log.InfoContext(ctx, "retired signing key removed", "kid", k.ID)
		deleted++
	}
	if deleted == 0 {
		return nil
	}
	return m.Reload(ctx)
}

// Run reloads the keys every reloadEvery (other instances may have
// rotated), prunes expired retired keys, and rotates when the current key
// has signed for rotateEvery (0: never automatically). It returns when ctx
// is done. Failures are logged and retried on the next tick: the keyring in
// force keeps working meanwhile.
func (m *KeyManager) Run(ctx context.Context, reloadEvery, rotateEvery time.Duration) {
	if reloadEvery <= 0 {
		reloadEvery = time.Minute
	}
	t := time.NewTicker(reloadEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.tick(ctx, rotateEvery)
		}
	}
}

// tick is one round of Run.
func (m *KeyManager) tick(ctx context.Context, rotateEvery time.Duration) {
	if err := m.Reload(ctx); err != nil {
		m.log.ErrorContext(ctx, "reloading signing keys failed", "err", err)
	}
	if err := m.Prune(ctx); err != nil {
		m.log.ErrorContext(ctx, "pruning signing keys failed", "err", err)
	}
	if rotateEvery <= 0 {
		return
	}
	due := func(keys []latchkey.SigningKey, now time.Time) bool { return m.rotationDue(keys, now, rotateEvery) }
	if !due(m.state.Load().keysOrNil(), m.clock()) {
		return
	}
	audit := latchkey.AuditEvent{Reason: "automatic rotation"}
	if _, err := m.rotate(ctx, audit, due); err != nil && !errors.Is(err, errNotDue) {
		m.log.ErrorContext(ctx, "automatic key rotation failed", "err", err)
	}
}

// rotationDue reports whether the newest current key has signed for
// rotateEvery and the next key has been published for at least one
// access-token lifetime (so that caches hold it before it signs).
func (m *KeyManager) rotationDue(keys []latchkey.SigningKey, now time.Time, rotateEvery time.Duration) bool {
	var current *latchkey.SigningKey
	for i := range keys {
		if isCurrent(keys[i]) && (current == nil || newer(&keys[i], current)) {
			current = &keys[i]
		}
	}
	if current == nil || now.Before(activated(current).Add(rotateEvery)) {
		return false
	}
	next, ok := oldestNext(keys)
	return !ok || !now.Before(next.CreatedAt.Add(m.accessTTL))
}

func (st *keyState) keysOrNil() []latchkey.SigningKey {
	if st == nil {
		return nil
	}
	return st.keys
}

func isCurrent(k latchkey.SigningKey) bool { return k.State == latchkey.KeyCurrent }

// oldestNext returns the next key published longest ago.
func oldestNext(keys []latchkey.SigningKey) (latchkey.SigningKey, bool) {
	var best latchkey.SigningKey
	found := false
	for _, k := range keys {
		if k.State == latchkey.KeyNext && (!found || k.CreatedAt.Before(best.CreatedAt)) {
			best, found = k, true
		}
	}
	return best, found
}
