// Package storetest is the conformance suite that every latchkey.Store
// implementation must pass. A store's tests call Run with a function that
// opens a fresh, migrated, empty store for each subtest.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// Run runs every conformance test against stores made by open. open must
// return an empty, migrated store and arrange for its cleanup; it is called
// once per subtest, from parallel subtests.
func Run(t *testing.T, open func(t *testing.T) latchkey.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s latchkey.Store)
	}{
		{"Users", testUsers},
		{"UpdateUser", testUpdateUser},
		{"UpdateUserPatchesOnlyItsFields", testUpdateUserPatchesOnlyItsFields},
		{"EmailVerifiedAt", testEmailVerifiedAt},
		{"SetPasswordHash", testSetPasswordHash},
		{"SetPasswordHashConcurrent", testSetPasswordHashConcurrent},
		{"DeleteUserCascades", testDeleteUserCascades},
		{"ListUsers", testListUsers},
		{"ListUsersQuery", testListUsersQuery},
		{"ListUsersLimits", testListUsersLimits},
		{"CountActiveUsersWithRole", testCountActiveUsersWithRole},
		{"Sessions", testSessions},
		{"ListSessions", testListSessions},
		{"RevokeUserSessions", testRevokeUserSessions},
		{"SessionAuth", testSessionAuth},
		{"RefreshTokens", testRefreshTokens},
		{"MarkRefreshTokenUsedConcurrent", testMarkRefreshTokenUsedConcurrent},
		{"RefreshRotationInTxConcurrent", testRefreshRotationInTxConcurrent},
		{"APIKeys", testAPIKeys},
		{"TouchAPIKeys", testTouchAPIKeys},
		{"Identities", testIdentities},
		{"OneTimeCodes", testOneTimeCodes},
		{"ConsumeOneTimeCodeConcurrent", testConsumeOneTimeCodeConcurrent},
		{"EmailTokens", testEmailTokens},
		{"EmailTokenVoidsPrevious", testEmailTokenVoidsPrevious},
		{"EmailTokenCreateConcurrent", testEmailTokenCreateConcurrent},
		{"EmailTokenByCode", testEmailTokenByCode},
		{"EmailTokenByCodeSharedAddress", testEmailTokenByCodeSharedAddress},
		{"EmailTokenByLinkConcurrent", testEmailTokenByLinkConcurrent},
		{"EmailTokenByCodeConcurrent", testEmailTokenByCodeConcurrent},
		{"EmailTokenGuessesConcurrent", testEmailTokenGuessesConcurrent},
		{"VoidEmailTokens", testVoidEmailTokens},
		{"EmailTokenAndMailInTx", testEmailTokenAndMailInTx},
		{"TOTPFactors", testTOTPFactors},
		{"UseTOTPStepConcurrent", testUseTOTPStepConcurrent},
		{"RecoveryCodes", testRecoveryCodes},
		{"UseRecoveryCodeConcurrent", testUseRecoveryCodeConcurrent},
		{"DeleteMFA", testDeleteMFA},
		{"UsersWithMFA", testUsersWithMFA},
		{"MFAChallenges", testMFAChallenges},
		{"MFAChallengeConcurrent", testMFAChallengeConcurrent},
		{"Outbox", testOutbox},
		{"OutboxGiveUp", testOutboxGiveUp},
		{"ClaimMailOrderAndLimit", testClaimMailOrderAndLimit},
		{"ClaimMailConcurrent", testClaimMailConcurrent},
		{"OutboxStats", testOutboxStats},
		{"DeleteOldMail", testDeleteOldMail},
		{"SigningKeys", testSigningKeys},
		{"Audit", testAudit},
		{"AuditPaging", testAuditPaging},
		{"CountAuditByHour", testCountAuditByHour},
		{"InTx", testInTx},
		{"DeleteExpired", testDeleteExpired},
		{"TimePrecision", testTimePrecision},
		{"NewRecordsNeedIDs", testNewRecordsNeedIDs},
		{"Closed", testClosed},
		{"Clients", testClients},
		{"RotateClientSecret", testRotateClientSecret},
		{"AuthRequests", testAuthRequests},
		{"UseAuthCodeConcurrent", testUseAuthCodeConcurrent},
		{"Consents", testConsents},
		{"Grants", testGrants},
		{"ClientRefreshTokens", testClientRefreshTokens},
		{"AssertionIDs", testAssertionIDs},
		{"DeviceAuthorizations", testDeviceAuthorizations},
		{"Resources", testResources},
		{"DeleteExpiredProvider", testDeleteExpiredProvider},
	}
	tests = append(tests, passkeyTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// t0 is the suite's "now": a fixed instant with whole microseconds, so that
// stored values compare equal to the ones written.
var t0 = time.Date(2030, 6, 1, 12, 0, 0, 123456000, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }
func ptr[T any](v T) *T            { return &v }

func randBytes(t *testing.T) []byte {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return h[:]
}

func ctx(t *testing.T) context.Context { return t.Context() }

func mustCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := latchkey.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// userN makes the n-th user; its ID sorts after every user with a smaller n.
func userN(n int) *latchkey.User {
	created := at(time.Duration(n) * time.Millisecond)
	return &latchkey.User{
		ID:           latchkey.NewID(created),
		Email:        fmt.Sprintf("user%03d@example.com", n),
		Name:         fmt.Sprintf("User %d", n),
		Roles:        []string{latchkey.RoleUser},
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
		CreatedAt:    created,
		UpdatedAt:    created,
	}
}

func createUser(t *testing.T, s latchkey.Store, n int) *latchkey.User {
	t.Helper()
	u := userN(n)
	must(t, s.CreateUser(ctx(t), u))
	return u
}

func newSession(u *latchkey.User, n int) *latchkey.Session {
	created := at(time.Duration(n) * time.Millisecond)
	return &latchkey.Session{
		ID:         latchkey.NewID(created),
		UserID:     u.ID,
		CreatedAt:  created,
		LastUsedAt: created,
		ExpiresAt:  created.Add(7 * 24 * time.Hour),
		AuthTime:   created,
		AMR:        []string{"pwd"},
		IP:         "192.0.2.1",
		UserAgent:  "test/1.0",
	}
}

func createSession(t *testing.T, s latchkey.Store, u *latchkey.User, n int) *latchkey.Session {
	t.Helper()
	x := newSession(u, n)
	must(t, s.CreateSession(ctx(t), x))
	return x
}

func createRefreshToken(t *testing.T, s latchkey.Store, x *latchkey.Session) *latchkey.RefreshToken {
	t.Helper()
	rt := &latchkey.RefreshToken{
		Hash: randBytes(t), SessionID: x.ID, UserID: x.UserID,
		CreatedAt: x.CreatedAt, ExpiresAt: x.ExpiresAt,
	}
	must(t, s.CreateRefreshToken(ctx(t), rt))
	return rt
}

func containsBytes(l [][]byte, b []byte) bool {
	for _, x := range l {
		if bytes.Equal(x, b) {
			return true
		}
	}
	return false
}
