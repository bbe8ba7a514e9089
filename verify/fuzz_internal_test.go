package verify

import (
	"encoding/json"
	"slices"
	"testing"
)

// FuzzEachMember checks the strict reader against encoding/json: whatever
// it accepts, encoding/json reads as the same members with the same values.
func FuzzEachMember(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1}`, `{"a":1,"A":2}`, `{"a":1,"a":2}`, `{"\u0061":1,"a":2}`, ` { "a" : [1,{"b":"}"}] , "c":null } `,
		`{"a":"\"","b":{"c":[]}}`, `[1]`, `"x"`, `{"a":1}{}`, `{"k":1,"\u212a":2}`, `{"sub":"a","roles":["x","y"]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got := map[string]string{}
		var names []string
		err := eachMember(data, func(name, value []byte) error {
			names = append(names, string(name))
			got[string(name)] = string(value)
			return nil
		})
		if err != nil {
			return
		}
		var want map[string]json.RawMessage
		if err := json.Unmarshal(data, &want); err != nil || want == nil {
			t.Fatalf("accepted %q, which encoding/json reads as no object (%v)", data, err)
		}
		if len(want) != len(names) {
			t.Fatalf("%q: %d members, encoding/json sees %d", data, len(names), len(want))
		}
		for name, raw := range want {
			if got[name] != string(raw) {
				t.Fatalf("%q: member %q = %q, encoding/json reads %q", data, name, got[name], raw)
			}
		}
	})
}

// FuzzClaims checks that the strict claims reader agrees with encoding/json
// on every claim it accepts.
func FuzzClaims(f *testing.F) {
	for _, s := range []string{
		`{"iss":"http://127.0.0.1:8080","sub":"u","aud":"latchkey","exp":1800000900,"iat":1800000000,"nbf":1800000000,"jti":"j","sid":"s","roles":["user"],"scope":"a b"}`,
		`{"aud":["a","b"],"roles":[]}`, `{"exp":1.5}`, `{"exp":-1}`, `{"exp":1e20}`, `{"exp":null}`, `{"sub":1}`,
		`{"sub":"a","SUB":"b"}`, `{"Sub":"b"}`, `{"roles":["a",1]}`, `{"aud":[]}`, `{"x":{"sub":"nested"}}`,
		`{"auth_time":1800000000}`, `{"auth_time":"1"}`, `{"auth_time":-1}`, `{"AUTH_TIME":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		var c accessClaims
		if err := json.Unmarshal(data, &c); err != nil {
			return
		}
		var want struct {
			Iss      string   `json:"iss"`
			Sub      string   `json:"sub"`
			Sid      string   `json:"sid"`
			Scope    string   `json:"scope"`
			Roles    []string `json:"roles"`
			Exp      *int64   `json:"exp"`
			AuthTime *int64   `json:"auth_time"`
		}
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", data, err)
		}
		if want.Iss != c.Issuer || want.Sub != c.Subject || want.Sid != c.SessionID || want.Scope != c.Scope ||
			!slices.Equal(want.Roles, c.Roles) {
			t.Fatalf("%q: read %+v, encoding/json reads %+v", data, c, want)
		}
		if (want.Exp == nil) != (c.ExpiresAt == nil) || (want.Exp != nil && *want.Exp != c.ExpiresAt.Unix()) {
			t.Fatalf("%q: exp disagrees", data)
		}
		if (want.AuthTime == nil) != (c.AuthTime == nil) || (want.AuthTime != nil && *want.AuthTime != c.AuthTime.Unix()) {
			t.Fatalf("%q: auth_time disagrees", data)
		}
	})
}
