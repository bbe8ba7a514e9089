package provider

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/latchkey/latchkey"
)

// ErrorPageFunc answers a request with an error page (status, a message
// safe to show).
type ErrorPageFunc func(w http.ResponseWriter, r *http.Request, status int, message string)

// Handler serves op's endpoints with latchkey's additions: discovery says
// what latchkey serves (and that authorization responses carry iss, RFC
// 9207), authorization responses get iss, the token endpoint offers only
// latchkey's grants and is never cached, and an authorization request that
// cannot go back to its client gets an error page (errorPage), never a
// redirect.
func (p *Provider) Handler(errorPage ErrorPageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case PathDiscovery:
			p.serveDiscovery(w, r)
		case PathToken, PathRevoke:
			noStore(w)
			if err := r.ParseForm(); err != nil {
				writeOAuthError(w, http.StatusBadRequest, "invalid_request", "The form could not be read.")
				return
			}
			if r.URL.Path == PathToken && !p.grantServed(r.PostForm.Get("grant_type")) {
				writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "This grant type is not offered.")
				return
			}
			ctx, ok := p.clientAuthentication(w, r)
			if !ok {
				return
			}
			ctx = withResources(withDeviceGrant(ctx), r.PostForm["resource"])
			p.op.ServeHTTP(w, r.WithContext(ctx))
		case PathDeviceAuthorization:
			noStore(w)
			p.op.ServeHTTP(w, r)
		case PathAuthorize, PathCallback, PathEndSession:
			p.serveAuthorization(w, r, errorPage)
		case PathUserinfo:
			noStore(w)
			rec := record(p.op, r)
			if rec.status == http.StatusUnauthorized {
				rec.header.Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			}
			rec.replay(w)
		default:
			p.op.ServeHTTP(w, r)
		}
	})
}

func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

func (p *Provider) grantServed(g string) bool {
	for _, s := range p.servedGrants {
		if g == s {
			return true
		}
	}
	return g == "" // op answers a missing grant_type itself
}

func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	body, _ := json.Marshal(map[string]string{"error": code, "error_description": description})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// serveAuthorization runs op's authorize or callback endpoint and looks at
// its answer: a redirect back to the client gets iss; an error op would
// write as plain text (no client to send it to) becomes latchkey's page.
func (p *Provider) serveAuthorization(w http.ResponseWriter, r *http.Request, errorPage ErrorPageFunc) {
	if r.URL.Path == PathAuthorize {
		if err := r.ParseForm(); err == nil {
			r = r.WithContext(withResources(r.Context(), r.Form["resource"]))
		}
	}
	if r.URL.Path == PathEndSession {
		if msg := p.postLogoutMismatch(r); msg != "" && errorPage != nil {
			errorPage(w, r, http.StatusBadRequest, msg)
			return
		}
	}
	rec := record(p.op, r)
	if loc := rec.header.Get("Location"); loc != "" && rec.status >= 300 && rec.status < 400 {
		if u, err := url.Parse(loc); err == nil && u.IsAbs() && (u.Query().Has("code") || u.Query().Has("error")) {
			rec.header.Set("Location", p.withIss(loc))
		}
		rec.replay(w)
		return
	}
	if mt, _, _ := mime.ParseMediaType(rec.header.Get("Content-Type")); rec.status >= 400 && mt == "text/plain" && errorPage != nil {
		msg := strings.TrimSpace(rec.body.String())
		if msg == "" || len(msg) > 300 {
			msg = "The authorization request is invalid."
		}
		errorPage(w, r, rec.status, msg)
		return
	}
	rec.replay(w)
}

// serveDiscovery is op's discovery document, said precisely: only what
// latchkey serves, and the RFC 9207 flag.
func (p *Provider) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	rec := record(p.op, r)
	var doc map[string]any
	if rec.status != http.StatusOK || json.Unmarshal(rec.body.Bytes(), &doc) != nil {
		rec.replay(w)
		return
	}
	for _, k := range []string{"check_session_iframe", "introspection_endpoint", "introspection_endpoint_auth_methods_supported",
		"introspection_endpoint_auth_signing_alg_values_supported",
		"request_object_signing_alg_values_supported"} {
		delete(doc, k)
	}
	doc["authorization_response_iss_parameter_supported"] = true
	doc["response_types_supported"] = []string{"code"}
	doc["response_modes_supported"] = []string{"query"}
	doc["code_challenge_methods_supported"] = []string{"S256"}
	doc["grant_types_supported"] = p.servedGrants
	methods := []string{latchkey.AuthMethodSecretBasic, latchkey.AuthMethodSecretPost, latchkey.AuthMethodPrivateKeyJWT, latchkey.AuthMethodNone}
	doc["token_endpoint_auth_methods_supported"] = methods
	doc["revocation_endpoint_auth_methods_supported"] = methods
	doc["token_endpoint_auth_signing_alg_values_supported"] = assertionAlgs
	doc["revocation_endpoint_auth_signing_alg_values_supported"] = assertionAlgs
	doc["request_parameter_supported"] = false
	doc["request_uri_parameter_supported"] = false
	body, err := json.Marshal(doc)
	if err != nil {
		rec.replay(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// assertionAlgs are the algorithms op accepts for client assertions.
var assertionAlgs = []string{"RS256", "ES256", "PS256"}

// recorder keeps op's answer so that it can be looked at before it goes out.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func record(h http.Handler, r *http.Request) *recorder {
	rec := &recorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) replay(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body.Bytes())
}

