package auth

import (
	"slices"

	"github.com/latchkey/latchkey"
)

// Authentication method references (RFC 8176 §2), as sessions record them
// and access tokens carry them in amr. A session's list says how its user
// proved who they are: the sign-in, and whatever was proven on top of it
// (a second factor, a step-up).
//
// RFC 8176 has no value for a sign-in through another identity provider
// (social login): latchkey writes "fed", the value Microsoft Entra ID
// uses for federated sign-in, since latchkey cannot know how the provider
// authenticated the user. A sign-in by a mailed link or code proves
// possession of a one-time secret: "otp", as a TOTP code is. A service
// that needs two factors must therefore ask for acr "aal2" (or "mfa" in
// amr), never for "otp" alone.
const (
	AMRPassword  = "pwd" // a password
	AMROTP       = "otp" // a one-time password: TOTP, a recovery code, a mailed link or code
	AMRMFA       = "mfa" // several independent factors were proven
	AMRHardware  = "hwk" // proof of possession of a hardware-secured key (a passkey on a security key)
	AMRSoftware  = "swk" // proof of possession of a software-secured key (a synced passkey)
	AMRFederated = "fed" // a sign-in through a social-login provider (not in RFC 8176; see above)
)

// Authentication context classes (the acr claim): the NIST SP 800-63B
// authenticator assurance level the session reached.
const (
	ACRSingleFactor = "aal1"
	ACRMultiFactor  = "aal2"
)

// ACRFor is the assurance level of a session that authenticated with amr:
// aal2 when it proved several factors (amr holds "mfa"), aal1 otherwise,
// including when amr is empty (a session that predates the record). Every
// use case that proves several factors at once — a password and a TOTP
// code, a passkey with user verification — says so by adding AMRMFA.
func ACRFor(amr []string) string {
	if slices.Contains(amr, AMRMFA) {
		return ACRMultiFactor
	}
	return ACRSingleFactor
}

// acrRank orders the assurance levels latchkey knows; an unknown level
// ranks above every known one, so a requirement nobody can meet is refused
// rather than waved through.
func acrRank(acr string) int {
	switch acr {
	case "", ACRSingleFactor:
		return 1
	case ACRMultiFactor:
		return 2
	default:
		return 1 << 30
	}
}

// MeetsACR reports whether a session whose level is have satisfies a
// requirement of want ("" requires nothing).
func MeetsACR(have, want string) bool {
	if want == "" {
		return true
	}
	if have == "" {
		return false
	}
	return acrRank(have) >= acrRank(want)
}

// AddAMR returns amr with methods appended that it does not hold yet, in
// a new slice (the old one may be shared by a cache).
func AddAMR(amr []string, methods ...string) []string {
	out := slices.Clone(amr)
	for _, m := range methods {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

// SignIn says how a new session was authenticated: the audit event that
// records it ("" for none) and its authentication methods.
type SignIn struct {
	Audit string
	AMR   []string
}

// The ways a session starts, for the use cases and handlers that start one.
var (
	// SignInPassword: email and password (POST /v1/auth/login, the hosted
	// login page).
	SignInPassword = SignIn{Audit: latchkey.AuditLoginSucceeded, AMR: []string{AMRPassword}}
	// SignUpPassword: the session a sign-up starts (audited as signup).
	SignUpPassword = SignIn{AMR: []string{AMRPassword}}
	// SignInFederated: a social login (audited as oauth.login by its use case).
	SignInFederated = SignIn{AMR: []string{AMRFederated}}
	// SignInEmail: a mailed sign-in link or code.
	SignInEmail = SignIn{Audit: latchkey.AuditEmailSignIn, AMR: []string{AMROTP}}
)
