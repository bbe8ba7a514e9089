package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/crypt"
)

// Device authorization (RFC 8628), for CLIs and devices without a browser:
// op makes the codes and answers the device; latchkey keeps them (hashes
// only), enforces the polling interval (slow_down), and serves the /device
// page where a signed-in user enters the user code and agrees.

// Device flow settings.
const (
	DeviceCodeLifetime = 10 * time.Minute
	DevicePollInterval = 5 * time.Second
	// PathDevice is the page where the user enters the code.
	PathDevice = "/device"
	// PathDeviceAuthorization is the device authorization endpoint.
	PathDeviceAuthorization = "/oauth2/device_authorization"
)

// deviceConfig: user codes per RFC 8628 §6.1, eight characters of a
// 20-letter alphabet without vowels (no words), shown as XXXX-XXXX.
var deviceConfig = op.DeviceAuthorizationConfig{Lifetime: DeviceCodeLifetime, PollInterval: DevicePollInterval,
	UserFormPath: PathDevice, UserCode: op.UserCodeBase20}

// NormalizeUserCode is how a typed user code is compared: case, spaces
// and dashes do not matter.
func NormalizeUserCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if r != '-' && r != ' ' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

var _ op.DeviceAuthorizationStorage = storage{}

// StoreDeviceAuthorization keeps a new device authorization, with its
// scopes cut to those the client may ask for.
func (s storage) StoreDeviceAuthorization(ctx context.Context, clientID, deviceCode, userCode string, expires time.Time, scopes []string) error {
	cl, err := s.p.clientByID(ctx, clientID)
	if err != nil {
		return err
	}
	var granted []string
	for _, sc := range scopes {
		if cl.AllowsScope(sc) && !slices.Contains(granted, sc) {
			granted = append(granted, sc)
		}
	}
	now := s.p.now().UTC()
	d := &latchkey.DeviceAuthorization{ID: latchkey.NewID(now), ClientID: cl.ID, DeviceCodeHash: crypt.Hash(deviceCode),
		UserCodeHash: crypt.Hash(NormalizeUserCode(userCode)), Scopes: granted, CreatedAt: now, ExpiresAt: expires.UTC()}
	if err := s.p.store.CreateDeviceAuthorization(ctx, d); latchkey.IsCode(err, latchkey.EConflict) {
		return op.ErrDuplicateUserCode
	} else if err != nil {
		return err
	}
	return nil
}

// deviceKey carries, through one token request, the grant a device code
// became (op's DeviceAuthorizationState has no room for it).
type deviceKey struct{}

type deviceGrant struct{ g *latchkey.Grant }

func withDeviceGrant(ctx context.Context) context.Context {
	return context.WithValue(ctx, deviceKey{}, &deviceGrant{})
}

func grantOfDevice(ctx context.Context) *latchkey.Grant {
	if h, ok := ctx.Value(deviceKey{}).(*deviceGrant); ok {
		return h.g
	}
	return nil
}

var errDeviceGone = errors.New("unknown, used or another client's device code")

// GetDeviceAuthorizatonState answers a device's poll: slow_down when it
// polls sooner than the interval (op's mapping of DeadlineExceeded),
// authorization_pending, access_denied, expired_token, or, once, the
// approved state, whose grant is made here.
func (s storage) GetDeviceAuthorizatonState(ctx context.Context, clientID, deviceCode string) (*op.DeviceAuthorizationState, error) {
	if deviceCode == "" || len(deviceCode) > 128 {
		return nil, errDeviceGone
	}
	d, err := s.p.store.DeviceAuthorizationByDeviceCode(ctx, crypt.Hash(deviceCode))
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return nil, errDeviceGone
	}
	if err != nil {
		return nil, err
	}
	if d.ClientID != clientID || d.ConsumedAt != nil {
		return nil, errDeviceGone
	}
	now := s.p.now().UTC()
	state := &op.DeviceAuthorizationState{ClientID: d.ClientID, Scopes: d.Scopes, Expires: d.ExpiresAt}
	if !now.Before(d.ExpiresAt) {
		return state, nil // op answers expired_token
	}
	tooFast, err := s.p.store.PollDeviceAuthorization(ctx, d.ID, now, DevicePollInterval)
	if err != nil {
		return nil, err
	}
	if tooFast {
		return nil, fmt.Errorf("polled within %s: %w", DevicePollInterval, context.DeadlineExceeded)
	}
	switch {
	case d.DeniedAt != nil:
		state.Denied = true
		return state, nil
	case d.ApprovedAt == nil:
		return state, nil // authorization_pending
	}
	g, err := s.p.grantFromDevice(ctx, d)
	if err != nil {
		return nil, err
	}
	if h, ok := ctx.Value(deviceKey{}).(*deviceGrant); ok {
		h.g = g
	}
	state.Done, state.Subject, state.AMR, state.AuthTime = true, d.UserID, d.AMR, g.AuthTime
	return state, nil
}

