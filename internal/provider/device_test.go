package provider

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/latchkey/latchkey"
)

func oidcErrorType(err error) string {
	var e *oidc.Error
	if errors.As(err, &e) {
		return string(e.ErrorType)
	}
	return ""
}

// TestDeviceCodeStates drives op's own device-state check on latchkey's
// storage: pending, slow_down for a poll within the interval, expired.
func TestDeviceCodeStates(t *testing.T) {
	f := newFixture(t)
	f.clock.Set(time.Now()) // op compares a device code's expiry with the wall clock
	p := f.newProvider(t, 0)
	cl, _, err := f.clients.Create(t.Context(), ClientInput{Name: "CLI", Type: latchkey.ClientPublic,
		GrantTypes: []string{latchkey.GrantDeviceCode}, Scopes: []string{"openid"}}, admin)
	if err != nil {
		t.Fatal(err)
	}
	st := storage{p}
	ctx := context.Background()
	if err := st.StoreDeviceAuthorization(ctx, cl.ID, "device-code-1", "BCDF-GHJK", time.Now().Add(time.Minute), []string{"openid", "email"}); err != nil {
		t.Fatal(err)
	}
	if err := st.StoreDeviceAuthorization(ctx, cl.ID, "device-code-2", "bcdf ghjk", time.Now().Add(time.Minute), nil); !errors.Is(err, op.ErrDuplicateUserCode) {
		t.Fatalf("a user code in use: %v", err)
	}
	_, err = op.CheckDeviceAuthorizationState(ctx, cl.ID, "device-code-1", p.op)
	if oidcErrorType(err) != "authorization_pending" {
		t.Fatalf("first poll: %v", err)
	}
	_, err = op.CheckDeviceAuthorizationState(ctx, cl.ID, "device-code-1", p.op)
	if oidcErrorType(err) != "slow_down" {
		t.Fatalf("a poll within the interval: %v", err)
	}
	f.clock.Advance(DevicePollInterval)
	if _, err = op.CheckDeviceAuthorizationState(ctx, cl.ID, "device-code-1", p.op); oidcErrorType(err) != "authorization_pending" {
		t.Fatalf("a poll after the interval: %v", err)
	}
	if _, err = op.CheckDeviceAuthorizationState(ctx, "another-client", "device-code-1", p.op); oidcErrorType(err) != "access_denied" {
		t.Fatalf("another client's device code: %v", err)
	}
	// The scopes were cut to the client's; the code is found however typed.
	req, _, err := p.LookupUserCode(ctx, " bcdf-ghjk ")
	if err != nil || len(req.Scopes) != 1 || req.Scopes[0] != "openid" {
		t.Fatalf("lookup: %+v %v", req, err)
	}
	for _, bad := range []string{"BCDF-GHJA", "BCDF-GHJ", "AEIO-UAEI", ""} {
		if _, _, err := p.LookupUserCode(ctx, bad); !latchkey.IsCode(err, latchkey.EInvalidRequest) {
			t.Errorf("lookup %q: %v", bad, err)
		}
	}

	// An expired device code.
	if err := st.StoreDeviceAuthorization(ctx, cl.ID, "device-code-3", "LMNP-QRST", time.Now().Add(-time.Second), nil); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(DeviceCodeLifetime)
	if _, err = op.CheckDeviceAuthorizationState(ctx, cl.ID, "device-code-3", p.op); oidcErrorType(err) != "expired_token" {
		t.Fatalf("an expired device code: %v", err)
	}
	if _, _, err := p.LookupUserCode(ctx, "LMNP-QRST"); !latchkey.IsCode(err, latchkey.EInvalidRequest) {
		t.Fatalf("the page takes an expired code: %v", err)
	}
}
