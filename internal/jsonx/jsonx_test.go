package jsonx

import (
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/jsoncheck"
)

type login struct {
	Email    string   `json:"email"`
	Password string   `json:"password"`
	Scopes   []string `json:"scopes"`
	TTL      int      `json:"ttl"`
}

func TestDecodeRefusesHostileDocuments(t *testing.T) {
	cases := map[string]string{
		"empty":               ``,
		"truncated":           `{"email":"a@x"`,
		"trailing garbage":    `{"email":"a@x"}x`,
		"two objects":         `{"email":"a@x"}{"email":"b@x"}`,
		"array":               `[{"email":"a@x"}]`,
		"string":              `"x"`,
		"null":                `null`,
		"duplicate":           `{"email":"b@x","email":"a@x"}`,
		"case variant":        `{"email":"b@x","EMAIL":"a@x"}`,
		"case variant alone":  `{"EMAIL":"a@x","Email":"b@x"}`,
		"lone case variant":   `{"Email":"a@x","password":"p"}`,
		"lone upper case":     `{"PASSWORD":"p"}`,
		"nested duplicate":    `{"scopes":[{"a":1,"A":2}]}`,
		"unknown field":       `{"email":"a@x","isAdmin":true}`,
		"password number":     `{"password":12345678}`,
		"password array":      `{"password":["x"]}`,
		"password object":     `{"password":{}}`,
		"password bool":       `{"password":true}`,
		"email array":         `{"email":["a@x"]}`,
		"NUL in string":       `{"email":"a\u0000@x"}`,
		"NUL in name":         `{"em\u0000ail":"a@x"}`,
		"invalid utf8":        "{\"email\":\"\xff\xfe\"}",
		"BOM":                 "\xef\xbb\xbf{\"email\":\"a@x\"}",
		"huge exponent":       `{"ttl":1e999}`,
		"NaN":                 `{"ttl":NaN}`,
		"deep nesting":        `{"scopes":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`,
		"single quotes":       `{'email':'a@x'}`,
		"comment":             `{"email":"a@x" /* hi */}`,
		"float for int field": `{"ttl":1.5}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			var v login
			err := Decode([]byte(body), &v)
			if err == nil {
				t.Fatalf("Decode(%.40q) accepted, got %+v", body, v)
			}
			if code := latchkey.ErrorCode(err); code != latchkey.EInvalidRequest {
				t.Fatalf("code = %q, want invalid_request (err %v)", code, err)
			}
			if msg := latchkey.ErrorMessage(err); msg == "" || strings.Contains(msg, "json:") {
				t.Fatalf("message %q is not a client message", msg)
			}
		})
	}
}

func TestDecodeAcceptsWellFormed(t *testing.T) {
	var v login
	err := Decode([]byte(` {"email":"a@x","password":"pässwörd ✓","scopes":["a","b"],"ttl":60} `), &v)
	if err != nil {
		t.Fatal(err)
	}
	if v.Email != "a@x" || v.Password != "pässwörd ✓" || len(v.Scopes) != 2 || v.TTL != 60 {
		t.Fatalf("got %+v", v)
	}
}

func TestDecodeNamesTheField(t *testing.T) {
	var v login
	err := Decode([]byte(`{"password":123}`), &v)
	if msg := latchkey.ErrorMessage(err); !strings.Contains(msg, `"password"`) || !strings.Contains(msg, "a string") {
		t.Fatalf("message = %q", msg)
	}
	err = Decode([]byte(`{"role":"admin"}`), &v)
	if msg := latchkey.ErrorMessage(err); !strings.Contains(msg, `"role"`) {
		t.Fatalf("message = %q", msg)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"email":"a@x","password":"p"}`, `{"a":{"b":[1,2,{"c":null}]}}`, `{"email":"a","EMAIL":"b"}`, `{`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v map[string]any
		err := Decode(data, &v)
		if err != nil && latchkey.ErrorCode(err) != latchkey.EInvalidRequest {
			t.Fatalf("unexpected code for %q: %v", data, err)
		}
		if err == nil && jsoncheck.Check(data) != nil {
			t.Fatalf("Decode accepted what Check refuses: %q", data)
		}
	})
}
