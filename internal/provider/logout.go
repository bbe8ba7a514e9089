package provider

import (
	"context"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): a client
// sends the browser to end_session with the ID token it holds; latchkey
// ends the browser's session, which ends every client's tokens that stand
// on it (single sign-out), and sends the browser to the client's
// registered post-logout URI.

// PathEndSession is op's end_session endpoint.
const PathEndSession = "/oauth2/end_session"

// logoutKey carries the way to end the browser's latchkey session: the
// HTTP layer knows the cookie, op does not.
type logoutKey struct{}

// LogoutFunc ends the requesting browser's session if it is the user's.
type LogoutFunc func(ctx context.Context, userID string) error

// WithLogout lets end_session end the browser's session.
func WithLogout(ctx context.Context, f LogoutFunc) context.Context {
	return context.WithValue(ctx, logoutKey{}, f)
}

var _ op.CanTerminateSessionFromRequest = storage{}

// TerminateSessionFromRequest ends the browser's session for a request op
// validated (the post-logout URI registered for the client). An
// id_token_hint is required: without one, any site could sign users out
// by sending them here.
func (s storage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	if req.IDTokenHintClaims == nil || req.UserID == "" {
		return "", oidc.ErrInvalidRequest().WithDescription("id_token_hint is required")
	}
	if f, ok := ctx.Value(logoutKey{}).(LogoutFunc); ok && f != nil {
		if err := f(ctx, req.UserID); err != nil {
			return "", err
		}
	}
	return req.RedirectURI, nil
}

// TerminateSession is not used: op calls TerminateSessionFromRequest.
func (s storage) TerminateSession(ctx context.Context, userID, clientID string) error {
	return oidc.ErrInvalidRequest().WithDescription("id_token_hint is required")
}
