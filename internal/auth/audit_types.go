package auth

import "github.com/latchkey/latchkey"

// AuditTypes are the event types of latchkey.Audit*, in the order they are
// declared: what the audit filters of the console and of `audit tail`
// offer. A test keeps the list complete.
var AuditTypes = []string{
	latchkey.AuditSignup, latchkey.AuditLoginSucceeded, latchkey.AuditLoginFailed, latchkey.AuditLogout,
	latchkey.AuditRefresh, latchkey.AuditRefreshReuse, latchkey.AuditRefreshGrace, latchkey.AuditReauthenticated,
	latchkey.AuditSessionRevoked, latchkey.AuditPasswordChanged, latchkey.AuditAPIKeyCreated, latchkey.AuditAPIKeyRevoked,
	latchkey.AuditOAuthLogin, latchkey.AuditOAuthLinked, latchkey.AuditUserUpdated, latchkey.AuditUserDeleted,
	latchkey.AuditKeysRotated, latchkey.AuditRateLimited,
	latchkey.AuditEmailVerificationSent, latchkey.AuditEmailVerified, latchkey.AuditPasswordResetAsked, latchkey.AuditPasswordReset,
	latchkey.AuditEmailChangeRequested, latchkey.AuditEmailChanged, latchkey.AuditEmailChangeCancelled, latchkey.AuditEmailSignIn,
	latchkey.AuditPasskeyRegistered, latchkey.AuditPasskeyRenamed, latchkey.AuditPasskeyRemoved, latchkey.AuditPasskeySignIn,
	latchkey.AuditPasskeyFlagsChanged, latchkey.AuditPasskeyCloneSuspected,
	latchkey.AuditMFAChallenged, latchkey.AuditMFAVerified, latchkey.AuditMFAFailed, latchkey.AuditTOTPAdded, latchkey.AuditTOTPRemoved,
	latchkey.AuditRecoveryCodes, latchkey.AuditRecoveryUsed, latchkey.AuditMFAResetByAdmin,
	// The OpenID provider's (client.go).
	latchkey.AuditClientCreated, latchkey.AuditClientUpdated, latchkey.AuditClientDeleted, latchkey.AuditClientSecretRotated,
	latchkey.AuditProviderConsent, latchkey.AuditProviderConsentGone, latchkey.AuditProviderCodeIssued, latchkey.AuditProviderTokenIssued,
	latchkey.AuditProviderCodeReuse, latchkey.AuditProviderGrantRevoked, latchkey.AuditProviderClientAuthFailed,
	latchkey.AuditResourceCreated, latchkey.AuditResourceDeleted, latchkey.AuditAPIKeyAudiences,
}
