package oauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/latchkey/latchkey"
)

// Profile is who the provider says the user is. (Provider, Subject) is the
// identity's key; Email may only be trusted for linking when EmailVerified.
type Profile struct {
	Provider      string
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
}

// Provider is one ready-to-use social login provider.
type Provider struct {
	cfg      ProviderConfig
	oauth    oauth2.Config
	client   *http.Client
	verifier *oidc.IDTokenVerifier // KindOIDC only
}

func newProvider(ctx context.Context, cfg ProviderConfig, callbackURL string, client *http.Client, now func() time.Time) (*Provider, error) {
	p := &Provider{
		cfg:    cfg,
		client: client,
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret.Reveal(),
			RedirectURL:  callbackURL,
			Scopes:       cfg.Scopes,
		},
	}
	switch cfg.Kind {
	case KindGitHub:
		// GitHub documents the client credentials as form parameters.
		p.oauth.Endpoint = oauth2.Endpoint{AuthURL: cfg.AuthURL, TokenURL: cfg.TokenURL, AuthStyle: oauth2.AuthStyleInParams}
		return p, nil
	case KindOIDC:
		if err := p.discover(ctx, now); err != nil {
			return nil, err
		}
		return p, nil
	default:
		return nil, fmt.Errorf("oauth: provider %q has unknown kind %q", cfg.Name, cfg.Kind)
	}
}

// Name is the provider's name in URLs.
func (p *Provider) Name() string { return p.cfg.Name }

// Kind is the protocol the provider speaks.
func (p *Provider) Kind() Kind { return p.cfg.Kind }

// AuthCodeURL is where the browser goes to sign in: it carries the flow's
// state, its PKCE S256 challenge (never the verifier) and, for OpenID
// Connect, its nonce.
func (p *Provider) AuthCodeURL(f Flow) string {
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.Verifier)}
	if p.cfg.Kind == KindOIDC {
		opts = append(opts, oidc.Nonce(f.Nonce))
	}
	return p.oauth.AuthCodeURL(f.State, opts...)
}

// AuthOrigin is the origin (scheme://host[:port]) of the authorization
// endpoint that AuthCodeURL points to; "" if it has none.
func (p *Provider) AuthOrigin() string {
	u, err := url.Parse(p.oauth.Endpoint.AuthURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// maxCodeLen bounds the authorization code we forward; real codes are far
// shorter.
const maxCodeLen = 2048

var errorCodeRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// CallbackCode checks the provider's redirect back to us (its query q)
// against the flow from the cookie, and returns the authorization code.
// It refuses a flow started for another provider, a state mismatch, an
// error from the provider, a mismatched RFC 9207 iss, and a missing code.
func (p *Provider) CallbackCode(f Flow, q url.Values) (string, error) {
	if f.Provider != p.cfg.Name {
		return "", invalidRequest("The sign-in request belongs to another provider.",
			fmt.Errorf("oauth: flow for %q arrived at %q", f.Provider, p.cfg.Name))
	}
	if err := f.CheckState(q.Get("state")); err != nil {
		return "", err
	}
	if e := q.Get("error"); e != "" {
		if !errorCodeRE.MatchString(e) {
			e = "malformed"
		}
		return "", failed(fmt.Errorf("oauth: provider returned error %q", e))
	}
	if iss := q.Get("iss"); iss != "" && p.cfg.Kind == KindOIDC && iss != p.cfg.Issuer {
		return "", failed(errors.New("oauth: callback iss does not match the provider's issuer (mix-up)"))
	}
	code := q.Get("code")
	if code == "" || len(code) > maxCodeLen {
		return "", invalidRequest("The sign-in response has no valid code.", errors.New("oauth: callback without a usable code"))
	}
	return code, nil
}

// Exchange redeems code, with the flow's PKCE verifier, and returns the
// verified profile. Every anomaly upstream is a failed login:
// EInvalidCredentials (or EInvalidRequest for a bad call) whose operator
// detail is a reason fit for the audit log, or EUnavailable when the
// provider cannot be reached.
func (p *Provider) Exchange(ctx context.Context, f Flow, code string) (*Profile, error) {
	if f.Provider != p.cfg.Name {
		return nil, invalidRequest("The sign-in request belongs to another provider.",
			fmt.Errorf("oauth: flow for %q exchanged at %q", f.Provider, p.cfg.Name))
	}
	if code == "" || len(code) > maxCodeLen {
		return nil, invalidRequest("The sign-in response has no valid code.", errors.New("oauth: empty or oversized code"))
	}
	if err := f.validate(); err != nil {
		return nil, invalidRequest("The sign-in request is not valid.", fmt.Errorf("oauth: flow: %w", err))
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, p.client)
	tok, err := p.oauth.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return nil, tokenError(err)
	}
	var prof *Profile
	switch p.cfg.Kind {
	case KindOIDC:
		prof, err = p.verifyIDToken(ctx, f, tok)
	case KindGitHub:
		prof, err = p.githubProfile(ctx, tok)
	default:
		err = failed(fmt.Errorf("oauth: unknown kind %q", p.cfg.Kind))
	}
	if err != nil {
		return nil, err
	}
	prof.Provider = p.cfg.Name
	if prof.Subject == "" {
		return nil, failed(errors.New("oauth: provider returned no subject"))
	}
	return prof, nil
}

// The client-safe messages; the reason is in the wrapped error.
const msgFailed = "The sign-in with this provider failed."

func failed(reason error) error {
	return latchkey.WrapError(latchkey.EInvalidCredentials, msgFailed, reason)
}

func invalidRequest(msg string, reason error) error {
	return latchkey.WrapError(latchkey.EInvalidRequest, msg, reason)
}

func unavailable(reason error) error {
	return latchkey.WrapError(latchkey.EUnavailable, "This sign-in provider is unavailable right now; please try again later.", reason)
}

// tokenError classifies a failed code exchange. It never wraps the
// RetrieveError itself, whose text includes the upstream body.
func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		code := re.ErrorCode
		if !errorCodeRE.MatchString(code) {
			code = "none"
		}
		reason := fmt.Errorf("oauth: token endpoint refused the code: error %q, HTTP %d", code, status)
		if status >= 500 {
			return unavailable(reason)
		}
		return failed(reason)
	}
	if isNetError(err) {
		return unavailable(fmt.Errorf("oauth: token endpoint unreachable: %w", err))
	}
	return failed(fmt.Errorf("oauth: token response unusable: %w", err))
}

func isNetError(err error) bool {
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue) || errors.Is(err, context.DeadlineExceeded)
}
