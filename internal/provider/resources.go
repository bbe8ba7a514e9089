package provider

import (
	"context"
	"net/url"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
)

// Resource servers and audiences (RFC 8707): a client asks for a token for
// a registered resource by its identifier, and the token's aud is that
// identifier, so that the token works at that service and no other.

// validResourceID: an absolute URI without a fragment (RFC 8707 §2).
func validResourceID(id string) bool {
	if id == "" || len(id) > 500 || strings.ContainsFunc(id, func(r rune) bool { return isControl(r) || r == ' ' }) {
		return false
	}
	u, err := url.Parse(id)
	return err == nil && u.IsAbs() && u.Fragment == "" && !strings.Contains(id, "#") && u.User == nil
}

// CreateResource registers a resource server.
func (c *Clients) CreateResource(ctx context.Context, id, name string, a auth.Actor) (*latchkey.Resource, error) {
	name = strings.TrimSpace(name)
	if !validResourceID(id) {
		return nil, invalid("A resource's identifier is an absolute URI without a fragment, e.g. https://api.example.com.")
	}
	if name == "" || len(name) > maxNameLength || strings.ContainsFunc(name, isControl) {
		return nil, invalid("The name must be 1 to %d characters without control characters.", maxNameLength)
	}
	r := &latchkey.Resource{ID: id, Name: name, CreatedAt: c.now().UTC()}
	err := c.store.InTx(ctx, func(tx latchkey.Tx) error {
		if err := tx.CreateResource(ctx, r); err != nil {
			if latchkey.IsCode(err, latchkey.EConflict) {
				return latchkey.Errorf(latchkey.EConflict, "That resource is registered already.")
			}
			return err
		}
		return c.audit(ctx, tx, latchkey.AuditResourceCreated, "resource "+id, a)
	})
	return r, err
}

// ListResources lists the resource servers.
func (c *Clients) ListResources(ctx context.Context) ([]latchkey.Resource, error) {
	return c.store.ListResources(ctx)
}

// DeleteResource removes a resource server: clients can no longer ask for
// it (tokens already issued for it live until they expire).
func (c *Clients) DeleteResource(ctx context.Context, id string, a auth.Actor) error {
	return c.store.InTx(ctx, func(tx latchkey.Tx) error {
		if err := tx.DeleteResource(ctx, id); err != nil {
			if latchkey.IsCode(err, latchkey.ENotFound) {
				return latchkey.Errorf(latchkey.ENotFound, "No such resource.")
			}
			return err
		}
		return c.audit(ctx, tx, latchkey.AuditResourceDeleted, "resource "+id, a)
	})
}

// checkResources: every resource of a client must be registered.
func checkResources(ctx context.Context, tx latchkey.Tx, ids []string) error {
	if len(ids) > maxURIs || hasDuplicates(ids) {
		return invalid("Give at most %d resources, each once.", maxURIs)
	}
	for _, id := range ids {
		if _, err := tx.ResourceByID(ctx, id); latchkey.IsCode(err, latchkey.ENotFound) {
			return invalid("The resource %q is not registered (POST /v1/admin/resources).", limit(id, 200))
		} else if err != nil {
			return err
		}
	}
	return nil
}

// SetAPIKeyAudiences binds one of the user's API keys to services (or,
// with none, frees it): a bound key is refused by every other service.
// Each audience is a registered resource or latchkey's own audience.
func (c *Clients) SetAPIKeyAudiences(ctx context.Context, a auth.Actor, keyID string, audiences []string, own string) error {
	if len(audiences) > maxURIs || hasDuplicates(audiences) {
		return invalid("Give at most %d audiences, each once.", maxURIs)
	}
	defer func() {
		if c.keysChanged != nil {
			c.keysChanged([]string{keyID})
		}
	}()
	return c.store.InTx(ctx, func(tx latchkey.Tx) error {
		for _, aud := range audiences {
			if aud == own {
				continue
			}
			if _, err := tx.ResourceByID(ctx, aud); latchkey.IsCode(err, latchkey.ENotFound) {
				return invalid("The audience %q is not a registered resource.", limit(aud, 200))
			} else if err != nil {
				return err
			}
		}
		if err := tx.SetAPIKeyAudiences(ctx, keyID, a.UserID, audiences); err != nil {
			if latchkey.IsCode(err, latchkey.ENotFound) {
				return latchkey.Errorf(latchkey.ENotFound, "No such API key.")
			}
			return err
		}
		now := c.now().UTC()
		return tx.AppendAudit(ctx, &latchkey.AuditEvent{ID: latchkey.NewID(now), Time: now, Type: latchkey.AuditAPIKeyAudiences,
			UserID: a.UserID, SessionID: a.SessionID, APIKeyID: keyID, IP: a.IP, UserAgent: truncate(a.UserAgent, 512),
			Outcome: latchkey.OutcomeSuccess, Reason: "audiences: " + strings.Join(audiences, " ")})
	})
}

// resourcesKey carries the resource parameters (RFC 8707) of a request.
type resourcesKey struct{}

func withResources(ctx context.Context, rs []string) context.Context {
	return context.WithValue(ctx, resourcesKey{}, rs)
}

func resourcesOf(ctx context.Context) []string {
	rs, _ := ctx.Value(resourcesKey{}).([]string)
	return rs
}

// audienceFor decides a token's aud: the resources asked for, each of
// which the client may ask for (invalid_target otherwise), or the client
// itself when none is.
func audienceFor(cl *latchkey.Client, asked []string) ([]string, error) {
	if len(asked) == 0 {
		return []string{cl.ID}, nil
	}
	var out []string
	for _, r := range asked {
		if !slices.Contains(cl.Resources, r) {
			return nil, oidc.ErrInvalidTarget().WithDescription("The client may not ask for the resource %q.", limit(r, 200))
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// narrowAudience: a token request may ask for some of a grant's resources
// (RFC 8707 §2.2), never another.
func narrowAudience(granted, asked []string) ([]string, error) {
	if len(asked) == 0 {
		return granted, nil
	}
	for _, r := range asked {
		if !slices.Contains(granted, r) {
			return nil, oidc.ErrInvalidTarget().WithDescription("The resource %q was not granted.", limit(r, 200))
		}
	}
	return asked, nil
}

// APIKeyAudiences returns the audiences an API key is bound to (none: it
// is good for every service).
func (p *Provider) APIKeyAudiences(ctx context.Context, keyID string) ([]string, error) {
	k, err := p.store.APIKeyByID(ctx, keyID)
	if err != nil {
		return nil, err
	}
	return k.Audiences, nil
}
