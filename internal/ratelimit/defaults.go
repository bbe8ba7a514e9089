package ratelimit

import "time"

// Rules are the limits latchkey applies. "IP" rules are keyed by the client
// address (clientip.RateKey: one IPv4 address or one IPv6 /64); "Account"
// rules by the canonical account (normalized email or user id); APIKeyPrefix
// by the public prefix of a presented API key; "Key" rules by the id of the
// API key a request authenticated with. docs/rate-limits.md explains every
// number.
type Rules struct {
	LoginIP, LoginAccount                   Rule
	SignupIP                                Rule
	RefreshIP                               Rule
	PasswordChangeIP, PasswordChangeAccount Rule
	OAuthCallbackIP                         Rule
	CodeExchangeIP                          Rule
	APIKeyFailurePrefix, APIKeyFailureIP    Rule
	APIKeyCreateAccount                     Rule
	APIKeyRequestsKey                       Rule
	// The mailed flows: sending mail per address and per client, spending
	// mailed tokens and codes per client, email changes per user.
	EmailSendIP, EmailSendAccount Rule
	EmailConfirmIP                Rule
	EmailChangeAccount            Rule
	// Second factors: codes tried at sign-in or step-up per client and per
	// account, and changes to a user's factors.
	MFAVerifyIP, MFAVerifyAccount Rule
	MFAChangeAccount              Rule
	// Passkeys: ceremonies per client (sign-in needs no account), and
	// registrations begun per user.
	PasskeyIP, PasskeyRegisterAccount Rule
	// The OpenID provider: its browser flow, its token endpoint and
	// userinfo, per client address.
	ProviderAuthorizeIP, ProviderTokenIP, ProviderUserinfoIP Rule
	// Entering device user codes, per client address and per user: a
	// user code has about 34 bits.
	ProviderDeviceIP, ProviderDeviceAccount Rule
}

// Defaults returns the rules latchkey uses unless configured otherwise.
func Defaults() Rules {
	return Rules{
		LoginIP:                Rule{"login-ip", 30, 10 * time.Minute},
		LoginAccount:           Rule{"login-account", 10, time.Minute},
		SignupIP:               Rule{"signup-ip", 10, time.Hour},
		RefreshIP:              Rule{"refresh-ip", 120, time.Minute},
		PasswordChangeIP:       Rule{"password-change-ip", 10, 15 * time.Minute},
		PasswordChangeAccount:  Rule{"password-change-account", 5, 15 * time.Minute},
		OAuthCallbackIP:        Rule{"oauth-callback-ip", 30, 5 * time.Minute},
		CodeExchangeIP:         Rule{"code-exchange-ip", 30, 5 * time.Minute},
		APIKeyFailurePrefix:    Rule{"apikey-failure-prefix", 10, time.Minute},
		APIKeyFailureIP:        Rule{"apikey-failure-ip", 30, 5 * time.Minute},
		APIKeyCreateAccount:    Rule{"apikey-create-account", 20, time.Hour},
		APIKeyRequestsKey:      Rule{"apikey-requests-key", 3000, time.Minute},
		EmailSendIP:            Rule{"email-send-ip", 10, 10 * time.Minute},
		EmailSendAccount:       Rule{"email-send-account", 1, time.Minute},
		EmailConfirmIP:         Rule{"email-confirm-ip", 30, 10 * time.Minute},
		EmailChangeAccount:     Rule{"email-change-account", 5, time.Hour},
		MFAVerifyIP:            Rule{"mfa-verify-ip", 30, 10 * time.Minute},
		MFAVerifyAccount:       Rule{"mfa-verify-account", 10, time.Minute},
		MFAChangeAccount:       Rule{"mfa-change-account", 10, 15 * time.Minute},
		PasskeyIP:              Rule{"passkey-ip", 60, 10 * time.Minute},
		PasskeyRegisterAccount: Rule{"passkey-register-account", 10, time.Hour},
		ProviderAuthorizeIP:    Rule{"provider-authorize-ip", 60, 5 * time.Minute},
		ProviderTokenIP:        Rule{"provider-token-ip", 600, time.Minute},
		ProviderUserinfoIP:     Rule{"provider-userinfo-ip", 600, time.Minute},
		ProviderDeviceIP:       Rule{"provider-device-ip", 20, 10 * time.Minute},
		ProviderDeviceAccount:  Rule{"provider-device-account", 10, 10 * time.Minute},
	}
}

// All lists the rules, for validation and documentation.
func (r Rules) All() []Rule {
	var all []Rule
	for _, p := range r.fields() {
		all = append(all, *p)
	}
	return all
}

// fields points at every rule of r: the one list that All and Scaled share,
// so that a new rule cannot be listed by one and forgotten by the other.
func (r *Rules) fields() []*Rule {
	return []*Rule{
		&r.LoginIP, &r.LoginAccount, &r.SignupIP, &r.RefreshIP,
		&r.PasswordChangeIP, &r.PasswordChangeAccount,
		&r.OAuthCallbackIP, &r.CodeExchangeIP, &r.APIKeyFailurePrefix, &r.APIKeyFailureIP,
		&r.APIKeyCreateAccount, &r.APIKeyRequestsKey,
		&r.EmailSendIP, &r.EmailSendAccount, &r.EmailConfirmIP, &r.EmailChangeAccount,
		&r.MFAVerifyIP, &r.MFAVerifyAccount, &r.MFAChangeAccount,
		&r.PasskeyIP, &r.PasskeyRegisterAccount,
		&r.ProviderAuthorizeIP, &r.ProviderTokenIP, &r.ProviderUserinfoIP,
		&r.ProviderDeviceIP, &r.ProviderDeviceAccount,
	}
}
