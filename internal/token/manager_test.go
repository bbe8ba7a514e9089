package token

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/jwttest"
	"github.com/latchkey/latchkey/internal/store/sqlite"
	"github.com/latchkey/latchkey/internal/testenv"
)

const testTTL = 15 * time.Minute

func openStore(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return db
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newManager(t *testing.T, db latchkey.Store, alg string, clock *testenv.Clock) *KeyManager {
	t.Helper()
	m := NewKeyManager(db, sharedSealer, alg, testTTL, clock.Now, quietLogger())
	if err := m.Init(t.Context()); err != nil {
		t.Fatal(err)
	}
	return m
}

// states counts the stored keys by state.
func states(t *testing.T, db latchkey.Store) map[string][]latchkey.SigningKey {
	t.Helper()
	keys, err := db.ListSigningKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]latchkey.SigningKey{}
	for _, k := range keys {
		out[k.State] = append(out[k.State], k)
	}
	return out
}

func TestManagerInit(t *testing.T) {
	db := openStore(t)
	clock := testenv.NewClock(testNow)
	m := newManager(t, db, ES256, clock)
	st := states(t, db)
	if len(st[latchkey.KeyCurrent]) != 1 || len(st[latchkey.KeyNext]) != 1 || len(st) != 2 {
		t.Fatalf("after Init: %v", st)
	}
	cur := st[latchkey.KeyCurrent][0]
	if m.Keyring().CurrentKID() != cur.ID || cur.ActivatedAt == nil || cur.Algorithm != ES256 {
		t.Fatalf("current %+v, keyring signs with %s", cur, m.Keyring().CurrentKID())
	}
	for _, k := range m.Keys() {
		if k.SealedPrivate != nil {
			t.Fatal("Keys lists a sealed private key")
		}
	}
	if len(m.Keys()) != 2 || !m.Keyring().Has(st[latchkey.KeyNext][0].ID) {
		t.Fatal("the next key is not published")
	}
	// A second instance finds the keys and creates none.
	newManager(t, db, ES256, clock)
	if st := states(t, db); len(st[latchkey.KeyCurrent]) != 1 || len(st[latchkey.KeyNext]) != 1 {
		t.Fatalf("a second Init changed the keys: %v", st)
	}
	bad := NewKeyManager(db, sharedSealer, "HS256", testTTL, clock.Now, quietLogger())
	if err := bad.Init(t.Context()); err == nil {
		t.Fatal("Init accepted HS256")
	}
}

