package provider

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/crypt"
)

// Store is what the provider needs of latchkey's database.
type Store interface {
	latchkey.ClientStore
	latchkey.UserStore
	latchkey.SessionStore
	latchkey.AuditStore
	latchkey.ResourceStore
	InTx(ctx context.Context, fn func(tx latchkey.Tx) error) error
}

// Clients are the use cases of registered clients: create, list, change,
// rotate a secret, delete, and check a secret.
type Clients struct {
	store Store
	now   func() time.Time
	// changed, when set, hears of every client that changed (to drop
	// cached copies).
	changed func(id string)
	// keysChanged, when set, hears of API keys whose audiences changed:
	// every instance must drop its cached copy.
	keysChanged func(ids []string)
}

// NewClients returns the client use cases.
func NewClients(store Store, clock func() time.Time) *Clients {
	if clock == nil {
		clock = time.Now
	}
	return &Clients{store: store, now: clock}
}

// SecretBytes is the randomness of a client secret: 256 bits.
const SecretBytes = 32

// MaxSecretLength bounds a presented secret before it is hashed.
const MaxSecretLength = 128

// DefaultSecretOverlap is how long the previous secret keeps working after
// a rotation, so that every instance of the client can be given the new one.
const DefaultSecretOverlap = 24 * time.Hour

// MaxSecretOverlap bounds the overlap an administrator may choose.
const MaxSecretOverlap = 30 * 24 * time.Hour

// The scopes latchkey's provider knows. A client may also be allowed
// scopes of its own (an API's), which go into its access tokens.
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopeOfflineAccess = "offline_access"
)

// ClientInput is a new client, or the settings of one that change.
type ClientInput struct {
	Name                   string
	Type                   string // public or confidential (default)
	AuthMethod             string // default: client_secret_basic, or none for a public client
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	GrantTypes             []string // default: authorization_code and refresh_token
	Scopes                 []string // default: openid profile email offline_access
	Resources              []string // registered resources it may ask tokens for
	FirstParty             bool
	JWKS                   string // for private_key_jwt
}

// ClientChanges are the settings of a client that change; nil stays.
type ClientChanges struct {
	Name                   *string
	RedirectURIs           *[]string
	PostLogoutRedirectURIs *[]string
	GrantTypes             *[]string
	Scopes                 *[]string
	Resources              *[]string
	FirstParty             *bool
	JWKS                   *string
}

func invalid(format string, args ...any) error {
	return latchkey.Errorf(latchkey.EInvalidRequest, format, args...)
}

// Create registers a client. A confidential client with a secret method
// gets a secret, returned this once.
func (c *Clients) Create(ctx context.Context, in ClientInput, a auth.Actor) (*latchkey.Client, latchkey.Secret, error) {
	now := c.now().UTC()
	cl := &latchkey.Client{ID: latchkey.NewID(now), Name: strings.TrimSpace(in.Name), Type: in.Type, AuthMethod: in.AuthMethod,
		RedirectURIs: in.RedirectURIs, PostLogoutRedirectURIs: in.PostLogoutRedirectURIs, GrantTypes: in.GrantTypes,
		Scopes: in.Scopes, Resources: in.Resources, FirstParty: in.FirstParty, JWKS: strings.TrimSpace(in.JWKS), CreatedAt: now, UpdatedAt: now}
	if cl.Type == "" {
		cl.Type = latchkey.ClientConfidential
	}
	if cl.AuthMethod == "" {
		cl.AuthMethod = latchkey.AuthMethodSecretBasic
		if cl.Type == latchkey.ClientPublic {
			cl.AuthMethod = latchkey.AuthMethodNone
		}
	}
	if cl.GrantTypes == nil {
		cl.GrantTypes = []string{latchkey.GrantAuthorizationCode, latchkey.GrantRefreshToken}
	}
	if cl.Scopes == nil {
		cl.Scopes = []string{ScopeOpenID, ScopeProfile, ScopeEmail, ScopeOfflineAccess}
	}
	if err := validateClient(cl); err != nil {
		return nil, "", err
	}
	var secret latchkey.Secret
	if usesSecret(cl) {
		secret = latchkey.Secret(crypt.RandomToken(SecretBytes))
		cl.SecretHash = crypt.Hash(secret.Reveal())
	}
	err := c.store.InTx(ctx, func(tx latchkey.Tx) error {
		if err := checkResources(ctx, tx, cl.Resources); err != nil {
			return err
		}
		if err := tx.CreateClient(ctx, cl); err != nil {
			return err
		}
		return c.audit(ctx, tx, latchkey.AuditClientCreated, "client "+cl.ID+" ("+cl.Type+")", a)
	})
	if err != nil {
		return nil, "", err
	}
	return cl, secret, nil
}

