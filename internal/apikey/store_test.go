package apikey

import (
	"context"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// memStore is an in-memory key store that counts every lookup, so that tests
// can show which verifications reach the database and which do not.
type memStore struct {
	mu      sync.Mutex
	keys    map[[32]byte]*latchkey.APIKey
	users   map[string]*latchkey.User
	lookups int // APIKeyByHash and UserByID calls
	fail    error
	// loose makes APIKeyByHash return the first key whatever the hash, as a
	// broken store might.
	loose bool
	// beforeUser runs at the start of every UserByID, between the key
	// lookup and the caching of its result.
	beforeUser func()

	touches  []map[string]time.Time
	touchErr error
}

func newMemStore() *memStore {
	return &memStore{keys: map[[32]byte]*latchkey.APIKey{}, users: map[string]*latchkey.User{}}
}

func (s *memStore) APIKeyByHash(_ context.Context, hash []byte) (*latchkey.APIKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lookups++
	if s.fail != nil {
		return nil, s.fail
	}
	if s.loose {
		for _, k := range s.keys {
			c := *k
			return &c, nil
		}
	}
	k, ok := s.keys[[32]byte(hash)]
	if !ok {
		return nil, latchkey.Errorf(latchkey.ENotFound, "API key not found")
	}
	c := *k // a real store returns a fresh copy every time
	return &c, nil
}

func (s *memStore) UserByID(_ context.Context, id string) (*latchkey.User, error) {
	if s.beforeUser != nil {
		s.beforeUser()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lookups++
	if s.fail != nil {
		return nil, s.fail
	}
	u, ok := s.users[id]
	if !ok {
		return nil, latchkey.Errorf(latchkey.ENotFound, "user not found")
	}
	c := *u
	return &c, nil
}

func (s *memStore) TouchAPIKeys(_ context.Context, lastUsed map[string]time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.touchErr != nil {
		return s.touchErr
	}
	s.touches = append(s.touches, maps.Clone(lastUsed))
	for id, at := range lastUsed {
		for _, k := range s.keys {
			if k.ID == id {
				k.LastUsedAt = &at
			}
		}
	}
	return nil
}

func (s *memStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookups
}

func (s *memStore) writes() []map[string]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]time.Time(nil), s.touches...)
}

// update changes the stored key with this ID.
func (s *memStore) update(id string, fn func(*latchkey.APIKey)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.keys {
		if k.ID == id {
			fn(k)
		}
	}
}

func (s *memStore) setUser(u *latchkey.User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = u
}

func (s *memStore) set(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn()
}

// addKey issues a key for userID (creating the user if needed) and stores it.
func (s *memStore) addKey(t testing.TB, userID string, now time.Time, expires *time.Time) (string, *latchkey.APIKey) {
	t.Helper()
	key, prefix, hash, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	k := &latchkey.APIKey{
		ID: latchkey.NewID(now), UserID: userID, Name: "test", Prefix: prefix,
		Hash: hash[:], CreatedAt: now, ExpiresAt: expires,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[hash] = k
	if _, ok := s.users[userID]; !ok {
		s.users[userID] = &latchkey.User{ID: userID, Email: userID + "@example.test", Roles: []string{latchkey.RoleUser}}
	}
	return key.Reveal(), k
}

// clockStart is where the tests' clocks start.
var clockStart = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