// grantFromDevice spends an approved device authorization and makes its
// grant, if the user and session that agreed are still there.
func (p *Provider) grantFromDevice(ctx context.Context, d *latchkey.DeviceAuthorization) (*latchkey.Grant, error) {
	now := p.now().UTC()
	g := &latchkey.Grant{ID: d.ID, ClientID: d.ClientID, UserID: d.UserID, SessionID: d.SessionID, Scopes: d.Scopes,
		Audience: []string{d.ClientID}, AMR: d.AMR, ACR: d.ACR, CreatedAt: now, ExpiresAt: now.Add(p.cfg.GrantTTL)}
	if d.AuthTime != nil {
		g.AuthTime = *d.AuthTime
	}
	err := p.store.InTx(ctx, func(tx latchkey.Tx) error {
		if err := tx.ConsumeDeviceAuthorization(ctx, d.ID, now); err != nil {
			if latchkey.IsCode(err, latchkey.ENotFound) {
				return errDeviceGone
			}
			return err
		}
		if why, err := p.sessionLive(ctx, tx, d.UserID, d.SessionID); err != nil || why != "" {
			if err == nil {
				err = errors.New("the sign-in that approved this device has ended")
			}
			return err
		}
		if err := tx.CreateGrant(ctx, g); err != nil {
			return err
		}
		return p.audit(ctx, tx, latchkey.AuditProviderTokenIssued, latchkey.OutcomeSuccess, "client "+d.ClientID+": device code", d.UserID, d.SessionID)
	})
	return g, err
}

// DeviceRequest is a pending device authorization, for the /device page.
type DeviceRequest struct {
	UserCode string // normalized
	Client   *latchkey.Client
	Scopes   []string
}

var errUserCode = latchkey.Errorf(latchkey.EInvalidRequest, "That code is unknown, used or expired. Check the code your device shows.")

// LookupUserCode finds the pending device authorization of a typed code.
func (p *Provider) LookupUserCode(ctx context.Context, typed string) (*DeviceRequest, *latchkey.DeviceAuthorization, error) {
	code := NormalizeUserCode(typed)
	if len(code) != op.UserCodeBase20.CharAmount {
		return nil, nil, errUserCode
	}
	for _, r := range code {
		if !strings.ContainsRune(op.CharSetBase20, r) {
			return nil, nil, errUserCode
		}
	}
	d, err := p.store.DeviceAuthorizationByUserCode(ctx, crypt.Hash(code))
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return nil, nil, errUserCode
	}
	if err != nil {
		return nil, nil, err
	}
	if !p.now().Before(d.ExpiresAt) || d.ApprovedAt != nil || d.DeniedAt != nil {
		return nil, nil, errUserCode
	}
	cl, err := p.store.ClientByID(ctx, d.ClientID)
	if err != nil {
		return nil, nil, errUserCode
	}
	return &DeviceRequest{UserCode: code, Client: cl, Scopes: d.Scopes}, d, nil
}

// AnswerDevice records the signed-in user's answer to a device's request.
func (p *Provider) AnswerDevice(ctx context.Context, typed string, who *auth.Principal, approve bool) error {
	_, d, err := p.LookupUserCode(ctx, typed)
	if err != nil {
		return err
	}
	done := latchkey.AuthDone{UserID: who.User.ID, SessionID: who.SessionID, AuthTime: who.AuthTime.UTC(), AMR: who.AMR, ACR: who.ACR(), At: p.now().UTC()}
	outcome, reason := latchkey.OutcomeSuccess, "client "+d.ClientID+": device approved"
	if !approve {
		outcome, reason = latchkey.OutcomeFailure, "client "+d.ClientID+": device refused"
	}
	err = p.store.InTx(ctx, func(tx latchkey.Tx) error {
		if err := tx.AnswerDeviceAuthorization(ctx, d.ID, done, approve); err != nil {
			if latchkey.IsCode(err, latchkey.ENotFound) {
				return errUserCode
			}
			return err
		}
		return p.audit(ctx, tx, latchkey.AuditProviderConsent, outcome, reason, who.User.ID, who.SessionID)
	})
	return err
}
