package provider

import "testing"

func TestACRMet(t *testing.T) {
	for _, c := range []struct {
		values []string
		acr    string
		want   bool
	}{
		{nil, "aal1", true},
		{[]string{"aal2"}, "aal1", false},
		{[]string{"aal2"}, "aal2", true},
		{[]string{"aal1"}, "aal1", true},
		{[]string{"aal2", "aal1"}, "aal1", true},
		{[]string{"urn:example:loa:3"}, "aal1", true}, // unknown: asks nothing
		{[]string{"urn:example:loa:3", "aal2"}, "aal1", false},
		{[]string{"aal2"}, "", false},
	} {
		if got := acrMet(c.values, c.acr); got != c.want {
			t.Errorf("acrMet(%v, %q) = %v, want %v", c.values, c.acr, got, c.want)
		}
	}
}