func usesSecret(c *latchkey.Client) bool {
	return c.AuthMethod == latchkey.AuthMethodSecretBasic || c.AuthMethod == latchkey.AuthMethodSecretPost
}

// Get returns one client.
func (c *Clients) Get(ctx context.Context, id string) (*latchkey.Client, error) {
	if id == "" || len(id) > 64 {
		return nil, latchkey.Errorf(latchkey.ENotFound, "No such client.")
	}
	cl, err := c.store.ClientByID(ctx, id)
	return cl, notFoundClient(err)
}

func notFoundClient(err error) error {
	if latchkey.IsCode(err, latchkey.ENotFound) {
		return latchkey.Errorf(latchkey.ENotFound, "No such client.")
	}
	return err
}

// List returns every client, newest first.
func (c *Clients) List(ctx context.Context) ([]latchkey.Client, error) {
	return c.store.ListClients(ctx)
}

// Update changes a client's settings; the result must still be a valid client.
func (c *Clients) Update(ctx context.Context, id string, ch ClientChanges, a auth.Actor) (*latchkey.Client, error) {
	var out *latchkey.Client
	err := c.store.InTx(ctx, func(tx latchkey.Tx) error {
		cl, err := tx.ClientByID(ctx, id)
		if err != nil {
			return notFoundClient(err)
		}
		next := *cl
		p := latchkey.ClientPatch{RedirectURIs: ch.RedirectURIs, PostLogoutRedirectURIs: ch.PostLogoutRedirectURIs,
			GrantTypes: ch.GrantTypes, Scopes: ch.Scopes, Resources: ch.Resources, FirstParty: ch.FirstParty, UpdatedAt: c.now().UTC()}
		if ch.Name != nil {
			name := strings.TrimSpace(*ch.Name)
			next.Name, p.Name = name, &name
		}
		if ch.JWKS != nil {
			jwks := strings.TrimSpace(*ch.JWKS)
			next.JWKS, p.JWKS = jwks, &jwks
		}
		for _, f := range []struct {
			v   *[]string
			dst *[]string
		}{{ch.RedirectURIs, &next.RedirectURIs}, {ch.PostLogoutRedirectURIs, &next.PostLogoutRedirectURIs},
			{ch.GrantTypes, &next.GrantTypes}, {ch.Scopes, &next.Scopes}, {ch.Resources, &next.Resources}} {
			if f.v != nil {
				*f.dst = *f.v
			}
		}
		if ch.FirstParty != nil {
			next.FirstParty = *ch.FirstParty
		}
		if err := validateClient(&next); err != nil {
			return err
		}
		if ch.Resources != nil {
			if err := checkResources(ctx, tx, next.Resources); err != nil {
				return err
			}
		}
		if out, err = tx.UpdateClient(ctx, id, p); err != nil {
			return notFoundClient(err)
		}
		return c.audit(ctx, tx, latchkey.AuditClientUpdated, "client "+id, a)
	})
	c.dropCached(id)
	return out, err
}

// RotateSecret gives a confidential client a new secret, returned this
// once; the previous one keeps working for overlap (DefaultSecretOverlap
// is the usual choice; 0 ends it at once), so that the client's instances
// can all be given the new one.
func (c *Clients) RotateSecret(ctx context.Context, id string, overlap time.Duration, a auth.Actor) (latchkey.Secret, error) {
	if overlap < 0 || overlap > MaxSecretOverlap {
		return "", invalid("The overlap must be between 0s and %s.", MaxSecretOverlap)
	}
	secret := latchkey.Secret(crypt.RandomToken(SecretBytes))
	err := c.store.InTx(ctx, func(tx latchkey.Tx) error {
		cl, err := tx.ClientByID(ctx, id)
		if err != nil {
			return notFoundClient(err)
		}
		if !usesSecret(cl) {
			return invalid("This client authenticates with %s and has no secret.", cl.AuthMethod)
		}
		now := c.now().UTC()
		if err := tx.RotateClientSecret(ctx, id, cl.SecretHash, crypt.Hash(secret.Reveal()), now.Add(overlap), now); err != nil {
			return err
		}
		return c.audit(ctx, tx, latchkey.AuditClientSecretRotated, fmt.Sprintf("client %s; the previous secret works for %s", id, overlap), a)
	})
	c.dropCached(id)
	if err != nil {
		return "", err
	}
	return secret, nil
}

