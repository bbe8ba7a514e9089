package verify

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// API keys are "lk_" followed by 49 base62 characters.
const (
	apiKeyPrefix  = "lk_"
	apiKeyBodyLen = 49
)

// maxIntrospectionBytes bounds the introspection answer we read.
const maxIntrospectionBytes = 64 << 10

// apiKeyEntry is a cached introspection answer; id is nil for an inactive key.
type apiKeyEntry struct {
	id *Identity
}

// validAPIKeyFormat reports whether key has the shape of a latchkey API key,
// so that garbage never reaches the issuer.
func validAPIKeyFormat(key string) bool {
	if len(key) != len(apiKeyPrefix)+apiKeyBodyLen || !strings.HasPrefix(key, apiKeyPrefix) {
		return false
	}
	for i := len(apiKeyPrefix); i < len(key); i++ {
		c := key[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// introspection is the part of an RFC 7662 answer we use.
type introspection struct {
	Active    bool     `json:"active"`
	Sub       string   `json:"sub"`
	Exp       int64    `json:"exp"`
	Scope     string   `json:"scope"`
	TokenType string   `json:"token_type"`
	Roles     []string `json:"roles"`
	APIKeyID  string   `json:"api_key_id"`
	// Aud, for a key bound to services, lists them: any other refuses it.
	Aud []string `json:"aud"`
}

// verifyAPIKey asks the issuer about key, reusing an answer (positive or
// negative) for APIKeyCacheTTL. The cache is keyed by the key's SHA-256 so
// that plaintext keys do not sit in memory longer than a request.
func (v *Verifier) verifyAPIKey(ctx context.Context, key string) (*Identity, error) {
	if v.cfg.IntrospectionKey == "" {
		return nil, refuse(ErrInvalidAPIKey, "API keys are not accepted: no introspection key configured", nil)
	}
	if !validAPIKeyFormat(key) {
		return nil, refuse(ErrInvalidAPIKey, "malformed API key", nil)
	}
	now := v.cfg.Clock()
	sum := sha256.Sum256([]byte(key))
	if v.apiKeys != nil {
		if e, ok := v.apiKeys.get(sum, now); ok {
			return entryIdentity(e)
		}
	}
	ans, err := v.introspect(ctx, key)
	if err != nil {
		v.cfg.Logger.WarnContext(ctx, "latchkey verify: introspection failed", "url", v.cfg.IntrospectionURL, "err", err)
		return nil, refuse(ErrUnavailable, "introspection", err)
	}
	var e apiKeyEntry
	until := now.Add(v.cfg.APIKeyCacheTTL)
	forUs := len(ans.Aud) == 0 || slices.Contains(ans.Aud, v.cfg.Audience)
	if ans.Active && ans.TokenType == "api_key" && ans.Sub != "" && forUs && (ans.Exp == 0 || now.Before(time.Unix(ans.Exp, 0))) {
		e.id = &Identity{
			Kind:     KindAPIKey,
			UserID:   ans.Sub,
			APIKeyID: ans.APIKeyID,
			Roles:    ans.Roles,
			Scopes:   strings.Fields(ans.Scope),
		}
		if ans.Exp != 0 {
			e.id.ExpiresAt = time.Unix(ans.Exp, 0)
			until = minTime(until, e.id.ExpiresAt)
		}
	}
	if v.apiKeys != nil {
		v.apiKeys.put(sum, e, until)
	}
	return entryIdentity(e)
}

func entryIdentity(e apiKeyEntry) (*Identity, error) {
	if e.id == nil {
		return nil, refuse(ErrInvalidAPIKey, "inactive API key", nil)
	}
	id := *e.id
	return &id, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// introspect performs one RFC 7662 request, authenticated with this
// service's own API key. The key being checked travels only in the body.
func (v *Verifier) introspect(ctx context.Context, key string) (*introspection, error) {
	body := url.Values{"token": {key}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.cfg.IntrospectionURL, strings.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("introspection request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-API-Key", v.cfg.IntrospectionKey)
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		// The URL error never contains the key: it is in the body.
		return nil, fmt.Errorf("introspect: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("introspect: status %d", resp.StatusCode)
	}
	var ans introspection
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxIntrospectionBytes)).Decode(&ans); err != nil {
		return nil, fmt.Errorf("decode introspection: %w", err)
	}
	return &ans, nil
}
