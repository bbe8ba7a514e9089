package jsoncheck

import (
	"strings"
	"testing"
)

// checkCorpus are documents where the two implementations could part:
// every refusal, the order in which refusals are found, escapes, Unicode
// case folding and big objects.
var checkCorpus = []string{
	``, ` `, `{}`, ` {} `, `{}x`, `{} {}`, `{}]`, `[`, `[]`, `"x"`, `"x`, `"\x"`, `123`, `123abc`, `-`, `-0`, `-01`, `01`,
	`1.`, `1.x`, `1e`, `1e+`, `1E5`, `true`, `truex`, `tru`, `nul`, `null`, `false`, `}`, `,`, `:`, "\xef\xbb\xbf{}",
	`{"a":1}`, `{"a":1,}`, `{,}`, `{"a" 1}`, `{"a":1 "b":2}`, `{1:2}`, `{"a"`, `{"a":`, `{"a":1`, `{"a":1,"A"`,
	`{"a":1,"a":2}`, `{"a":1,"A":2}`, `{"a":1,"\u0061":2}`, `{"k":1,"\u212a":2}`, `{"ſ":1,"s":2}`, `{"É":1,"é":2}`,
	`{"a\u0000":1}`, `{"a":"\u0000"}`, `{"a":["\u0000"]}`, `{"a":"\ud800"}`, `{"a":"x` + "\x01" + `"}`,
	`{"a":{"b":1,"B":2}}`, `{"a":[{"b":1},{"b":2}]}`, `{"a":{"b":1},"b":2}`, `{"a":[1,2,]}`, `{"a":[,]}`, `{"a":tru}`,
	`{"a":-}`, `{"a":01}`, `{"a":1.5e-3}`, `{"a":"é","b":"✓"}`, `{"a":[]}`, `{"a":{}}`, `{"a":[[]]}`,
	`{"a":` + strings.Repeat("[", 31) + strings.Repeat("]", 31) + `}`,
	`{"a":` + strings.Repeat("[", 32) + strings.Repeat("]", 32) + `}`,
	`{"a":` + strings.Repeat(`{"b":`, 31) + `1` + strings.Repeat("}", 31) + `}`,
	`{"a":` + strings.Repeat(`{"b":`, 30) + `1` + strings.Repeat("}", 30) + `}`,
	manyMembers(40, ""), manyMembers(40, `,"M7":1`), manyMembers(40, `,"m39":1`), manyMembers(40, `,"\u006d3":1`),
}

func manyMembers(n int, extra string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"m` + itoa(i) + `":1`)
	}
	b.WriteString(extra + "}")
	return b.String()
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func sameAnswer(t *testing.T, data []byte) {
	t.Helper()
	got, want := Check(data), checkWalk(data)
	if (got == nil) != (want == nil) || (got != nil && got.Error() != want.Error()) {
		t.Fatalf("Check(%q) = %v; the token walker says %v", data, got, want)
	}
}

func TestCheckAgreesWithTheTokenWalker(t *testing.T) {
	for _, doc := range checkCorpus {
		sameAnswer(t, []byte(doc))
	}
}

func FuzzCheckAgreesWithTheTokenWalker(f *testing.F) {
	for _, doc := range checkCorpus {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) { sameAnswer(t, data) })
}

func TestCheckAllocatesNothing(t *testing.T) {
	doc := []byte(`{"alg":"ES256","kid":"X129ZakObrsDLZX7_hp9-A","typ":"at+jwt","roles":["user","admin"],"n":{"x":1.5e3,"y":[true,false,null]}}`)
	if n := testing.AllocsPerRun(100, func() { _ = Check(doc) }); n != 0 {
		t.Fatalf("Check allocates %v times on a plain document", n)
	}
}

var benchDoc = []byte(`{"iss":"https://auth.example.com","sub":"01JB6W3Q8X","aud":"latchkey","exp":1893456000,"iat":1893455100,"nbf":1893455100,"jti":"aGVsbG8","sid":"01JB6W3Q8Y","roles":["user"]}`)

func BenchmarkCheck(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = Check(benchDoc)
	}
}

func BenchmarkCheckTokenWalker(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = checkWalk(benchDoc)
	}
}