// Delete removes a client and everything issued to it.
func (c *Clients) Delete(ctx context.Context, id string, a auth.Actor) error {
	defer c.dropCached(id)
	return c.store.InTx(ctx, func(tx latchkey.Tx) error {
		if err := tx.DeleteClient(ctx, id); err != nil {
			return notFoundClient(err)
		}
		return c.audit(ctx, tx, latchkey.AuditClientDeleted, "client "+id, a)
	})
}

// CheckSecret reports whether secret is the client's current secret, or
// its previous one while that still works. It costs one SHA-256 and two
// constant-time comparisons: a secret of 256 random bits needs no slow hash.
func CheckSecret(cl *latchkey.Client, secret string, now time.Time) bool {
	if !usesSecret(cl) || secret == "" || len(secret) > MaxSecretLength {
		return false
	}
	h := crypt.Hash(secret)
	ok := len(cl.SecretHash) > 0 && subtle.ConstantTimeCompare(h, cl.SecretHash) == 1
	prev := len(cl.PreviousSecretHash) > 0 && subtle.ConstantTimeCompare(h, cl.PreviousSecretHash) == 1 &&
		cl.PreviousSecretExpiresAt != nil && now.Before(*cl.PreviousSecretExpiresAt)
	return ok || prev
}

func (c *Clients) dropCached(id string) {
	if c.changed != nil {
		c.changed(id)
	}
}

