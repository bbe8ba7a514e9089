package auth

import (
	"slices"
	"strings"
	"testing"
)

func TestValidateRoles(t *testing.T) {
	many := make([]string, MaxRoles+1)
	for i := range many {
		many[i] = "r" + strings.Repeat("x", i)
	}
	cases := []struct {
		in   []string
		want []string // nil: refused
	}{
		{[]string{"user"}, []string{"user"}},
		{[]string{"admin", "user", "admin"}, []string{"admin", "user"}},
		{[]string{"billing:read", "a.b-c_d", "x9"}, []string{"billing:read", "a.b-c_d", "x9"}},
		{[]string{"a" + strings.Repeat("b", 63)}, []string{"a" + strings.Repeat("b", 63)}},
		{nil, nil},
		{[]string{}, nil},
		{[]string{"Admin"}, nil},
		{[]string{"9lives"}, nil},
		{[]string{""}, nil},
		{[]string{"a b"}, nil},
		{[]string{"user", "ädmin"}, nil},
		{[]string{"a" + strings.Repeat("b", 64)}, nil},
		{many, nil},
		{many[:MaxRoles], many[:MaxRoles]},
	}
	for _, c := range cases {
		got, err := ValidateRoles(c.in)
		if c.want == nil {
			if err == nil {
				t.Errorf("ValidateRoles(%q) accepted", c.in)
			}
			continue
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ValidateRoles(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func FuzzValidateRoles(f *testing.F) {
	for _, s := range []string{"user", "admin,user", "A", "a b", "x:y.z-_", "", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		roles, err := ValidateRoles(strings.Split(s, ","))
		if err != nil {
			return
		}
		if len(roles) == 0 || len(roles) > MaxRoles {
			t.Fatalf("accepted %d roles", len(roles))
		}
		for _, r := range roles {
			if len(r) > 64 || r[0] < 'a' || r[0] > 'z' || strings.ContainsAny(r, " \t\n\"'<>") {
				t.Fatalf("accepted role %q", r)
			}
		}
	})
}
