package password

import (
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

func TestBlocklistBundled(t *testing.T) {
	b := LoadBlocklist()
	if n := b.Len(); n < 10000 {
		t.Fatalf("bundled blocklist has %d entries, want at least 10,000", n)
	}
	for _, pw := range []string{"password", "PASSWORD", "12345678", "qwertyuiop", "qwertyuiopasdfgh", "iloveyou", " Password1 "} {
		if !b.Contains(pw) {
			t.Errorf("%q is not on the bundled list", pw)
		}
	}
	for _, pw := range []string{"correct horse battery staple", "", "vq7#Lz!pR2mW"} {
		if b.Contains(pw) {
			t.Errorf("%q is on the bundled list", pw)
		}
	}
	// The embedded file is already in the form lookups use: folded, unique.
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(commonPasswords, "\n"), "\n") {
		if line == "" || line != fold(line) || seen[line] {
			t.Fatalf("embedded list entry %q is empty, unfolded or repeated", line)
		}
		seen[line] = true
	}
	var nilList *Blocklist
	if nilList.Contains("password") || nilList.Len() != 0 {
		t.Error("a nil Blocklist is not empty")
	}
}

func TestPolicyCheck(t *testing.T) {
	p := DefaultPolicy()
	const email = "Jane.Doe@Example.com"
	tests := []struct {
		name, password string
		code           string // "" for accepted
		reason         string // part of the message
	}{
		// PW-04: no composition rules.
		{"passphrase", "correct horse battery staple", "", ""},
		{"all digits", "73920418", "", ""},
		{"lower-case letters", "qzmvtrwplk", "", ""},
		{"exactly 8", "vq7#Lz!p", "", ""},
		{"64 characters", strings.Repeat("abcdefghij", 6) + "klmn", "", ""},
		{"1024 bytes", strings.Repeat("the quick brown fox ", 51) + "jump", "", ""},
		{"15 CJK code points", "安全的密码短语很难猜到的吧对吧", "", ""},
		{"8 emoji", "🔑🐉🌋🎻🧊🦉🚲🍄", "", ""},

		// Length, in code points after normalisation (PW-01, PW-07).
		{"7 characters", "vq7#Lz!", latchkey.EWeakPassword, "at least 8 characters"},
		{"7 accented, 14 decomposed code points", "e\u0301e\u0301e\u0301e\u0301e\u0301e\u0301e\u0301", latchkey.EWeakPassword, "at least 8"},
		{"empty", "", latchkey.EWeakPassword, "at least 8"},
		{"1025 bytes", strings.Repeat("a", 1025), latchkey.EInvalidRequest, "1024 bytes"},
		{"NUL", "ab\x00cdefghij", latchkey.EInvalidRequest, "control"},

		// Blocklist, case-insensitive (PW-05).
		{"listed", "password", latchkey.EWeakPassword, "commonly used"},
		{"listed, other case", "PassWord", latchkey.EWeakPassword, "commonly used"},
		{"listed, spaces around", " iloveyou ", latchkey.EWeakPassword, "commonly used"},
		{"listed 16 characters", "qwertyuiopasdfgh", latchkey.EWeakPassword, "commonly used"},
		{"listed, fullwidth", "ｐａｓｓｗｏｒｄ", latchkey.EWeakPassword, "commonly used"},
		{"listed + listed digits", "password12345678", latchkey.EWeakPassword, "digits or symbols"},
		{"listed + year and !", "Dragon2024!", latchkey.EWeakPassword, "digits or symbols"},
		{"listed + repeated digit", "monkey99999999", latchkey.EWeakPassword, "digits or symbols"},

		// Context words.
		{"the email", "jane.doe@example.com", latchkey.EWeakPassword, "email"},
		{"the email, other case", email, latchkey.EWeakPassword, "email"},
		{"local part repeated", "jane.doejane.doe", latchkey.EWeakPassword, "email"},
		{"local part + digits", "jane.doe1990", latchkey.EWeakPassword, "email"},
		{"local part joined", "janedoe2", latchkey.EWeakPassword, "email"},
		{"a piece repeated", "doedoedoe", latchkey.EWeakPassword, "email"},
		{"service name", "LatchKey", latchkey.EWeakPassword, "name of this service"},
		{"service name repeated + 1", "latchkeylatchkey1", latchkey.EWeakPassword, "name of this service"},

		// Repetition.
		{"latch repeated + 1", "latchlatchlatch1", latchkey.EWeakPassword, "repeats"},
		{"abc repeated", "abcabcabcabc", latchkey.EWeakPassword, "repeats"},
		{"one emoji", strings.Repeat("🔑", 9), latchkey.EWeakPassword, "repeats"},
		{"long unit repeated twice", "dragonflies at dusk dragonflies at dusk", "", ""},

		// Not context: a longer password that merely contains a word.
		{"contains the local part", "jane.doe likes quiet mornings", "", ""},
	}
	for _, tt := range tests {
		err := p.Check(tt.password, email)
		if got := codeOf(err); got != tt.code {
			t.Errorf("%s: code %q (%v), want %q", tt.name, got, err, tt.code)
			continue
		}
		if err != nil && !strings.Contains(latchkey.ErrorMessage(err), tt.reason) {
			t.Errorf("%s: message %q does not say %q", tt.name, latchkey.ErrorMessage(err), tt.reason)
		}
	}
}

// No refusal repeats the password (LOG-01): errors reach logs.
func TestPolicyErrorsDoNotRevealPassword(t *testing.T) {
	p := DefaultPolicy()
	for _, pw := range []string{"Canary7", "canary7canary7", "canary7@example.com", "Password2024!", "ab\x00Canary7xyz"} {
		err := p.Check(pw, "canary7@example.com")
		if err == nil {
			t.Fatalf("%q accepted", pw)
		}
		if strings.Contains(strings.ToLower(err.Error()), "canary7") || strings.Contains(err.Error(), "2024") {
			t.Errorf("error %q reveals the password", err)
		}
	}
}

func TestPolicyMinLength(t *testing.T) {
	p := Policy{MinLength: 15}
	if err := p.Check("fourteen chars"); !latchkey.IsCode(err, latchkey.EWeakPassword) ||
		latchkey.ErrorMessage(err) != "The password must be at least 15 characters long." {
		t.Errorf("14 characters: %v", err)
	}
	if err := p.Check("fifteen chars!!"); err != nil {
		t.Errorf("15 characters: %v", err)
	}
	if err := (Policy{}).Check("vq7#Lz!"); latchkey.ErrorMessage(err) != "The password must be at least 8 characters long." {
		t.Errorf("zero Policy: %v", err)
	}
	// Without a blocklist, only length and context apply.
	if err := (Policy{}).Check("password"); err != nil {
		t.Errorf("no blocklist: %v", err)
	}
}

func TestPolicyIgnoresEmptyContext(t *testing.T) {
	if err := DefaultPolicy().Check("vq7#Lz!pR2mW", "", "   ", "@"); err != nil {
		t.Errorf("empty context words: %v", err)
	}
}

func codeOf(err error) string {
	if err == nil {
		return ""
	}
	return latchkey.ErrorCode(err)
}