func (c *Clients) audit(ctx context.Context, tx latchkey.Tx, typ, reason string, a auth.Actor) error {
	if a.UserID == "" {
		reason += " by the command line"
	}
	now := c.now().UTC()
	return tx.AppendAudit(ctx, &latchkey.AuditEvent{ID: latchkey.NewID(now), Time: now, Type: typ, UserID: a.UserID,
		SessionID: a.SessionID, IP: a.IP, UserAgent: truncate(a.UserAgent, 512), Outcome: latchkey.OutcomeSuccess, Reason: reason})
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Limits on a client's settings.
const (
	maxNameLength = 200
	maxURIs       = 20
	maxURILength  = 2000
	maxScopes     = 50
	maxJWKSLength = 64 << 10
)

var knownGrants = []string{latchkey.GrantAuthorizationCode, latchkey.GrantRefreshToken, latchkey.GrantClientCredentials, latchkey.GrantDeviceCode}

// validateClient checks a client as a whole: each setting, and that they
// fit together.
func validateClient(c *latchkey.Client) error {
	if c.Name == "" || len(c.Name) > maxNameLength || strings.ContainsFunc(c.Name, isControl) {
		return invalid("The name must be 1 to %d characters without control characters.", maxNameLength)
	}
	switch c.Type {
	case latchkey.ClientPublic:
		if c.AuthMethod != latchkey.AuthMethodNone {
			return invalid("A public client cannot authenticate: its auth method is none.")
		}
	case latchkey.ClientConfidential:
		switch c.AuthMethod {
		case latchkey.AuthMethodSecretBasic, latchkey.AuthMethodSecretPost, latchkey.AuthMethodPrivateKeyJWT:
		default:
			return invalid("The auth method must be client_secret_basic, client_secret_post or private_key_jwt.")
		}
	default:
		return invalid("The type must be public or confidential.")
	}
	if c.AuthMethod == latchkey.AuthMethodPrivateKeyJWT {
		if err := validateJWKS(c.JWKS); err != nil {
			return err
		}
	} else if c.JWKS != "" {
		return invalid("Only a private_key_jwt client has a JWKS.")
	}
	for _, g := range c.GrantTypes {
		if !slices.Contains(knownGrants, g) {
			return invalid("Unknown grant type %q: use %s.", limit(g, 80), strings.Join(knownGrants, ", "))
		}
	}
	if len(c.GrantTypes) == 0 || hasDuplicates(c.GrantTypes) {
		return invalid("Give the client one or more grant types, each once.")
	}
	if c.Type == latchkey.ClientPublic && c.AllowsGrant(latchkey.GrantClientCredentials) {
		return invalid("A public client cannot use client_credentials: it has no credentials.")
	}
	if c.AllowsGrant(latchkey.GrantRefreshToken) && !c.AllowsGrant(latchkey.GrantAuthorizationCode) && !c.AllowsGrant(latchkey.GrantDeviceCode) {
		return invalid("refresh_token goes with authorization_code or the device code grant.")
	}
	if err := validateURIs("redirect URI", c.RedirectURIs); err != nil {
		return err
	}
	if err := validateURIs("post-logout redirect URI", c.PostLogoutRedirectURIs); err != nil {
		return err
	}
	if c.AllowsGrant(latchkey.GrantAuthorizationCode) && len(c.RedirectURIs) == 0 {
		return invalid("A client of the authorization_code grant needs at least one redirect URI.")
	}
	if len(c.Scopes) > maxScopes || hasDuplicates(c.Scopes) {
		return invalid("Give at most %d scopes, each once.", maxScopes)
	}
	for _, s := range c.Scopes {
		if !validScope(s) {
			return invalid("The scope %q is not a valid scope token (RFC 6749 §3.3).", limit(s, 80))
		}
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func hasDuplicates(l []string) bool {
	seen := make(map[string]bool, len(l))
	for _, s := range l {
		if seen[s] {
			return true
		}
		seen[s] = true
	}
	return false
}

func limit(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// validScope: 1*( %x21 / %x23-5B / %x5D-7E ), at most 100 characters.
func validScope(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
			return false
		}
	}
	return true
}

// validateURIs checks redirect URIs, which are matched exactly: absolute,
// no fragment, no user info; https, or http on a loopback address (RFC
// 8252 §7.3), or a private-use scheme of a native app (RFC 8252 §7.1,
// reverse domain: it contains a dot).
func validateURIs(what string, uris []string) error {
	if len(uris) > maxURIs || hasDuplicates(uris) {
		return invalid("Give at most %d %ss, each once.", maxURIs, what)
	}
	for _, raw := range uris {
		if err := validateURI(raw); err != nil {
			return invalid("The %s %q is not allowed: %s.", what, limit(raw, 200), err)
		}
	}
	return nil
}

func validateURI(raw string) error {
	if raw == "" || len(raw) > maxURILength || strings.ContainsFunc(raw, func(r rune) bool { return isControl(r) || r == ' ' }) {
		return fmt.Errorf("it must be 1 to %d characters without spaces", maxURILength)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return fmt.Errorf("it must be an absolute URL")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("it must not have a fragment")
	}
	if u.User != nil {
		return fmt.Errorf("it must not carry user information")
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return fmt.Errorf("it needs a host")
		}
	case "http":
		if !isLoopback(u.Hostname()) {
			return fmt.Errorf("http is allowed only on a loopback address; use https")
		}
	case "javascript", "data", "file", "vbscript":
		return fmt.Errorf("the scheme %s is never a redirect target", u.Scheme)
	default:
		if !strings.Contains(u.Scheme, ".") {
			return fmt.Errorf("a native app's scheme is a reverse domain name (com.example.app)")
		}
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validateJWKS checks that a client's key set parses and holds only
// public signing keys, each with a kid.
func validateJWKS(doc string) error {
	if doc == "" {
		return invalid("A private_key_jwt client needs its public keys (a JWKS).")
	}
	if len(doc) > maxJWKSLength {
		return invalid("The JWKS is larger than %d bytes.", maxJWKSLength)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(doc), &set); err != nil {
		return invalid("The JWKS is not a JSON Web Key Set.")
	}
	if len(set.Keys) == 0 {
		return invalid("The JWKS holds no key.")
	}
	for _, k := range set.Keys {
		if !k.IsPublic() || !k.Valid() || k.KeyID == "" || (k.Use != "" && k.Use != "sig") {
			return invalid("Every key of the JWKS must be a valid public signing key with a kid.")
		}
	}
	return nil
}
