package sqlstore

// The columns of each table, the same in every store, in the order in
// which the stores write and scan them.
const (
	UserCols             = `id, email, name, roles, disabled, password_hash, email_verified_at, created_at, updated_at`
	SessionCols          = `id, user_id, created_at, last_used_at, expires_at, revoked_at, auth_time, ip, user_agent, cookie_hash, amr`
	RefreshCols          = `hash, session_id, user_id, created_at, expires_at, used_at, sealed_successor`
	APIKeyCols           = `id, user_id, name, prefix, hash, scopes, created_at, expires_at, last_used_at, revoked_at, audiences`
	IdentityCols         = `id, user_id, provider, subject, email, created_at`
	CodeCols             = `hash, user_id, provider, created_at, expires_at`
	SigningKeyCols       = `id, algorithm, state, public_key, sealed_private, created_at, activated_at, retired_at`
	AuditCols            = `id, occurred_at, type, user_id, session_id, api_key_id, ip, user_agent, outcome, reason`
	EmailTokenCols       = `id, user_id, purpose, email, link_hash, code_hash, attempts, created_at, expires_at, consumed_at`
	TOTPCols             = `id, user_id, name, sealed_secret, created_at, expires_at, confirmed_at, last_step, last_used_at`
	ChallengeCols        = `id, hash, user_id, amr, audit_type, attempts, created_at, expires_at, consumed_at`
	OutboxCols           = `id, kind, recipient, subject, text_body, html_body, created_at, attempts, next_attempt_at, lease_until, sent_at, failed_at, last_error`
	PasskeyCols          = `id, user_id, credential_id, public_key, aaguid, sign_count, transports, backup_eligible, backed_up, attestation_type, name, created_at, last_used_at`
	PasskeyChallengeCols = `hash, purpose, user_id, session_id, name, created_at, expires_at`
)