// assertedKey carries the client a verified private_key_jwt assertion
// authenticated.
type assertedKey struct{}

func assertedClient(ctx context.Context) string {
	id, _ := ctx.Value(assertedKey{}).(string)
	return id
}

// maxAssertionLifetime: a client assertion must expire within this much
// of now (RFC 7523 §3: short-lived), and its jti is remembered that long.
const maxAssertionLifetime = 5 * time.Minute

// clientAuthentication notes which client a token or revocation request
// names, and for a private_key_jwt assertion verifies it with op's JWT
// profile verifier and refuses it if its jti was seen before (a replay;
// op does not keep jti).
func (p *Provider) clientAuthentication(w http.ResponseWriter, r *http.Request) (context.Context, bool) {
	ctx := r.Context()
	clientID := r.PostForm.Get("client_id")
	if id, _, ok := r.BasicAuth(); ok {
		clientID, _ = url.QueryUnescape(id)
	}
	assertion := r.PostForm.Get("client_assertion")
	if assertion == "" {
		return withClient(ctx, clientID), true
	}
	if r.PostForm.Get("client_assertion_type") != oidc.ClientAssertionTypeJWTAssertion || len(assertion) > 16<<10 {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Unsupported client assertion.")
		return ctx, false
	}
	v := op.NewJWTProfileVerifier(storage{p}, p.cfg.Issuer, maxAssertionLifetime, time.Second)
	req, err := op.VerifyJWTAssertion(ctx, assertion, v)
	now := p.now()
	switch {
	case err != nil:
		p.clientAuthFailed(ctx, limit(clientID, 64))
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "The client assertion is invalid.")
		return ctx, false
	case req.JWTID == "" || len(req.JWTID) > 256 || req.ExpiresAt.AsTime().After(now.Add(maxAssertionLifetime)):
		p.clientAuthFailed(ctx, req.Issuer)
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "The client assertion needs a jti and must expire within 5 minutes.")
		return ctx, false
	}
	err = p.store.UseAssertionID(ctx, req.Issuer, req.JWTID, req.ExpiresAt.AsTime().Add(time.Second))
	if latchkey.IsCode(err, latchkey.EConflict) {
		p.clientAuthFailed(ctx, req.Issuer)
		p.log.WarnContext(ctx, "client assertion replayed", "client_id", req.Issuer)
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "The client assertion was used before.")
		return ctx, false
	}
	if err != nil {
		p.log.ErrorContext(ctx, "recording a client assertion", "err", err)
		writeOAuthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "Try again.")
		return ctx, false
	}
	ctx = context.WithValue(ctx, assertedKey{}, req.Issuer)
	return withClient(ctx, req.Issuer), true
}

// postLogoutMismatch holds a post-logout redirect URI to the same rule as
// redirect URIs: equal to one the client registered, character for
// character (op lets a native app's loopback port vary). The client is
// client_id, or the one the ID token hint names (op then verifies the
// hint; this check can only refuse more). It returns what is wrong, or "".
func (p *Provider) postLogoutMismatch(r *http.Request) string {
	if err := r.ParseForm(); err != nil {
		return "The logout request could not be read."
	}
	target := r.Form.Get("post_logout_redirect_uri")
	if target == "" {
		return ""
	}
	clientID := r.Form.Get("client_id")
	if clientID == "" {
		if c, ok := unverifiedIDTokenClient(r.Form.Get("id_token_hint")); ok {
			clientID = c
		}
	}
	cl, err := p.clientByID(r.Context(), clientID)
	if err != nil {
		return "The logout request names no known client."
	}
	for _, u := range cl.PostLogoutRedirectURIs {
		if u == target {
			return ""
		}
	}
	return "The post_logout_redirect_uri is not registered for this client."
}

// unverifiedIDTokenClient reads the client an ID token was issued to (azp,
// else its one aud) without checking it.
func unverifiedIDTokenClient(raw string) (string, bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 || len(raw) > 16<<10 {
		return "", false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", false
	}
	var c struct {
		AZP string          `json:"azp"`
		Aud json.RawMessage `json:"aud"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return "", false
	}
	if c.AZP != "" {
		return c.AZP, true
	}
	var one string
	if json.Unmarshal(c.Aud, &one) == nil {
		return one, one != ""
	}
	var many []string
	if json.Unmarshal(c.Aud, &many) == nil && len(many) == 1 {
		return many[0], true
	}
	return "", false
}
