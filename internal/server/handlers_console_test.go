package server

import (
	"slices"
	"testing"
)

// After a password prompt the console goes back only to one of its own
// pages: nothing else, however it is spelled.
func TestConsoleReturn(t *testing.T) {
	for in, want := range map[string]string{
		"/admin":                                 "/admin",
		"/admin/users/u1/confirm?action=disable": "/admin/users/u1/confirm?action=disable",
		"/admin/audit?user=a%40b.example":        "/admin/audit?user=a%40b.example",
		"":                                       "",
		"/account":                               "",
		"/administrator":                         "",
		"//evil.example/admin":                   "",
		"https://evil.example/admin":             "",
		"http:/admin":                            "",
		"/admin\\@evil.example":                  "",
		"/\\evil.example/admin":                  "",
		"/admin/%0d%0aSet-Cookie:x":              "/admin/%0d%0aSet-Cookie:x",
		"/admin/\r\nSet-Cookie: x":               "",
		"javascript:alert(1)//admin":             "",
	} {
		if got := consoleReturn(in); got != want {
			t.Errorf("consoleReturn(%q) = %q, want %q", in, got, want)
		}
	}
}

// A cell a spreadsheet would take for a formula is turned into text.
func TestCSVCells(t *testing.T) {
	got := csvCells("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "plain", "", "a=b", "1.2.3.4")
	want := []string{"'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "plain", "", "a=b", "1.2.3.4"}
	if !slices.Equal(got, want) {
		t.Errorf("csvCells = %q, want %q", got, want)
	}
}
