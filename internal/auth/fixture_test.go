package auth_test

import (
	"context"
	"crypto/rand"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/apikey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/crypt"
	"github.com/latchkey/latchkey/internal/password"
	"github.com/latchkey/latchkey/internal/store/sqlite"
	"github.com/latchkey/latchkey/internal/testenv"
	"github.com/latchkey/latchkey/internal/token"
)

// The fixture's settings: short enough that every timeout is reached by
// moving the clock a few times, long enough to tell them apart.
const (
	testIssuer   = "https://auth.example.test"
	testAudience = "latchkey"
	// testPublicURL is where mail links point.
	testPublicURL = "https://id.example.test"
	accessTTL     = 15 * time.Minute
	absoluteTTL   = 8 * time.Hour // RefreshTokenTTL: a session's whole life
	idleTimeout   = time.Hour
	reuseGrace    = 10 * time.Second
)

// t0 is where every fixture's clock starts; its nanoseconds show where
// stored times and token claims round.
var t0 = time.Date(2031, 3, 14, 15, 9, 26, 535897932, time.UTC)

// defaultPolicy is the policy the server runs with, loaded once: reading
// the blocklist costs more than the rest of a fixture.
var defaultPolicy = sync.OnceValue(password.DefaultPolicy)

// Cheap argon2id parameters: these tests are about decisions, not cost.
var fastParams = password.Params{Memory: 64, Iterations: 1, Parallelism: 1}

const (
	oldPassword = "correct horse battery"
	newPassword = "staple paperclip lamp"
)

// fixture is a real auth.Service as the server builds it (a real token
// issuer and verifier on real signing keys, an API-key verifier, a session
// cache invalidated by the service's own events), on a fresh SQLite
// database and a clock that moves only when the test moves it.
type fixture struct {
	svc    *auth.Service
	db     *sqlite.DB // the database itself, for arranging and checking
	hooks  *hookStore // what the service reads and writes through
	clock  *testenv.Clock
	hasher *countingHasher
	events *recordedEvents
	tokens *token.Verifier // verifies access tokens as the service does
	nudges atomic.Int64    // calls of the sender's nudge
}

