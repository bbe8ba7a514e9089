package verify_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/verify"
)

// exampleIssuer stands in for a latchkey server: it publishes a JWKS and
// signs access tokens as latchkey does. In a real service, Config.Issuer is
// latchkey's URL and tokens come from its login endpoint.
type exampleIssuer struct {
	*httptest.Server
	key *ecdsa.PrivateKey
}

func startExampleIssuer() *exampleIssuer {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, _ := key.PublicKey.Bytes() // 0x04 || X || Y
	enc := base64.RawURLEncoding.EncodeToString
	jwks := map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-256", "x": enc(pub[1:33]), "y": enc(pub[33:]), "kid": "k1", "use": "sig", "alg": "ES256",
	}}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jwks)
	}))
	return &exampleIssuer{Server: srv, key: key}
}

func (is *exampleIssuer) token(sub string, roles []string, scope string) string {
	now := time.Now()
	claims := jwt.MapClaims{
		"iss": is.URL, "sub": sub, "aud": "latchkey", "sid": "session-1", "roles": roles, "jti": "t1",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(15 * time.Minute).Unix(),
	}
	if scope != "" {
		claims["scope"] = scope
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	t.Header["typ"], t.Header["kid"] = "at+jwt", "k1"
	s, _ := t.SignedString(is.key)
	return s
}

func get(h http.Handler, path, token string) {
	r := httptest.NewRequest("GET", path, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	if c := w.Header().Get("WWW-Authenticate"); c != "" {
		fmt.Println("  WWW-Authenticate:", c)
	}
}

func ExampleVerifier_Middleware() {
	issuer := startExampleIssuer()
	defer issuer.Close()

	v, err := verify.New(verify.Config{Issuer: issuer.URL})
	if err != nil {
		panic(err)
	}
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := verify.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s (roles %v, session %s)", id.UserID, id.Roles, id.SessionID)
	})
	h := v.Middleware(hello)

	get(h, "/", issuer.token("user-1", []string{"user"}, ""))
	get(h, "/", "")
	get(h, "/", "not-a-token")
	// Output:
	// 200 hello user-1 (roles [user], session session-1)
	// 401 {"type":"about:blank","title":"Authentication required","status":401,"code":"token_required"}
	//   WWW-Authenticate: Bearer
	// 401 {"type":"about:blank","title":"Invalid access token","status":401,"code":"invalid_token"}
	//   WWW-Authenticate: Bearer error="invalid_token"
}

func ExampleRequireRole() {
	issuer := startExampleIssuer()
	defer issuer.Close()
	v, _ := verify.New(verify.Config{Issuer: issuer.URL})

	mux := http.NewServeMux()
	mux.Handle("GET /admin", verify.RequireRole("admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "admin area")
	})))
	h := v.Middleware(mux)

	get(h, "/admin", issuer.token("user-1", []string{"user"}, ""))
	get(h, "/admin", issuer.token("user-2", []string{"user", "admin"}, ""))
	// Output:
	// 403 {"type":"about:blank","title":"Forbidden","status":403,"code":"forbidden"}
	//   WWW-Authenticate: Bearer error="insufficient_scope"
	// 200 admin area
}

func ExampleRequireScope() {
	issuer := startExampleIssuer()
	defer issuer.Close()
	v, _ := verify.New(verify.Config{Issuer: issuer.URL})

	write := verify.RequireScope("notes:write")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "note saved")
	}))
	h := v.Middleware(write)

	get(h, "/", issuer.token("user-1", []string{"user"}, "notes:read"))             // scoped, without the scope
	get(h, "/", issuer.token("user-1", []string{"user"}, "notes:read notes:write")) // scoped, with it
	get(h, "/", issuer.token("user-1", []string{"user"}, ""))                       // unscoped: all the user's rights
	// Output:
	// 403 {"type":"about:blank","title":"Forbidden","status":403,"code":"forbidden"}
	//   WWW-Authenticate: Bearer error="insufficient_scope", scope="notes:write"
	// 200 note saved
	// 200 note saved
}

func ExampleVerifier_Authenticate() {
	issuer := startExampleIssuer()
	defer issuer.Close()
	v, _ := verify.New(verify.Config{Issuer: issuer.URL})

	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+issuer.token("user-1", []string{"user"}, "read"))
	id, err := v.Authenticate(r)
	fmt.Println(id.Kind, id.UserID, id.Scopes, err)

	r.Header.Set("Authorization", "Bearer lk_not-a-key")
	_, err = v.Authenticate(r)
	fmt.Println(errors.Is(err, verify.ErrInvalidAPIKey))
	// Output:
	// access_token user-1 [read] <nil>
	// true
}

// tokenWithAMR is a token of a session that authenticated with amr.
func (is *exampleIssuer) tokenWithAMR(sub string, amr []string, acr string) string {
	now := time.Now()
	t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"iss": is.URL, "sub": sub, "aud": "latchkey", "sid": "session-1", "roles": []string{"user"}, "jti": "t1",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(15 * time.Minute).Unix(), "amr": amr, "acr": acr,
	})
	t.Header["typ"], t.Header["kid"] = "at+jwt", "k1"
	s, _ := t.SignedString(is.key)
	return s
}

func ExampleRequireAAL2() {
	issuer := startExampleIssuer()
	defer issuer.Close()
	v, _ := verify.New(verify.Config{Issuer: issuer.URL})

	payouts := verify.RequireAAL2()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := verify.FromContext(r.Context())
		fmt.Fprintf(w, "payout by %s (%s, %v)", id.UserID, id.ACR, id.AMR)
	}))
	h := v.Middleware(payouts)

	get(h, "/", issuer.tokenWithAMR("user-1", []string{"pwd"}, "aal1"))               // a password only
	get(h, "/", issuer.tokenWithAMR("user-1", []string{"pwd", "otp", "mfa"}, "aal2")) // and a TOTP code
	// Output:
	// 403 {"type":"about:blank","title":"Insufficient authentication","status":403,"code":"insufficient_authentication"}
	//   WWW-Authenticate: Bearer error="insufficient_user_authentication", acr_values="aal2"
	// 200 payout by user-1 (aal2, [pwd otp mfa])
}