// Instances that start together on one database end up with one current key.
func TestManagerConcurrentInit(t *testing.T) {
	db := openStore(t)
	clock := testenv.NewClock(testNow)
	var wg sync.WaitGroup
	managers := make([]*KeyManager, 4)
	errs := make([]error, len(managers))
	for i := range managers {
		managers[i] = NewKeyManager(db, sharedSealer, ES256, testTTL, clock.Now, quietLogger())
		wg.Go(func() { errs[i] = managers[i].Init(t.Context()) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	st := states(t, db)
	if len(st[latchkey.KeyCurrent]) != 1 || len(st[latchkey.KeyNext]) != 1 {
		t.Fatalf("concurrent Init left %d current and %d next keys", len(st[latchkey.KeyCurrent]), len(st[latchkey.KeyNext]))
	}
	for _, m := range managers {
		if m.Keyring().CurrentKID() != st[latchkey.KeyCurrent][0].ID {
			t.Fatal("instances sign with different keys")
		}
	}
}

func TestManagerRotate(t *testing.T) {
	db := openStore(t)
	clock := testenv.NewClock(testNow)
	m := newManager(t, db, ES256, clock)
	other := newManager(t, db, ES256, clock) // another instance
	iss := NewIssuer(m.Keyring, testIssuer, testAudience, testTTL, clock.Now)
	ver := NewVerifier(m.Keyring, testIssuer, testAudience, 0, clock.Now)
	before := m.Keyring()
	cached := NewVerifier(func() *Keyring { return before }, testIssuer, testAudience, 0, clock.Now)
	clock.Advance(time.Hour) // the next key has been published for a while
	oldTok, _, err := iss.Issue(Grant{UserID: "user-a", SessionID: "sess-a"})
	if err != nil {
		t.Fatal(err)
	}
	st := states(t, db)
	oldKID, nextKID := st[latchkey.KeyCurrent][0].ID, st[latchkey.KeyNext][0].ID

	promoted, err := m.Rotate(t.Context(), latchkey.AuditEvent{IP: "192.0.2.1", UserAgent: "curl/8", UserID: "admin-1"})
	if err != nil {
		t.Fatal(err)
	}
	if promoted.ID != nextKID || m.Keyring().CurrentKID() != nextKID {
		t.Fatalf("promoted %s, keyring signs with %s, want the next key %s", promoted.ID, m.Keyring().CurrentKID(), nextKID)
	}
	st = states(t, db)
	if len(st[latchkey.KeyRetired]) != 1 || st[latchkey.KeyRetired][0].ID != oldKID || st[latchkey.KeyRetired][0].RetiredAt == nil ||
		!st[latchkey.KeyRetired][0].RetiredAt.Equal(clock.Now()) {
		t.Fatalf("retired: %+v", st[latchkey.KeyRetired])
	}
	if cur := st[latchkey.KeyCurrent]; len(cur) != 1 || cur[0].ID != nextKID || !cur[0].ActivatedAt.Equal(clock.Now()) {
		t.Fatalf("current: %+v", cur)
	}
	if len(st[latchkey.KeyNext]) != 1 || st[latchkey.KeyNext][0].ID == nextKID {
		t.Fatalf("no new next key: %+v", st[latchkey.KeyNext])
	}
	// Old tokens still verify; new ones carry the new kid and verify even
	// with a keyring cached before the rotation (the next key was published).
	wantValid(t, ver, oldTok)
	newTok, _, err := iss.Issue(Grant{UserID: "user-a", SessionID: "sess-a"})
	if err != nil {
		t.Fatal(err)
	}
	h, _, _ := jwttest.Segments(t, newTok)
	if h != canonicalHeader(ES256, nextKID) {
		t.Fatal("the new token is not signed by the promoted key")
	}
	wantValid(t, ver, newTok)
	wantValid(t, cached, newTok)
	// The other instance signs with the old key until it reloads.
	if other.Keyring().CurrentKID() != oldKID {
		t.Fatal("the other instance changed without reloading")
	}
	if err := other.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if other.Keyring().CurrentKID() != nextKID {
		t.Fatal("Reload did not pick up the rotation")
	}
	// The audit event went in with the rotation.
	events, _, err := db.ListAudit(t.Context(), latchkey.AuditFilter{Type: latchkey.AuditKeysRotated})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].IP != "192.0.2.1" || events[0].UserAgent != "curl/8" ||
		events[0].UserID != "admin-1" || events[0].Outcome != latchkey.OutcomeSuccess {
		t.Fatalf("audit: %+v", events)
	}
}

// A change of the configured algorithm reaches signing through the next
// key: it is published one rotation before it signs.
func TestManagerAlgorithmChange(t *testing.T) {
	db := openStore(t)
	clock := testenv.NewClock(testNow)
	newManager(t, db, ES256, clock)
	m := newManager(t, db, EdDSA, clock)
	ver := NewVerifier(m.Keyring, testIssuer, testAudience, 0, clock.Now)
	iss := NewIssuer(m.Keyring, testIssuer, testAudience, testTTL, clock.Now)
	if m.Keyring().CurrentAlgorithm() != ES256 {
		t.Fatal("the algorithm changed without a rotation")
	}
	esTok, _, _ := iss.Issue(Grant{UserID: "u", SessionID: "s"})
	clock.Advance(time.Hour)
	k, err := m.Rotate(t.Context(), latchkey.AuditEvent{})
	if err != nil {
		t.Fatal(err)
	}
	if k.Algorithm != ES256 {
		t.Fatalf("first rotation promoted a %s key; the published next key was ES256", k.Algorithm)
	}
	if next := states(t, db)[latchkey.KeyNext]; len(next) != 1 || next[0].Algorithm != EdDSA {
		t.Fatalf("the new next key is %+v, want EdDSA", next)
	}
	clock.Advance(time.Hour)
	if k, err = m.Rotate(t.Context(), latchkey.AuditEvent{}); err != nil || k.Algorithm != EdDSA {
		t.Fatalf("second rotation: %v, %s", err, k.Algorithm)
	}
	edTok, _, _ := iss.Issue(Grant{UserID: "u", SessionID: "s"})
	wantValid(t, ver, edTok)
	clock.Advance(-2 * time.Hour) // back to when esTok was alive: its key is still published
	wantValid(t, ver, esTok)
}

func TestManagerPrune(t *testing.T) {
	db := openStore(t)
	clock := testenv.NewClock(testNow)
	m := newManager(t, db, ES256, clock)
	ver := NewVerifier(m.Keyring, testIssuer, testAudience, 0, clock.Now)
	tok, _, err := NewIssuer(m.Keyring, testIssuer, testAudience, testTTL, clock.Now).Issue(Grant{UserID: "u", SessionID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Rotate(t.Context(), latchkey.AuditEvent{}); err != nil {
		t.Fatal(err)
	}
	retired := states(t, db)[latchkey.KeyRetired][0].ID
	// Until every token it signed has expired, the retired key stays.
	clock.Advance(testTTL + ClockSkew)
	if err := m.Prune(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !m.Keyring().Has(retired) {
		t.Fatal("pruned a retired key whose tokens may still live")
	}
	clock.Advance(time.Second)
	if err := m.Prune(t.Context()); err != nil {
		t.Fatal(err)
	}
	if m.Keyring().Has(retired) || len(states(t, db)[latchkey.KeyRetired]) != 0 {
		t.Fatal("the expired retired key was not removed")
	}
	clock.Advance(-time.Hour) // the token's own exp is not what refuses it
	wantInvalid(t, ver, tok)
	if st := states(t, db); len(st[latchkey.KeyCurrent]) != 1 || len(st[latchkey.KeyNext]) != 1 {
		t.Fatalf("prune touched live keys: %v", st)
	}
}

// Automatic rotation happens once the current key is old enough, and only
// once when several instances notice it.
func TestManagerAutomaticRotation(t *testing.T) {
	db := openStore(t)
	clock := testenv.NewClock(testNow)
	a := newManager(t, db, ES256, clock)
	b := newManager(t, db, ES256, clock)
	first := a.Keyring().CurrentKID()
	const every = 24 * time.Hour
	clock.Advance(every - time.Minute)
	a.tick(t.Context(), every)
	if a.Keyring().CurrentKID() != first {
		t.Fatal("rotated before the interval")
	}
	clock.Advance(time.Minute)
	a.tick(t.Context(), every)
	b.tick(t.Context(), 0) // b only reloads
	second := a.Keyring().CurrentKID()
	if second == first || b.Keyring().CurrentKID() != second {
		t.Fatalf("after the interval: a signs with %s, b with %s (was %s)", second, b.Keyring().CurrentKID(), first)
	}
	// An instance whose view is stale (it saw the old key as due) checks
	// again inside the transaction, sees the fresh rotation and does nothing.
	if !b.rotationDue([]latchkey.SigningKey{{ID: first, State: latchkey.KeyCurrent, CreatedAt: testNow}}, clock.Now(), every) {
		t.Fatal("the stale view should look due")
	}
	due := func(keys []latchkey.SigningKey, now time.Time) bool { return b.rotationDue(keys, now, every) }
	if _, err := b.rotate(t.Context(), latchkey.AuditEvent{}, due); !errors.Is(err, errNotDue) {
		t.Fatalf("rotation with a stale view: %v", err)
	}
	b.tick(t.Context(), every)
	if len(states(t, db)[latchkey.KeyRetired]) != 1 {
		t.Fatal("a second instance rotated again")
	}
	events, _, _ := db.ListAudit(t.Context(), latchkey.AuditFilter{Type: latchkey.AuditKeysRotated})
	if len(events) != 1 || events[0].Reason != "automatic rotation" {
		t.Fatalf("audit: %+v", events)
	}
}

// Run reloads in the background and stops with its context.
func TestManagerRun(t *testing.T) {
	db := openStore(t)
	clock := testenv.NewClock(testNow)
	a := newManager(t, db, ES256, clock)
	b := newManager(t, db, ES256, clock)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { b.Run(ctx, time.Millisecond, 0); close(done) }()
	k, err := a.Rotate(t.Context(), latchkey.AuditEvent{})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for b.Keyring().CurrentKID() != k.ID {
		select {
		case <-deadline:
			t.Fatal("Run never picked up the rotation")
		case <-time.After(time.Millisecond):
		}
	}
	cancel()
	<-done
}
