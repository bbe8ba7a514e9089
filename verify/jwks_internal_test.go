package verify

import (
	"encoding/json"
	"testing"
)

// Keys we cannot use with exactly one accepted algorithm are ignored.
func TestParseJWKSFiltersKeys(t *testing.T) {
	ec := map[string]string{"kty": "EC", "crv": "P-256", "kid": "good",
		"x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0", "alg": "ES256", "use": "sig"}
	variant := func(edit map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range ec {
			m[k] = v
		}
		for k, v := range edit {
			m[k] = v
		}
		return m
	}
	doc := map[string]any{"keys": []map[string]string{
		ec,
		variant(map[string]string{"kid": "no-alg", "alg": ""}),
		variant(map[string]string{"kid": "hs", "alg": "HS256"}),
		variant(map[string]string{"kid": "es384", "alg": "ES384"}),
		variant(map[string]string{"kid": "enc", "use": "enc"}),
		variant(map[string]string{"kid": "wrong-kty", "alg": "EdDSA"}),
		variant(map[string]string{"kid": "off-curve", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a1"}),
		variant(map[string]string{"kid": "dup"}),
		variant(map[string]string{"kid": "dup"}),
		{"kty": "oct", "k": "c2VjcmV0", "kid": "oct", "alg": "HS256"},
		{"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "weak-rsa", "alg": "RS256"},
	}}
	data, _ := json.Marshal(doc)
	keys, err := parseJWKS(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys["good"].Alg != "ES256" {
		t.Fatalf("keys = %v, want only \"good\"", keys)
	}
	if _, err := parseJWKS([]byte(`{"keys":[]}`)); err == nil {
		t.Fatal("an empty JWKS was accepted")
	}
}