// newFixture builds a fixture; edit, if given, changes the lifetimes.
func newFixture(t testing.TB, edit ...func(*auth.Config)) *fixture {
	t.Helper()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	master := make([]byte, crypt.KeySize)
	_, _ = rand.Read(master)
	sealer, err := crypt.NewSealer(master)
	if err != nil {
		t.Fatal(err)
	}
	clock := testenv.NewClock(t0)
	log := slog.New(slog.DiscardHandler)
	keys := token.NewKeyManager(db, sealer, token.ES256, accessTTL, clock.Now, log)
	if err := keys.Init(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := auth.Config{AccessTokenTTL: accessTTL, RefreshTokenTTL: absoluteTTL, SessionIdleTimeout: idleTimeout,
		RefreshReuseGrace: reuseGrace, Email: auth.EmailConfig{PublicURL: testPublicURL, SignIn: true}}
	for _, e := range edit {
		e(&cfg)
	}
	f := &fixture{
		db:     db,
		hooks:  &hookStore{Store: db},
		clock:  clock,
		hasher: &countingHasher{Hasher: password.NewHasher(fastParams, 2, time.Second)},
		tokens: token.NewVerifier(keys.Keyring, testIssuer, testAudience, 0, clock.Now),
		events: &recordedEvents{
			sessions: auth.NewSessionCache(5*time.Second, 0),
			keys:     apikey.NewVerifier(db, clock.Now, apikey.Options{Toucher: db, Logger: log}),
		},
	}
	f.svc = auth.New(cfg, auth.Deps{
		Store:    f.hooks,
		Hasher:   f.hasher,
		Policy:   defaultPolicy(),
		Issuer:   token.NewIssuer(keys.Keyring, testIssuer, testAudience, accessTTL, clock.Now),
		Verifier: f.tokens,
		Clock:    clock.Now,
		Logger:   log,
		Events:   f.events,
		APIKeys:  f.events.keys,
		Sessions: f.events.sessions,
		EmailKey: crypt.DeriveKey(master, auth.EmailKeyPurpose),
		// Mailed requests do their work in place: a test sees it done.
		Background: func(fn func()) { fn() },
		MailQueued: func() { f.nudges.Add(1) },
	})
	return f
}

// user creates an account with oldPassword and starts a cookie session
// for it.
func (f *fixture) user(t *testing.T, email string, roles ...string) (*latchkey.User, *latchkey.Session) {
	t.Helper()
	u, err := f.svc.CreateUser(t.Context(), auth.SignupInput{Email: email, Password: oldPassword, Roles: roles}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	return u, f.session(t, u)
}

// session starts another cookie session for u.
func (f *fixture) session(t *testing.T, u *latchkey.User) *latchkey.Session {
	t.Helper()
	_, sess, err := f.svc.StartCookieSession(t.Context(), u, auth.Meta{}, auth.SignInPassword)
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

// signup signs an account up with oldPassword and returns its tokens.
func (f *fixture) signup(t *testing.T, email string) *auth.Tokens {
	t.Helper()
	tok, err := f.svc.Signup(t.Context(), auth.SignupInput{Email: email, Password: oldPassword}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// passwordUser stores an account as password sign-up makes it: a password,
// an address nobody proved.
func (f *fixture) passwordUser(t *testing.T, email string) *latchkey.User {
	t.Helper()
	now := f.clock.Now()
	u := &latchkey.User{ID: latchkey.NewID(now), Email: email, Roles: []string{latchkey.RoleUser},
		PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo", CreatedAt: now, UpdatedAt: now}
	if err := f.db.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func (f *fixture) verifyEmail(t *testing.T, u *latchkey.User) {
	t.Helper()
	at := f.clock.Now()
	if _, err := f.db.UpdateUser(t.Context(), u.ID, latchkey.UserPatch{EmailVerifiedAt: &latchkey.TimePatch{At: &at}, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) reload(t *testing.T, id string) *latchkey.User {
	t.Helper()
	u, err := f.db.UserByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// auditReasons counts the audit events of one type by "outcome reason".
func (f *fixture) auditReasons(t *testing.T, typ string) map[string]int {
	t.Helper()
	events, _, err := f.db.ListAudit(t.Context(), latchkey.AuditFilter{Type: typ, Page: latchkey.Page{Limit: 500}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range events {
		if e.Type == typ {
			out[e.Outcome+" "+e.Reason]++
		}
	}
	return out
}

// revoked reports whether the session is revoked in the database.
func (f *fixture) revoked(t *testing.T, id string) bool {
	t.Helper()
	s, err := f.db.SessionByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return s.RevokedAt != nil
}

// principal is who a request on the session acts for.
func principal(u *latchkey.User, sess *latchkey.Session) *auth.Principal {
	return &auth.Principal{User: u, SessionID: sess.ID, Via: "bearer", AuthTime: sess.AuthTime}
}

// wantCode fails the test unless err carries the error code want.
func wantCode(t *testing.T, what string, err error, want string) {
	t.Helper()
	if got := latchkey.ErrorCode(err); err == nil || got != want {
		t.Errorf("%s: %v (code %q), want %s", what, err, got, want)
	}
}

// hookStore runs a function once at a chosen point of a use case, on the
// same goroutine: a deterministic way to let "someone else" act between a
// use case's read (and slow hashing) and its write.
type hookStore struct {
	latchkey.Store
	beforeTx     func() // before the next InTx
	afterByMail  func() // after the next UserByEmail
	afterConsume func() // after the next ConsumeOneTimeCode
}

func (h *hookStore) InTx(ctx context.Context, fn func(tx latchkey.Tx) error) error {
	runOnce(&h.beforeTx)
	return h.Store.InTx(ctx, fn)
}

func (h *hookStore) UserByEmail(ctx context.Context, email string) (*latchkey.User, error) {
	u, err := h.Store.UserByEmail(ctx, email)
	runOnce(&h.afterByMail)
	return u, err
}

func (h *hookStore) ConsumeOneTimeCode(ctx context.Context, hash []byte, now time.Time) (*latchkey.OneTimeCode, error) {
	c, err := h.Store.ConsumeOneTimeCode(ctx, hash, now)
	runOnce(&h.afterConsume)
	return c, err
}

func runOnce(hook *func()) {
	if f := *hook; f != nil {
		*hook = nil
		f()
	}
}

// countingHasher counts the password checks, real and dummy, so that a
// test can see that every refusal of a password costs one check; when busy,
// every check fails as a saturated hasher's does.
type countingHasher struct {
	*password.Hasher
	checks, dummies atomic.Int64
	busy            atomic.Bool
}

var errHasherBusy = latchkey.Errorf(latchkey.EUnavailable, "The server is busy; try again shortly.")

func (h *countingHasher) Verify(ctx context.Context, pw, encoded string) (bool, bool, error) {
	h.checks.Add(1)
	if h.busy.Load() {
		return false, false, errHasherBusy
	}
	return h.Hasher.Verify(ctx, pw, encoded)
}

func (h *countingHasher) VerifyDummy(ctx context.Context, pw string) error {
	h.checks.Add(1)
	h.dummies.Add(1)
	if h.busy.Load() {
		return errHasherBusy
	}
	return h.Hasher.VerifyDummy(ctx, pw)
}

// recordedEvents records what the service reported, and invalidates the
// caches with it as the server does.
type recordedEvents struct {
	sessions *auth.SessionCache
	keys     *apikey.Verifier

	mu                           sync.Mutex
	logins, refreshes            []string
	revokedSessions, revokedKeys []string
	changedUsers                 []string
}

func (e *recordedEvents) add(list *[]string, v ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	*list = append(*list, v...)
}

// last returns the last entry of a list ("" when empty).
func (e *recordedEvents) last(list *[]string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(*list) == 0 {
		return ""
	}
	return (*list)[len(*list)-1]
}

func (e *recordedEvents) has(list *[]string, v string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Contains(*list, v)
}

func (e *recordedEvents) Login(outcome string)   { e.add(&e.logins, outcome) }
func (e *recordedEvents) TokensIssued(string)    {}
func (e *recordedEvents) Refresh(outcome string) { e.add(&e.refreshes, outcome) }
func (e *recordedEvents) SessionsRevoked(ids []string) {
	e.sessions.InvalidateSessions(ids)
	e.add(&e.revokedSessions, ids...)
}
func (e *recordedEvents) SessionsChanged(ids []string) { e.sessions.InvalidateSessions(ids) }
func (e *recordedEvents) APIKeysRevoked(ids []string) {
	for _, id := range ids {
		e.keys.Invalidate(id)
	}
	e.add(&e.revokedKeys, ids...)
}
func (e *recordedEvents) UserChanged(id string) {
	e.keys.InvalidateUser(id)
	e.sessions.InvalidateUser(id)
	e.add(&e.changedUsers, id)
}
