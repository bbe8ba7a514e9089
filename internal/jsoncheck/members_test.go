package jsoncheck

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestMembers(t *testing.T) {
	var got []string
	err := Members([]byte(` { "a" : [1,{"b":"}"}] , "\u0063":null,"d":"x" } `), func(name, value []byte) error {
		got = append(got, string(name)+"="+string(value))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := `a=[1,{"b":"}"}] c=null d="x"`; strings.Join(got, " ") != want {
		t.Fatalf("members %q, want %q", strings.Join(got, " "), want)
	}
	stop := errors.New("stop")
	if err := Members([]byte(`{"a":1,"b":2}`), func(name, _ []byte) error {
		if string(name) == "b" {
			return stop
		}
		return nil
	}); err != stop {
		t.Fatalf("the callback's error came back as %v", err)
	}
	for _, bad := range []string{`{"a":1,"A":2}`, `{"a":{"b":1,"b":2}}`, `[]`, `{"a":1}x`, "{\"\xca\":{}}"} {
		if err := Members([]byte(bad), func(_, _ []byte) error { return nil }); err == nil {
			t.Errorf("Members accepted %q", bad)
		}
	}
}

func TestMembersAllocatesNothing(t *testing.T) {
	n := testing.AllocsPerRun(100, func() {
		_ = Members(benchDoc, func(_, _ []byte) error { return nil })
	})
	if n != 0 {
		t.Fatalf("Members allocates %v times on a plain document", n)
	}
}

// FuzzMembers holds Members to encoding/json: whatever it accepts,
// encoding/json reads as the same members with the same raw values.
func FuzzMembers(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1}`, `{"a":1,"A":2}`, `{"a":1,"a":2}`, `{"\u0061":1,"a":2}`, ` { "a" : [1,{"b":"}"}] , "c":null } `,
		`{"a":"\"","b":{"c":[]}}`, `[1]`, `"x"`, `{"a":1}{}`, `{"k":1,"\u212a":2}`, `{"sub":"a","roles":["x","y"]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got := map[string]string{}
		var names []string
		err := Members(data, func(name, value []byte) error {
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
