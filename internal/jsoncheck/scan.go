package jsoncheck

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Check validates the shape of data without binding it: one JSON object,
// valid UTF-8, no NUL in strings, no duplicate or case-variant member names
// at any level, at most MaxDepth deep, nothing after the object.
//
// It is a single pass over the bytes that allocates nothing for ordinary
// documents (only a refusal's message, a name that needs unescaping or
// Unicode case folding, or an object of many members costs memory). Its
// answers, messages included, are those of encoding/json's token stream;
// a differential fuzz test holds it to that.
func Check(data []byte) error {
	return check(data, nil)
}

// Members is Check that also calls fn, in document order, with the name
// and the raw value of every top-level member, as soon as that member has
// been read. name is the member's decoded name; neither slice may be kept
// after fn returns. A document is refused if fn returns an error (that
// error, unchanged) or if Check would refuse it, whichever comes first;
// so fn may see members of a document that is refused later.
func Members(data []byte, fn func(name, value []byte) error) error {
	return check(data, fn)
}

func check(data []byte, each func(name, value []byte) error) error {
	if !utf8.Valid(data) {
		return invalid("The request body is not valid UTF-8.")
	}
	s := scanner{data: data}
	s.space()
	if s.eof() {
		return errNotJSON()
	}
	if s.data[s.pos] != '{' {
		return s.topLevelScalar()
	}
	s.pos++
	if err := s.object(1, each); err != nil {
		return err
	}
	s.space()
	if !s.eof() {
		return invalid("The request body must hold exactly one JSON object.")
	}
	return nil
}

func errNotJSON() error { return invalid("The request body is not valid JSON.") }

type scanner struct {
	data []byte
	pos  int
	// A stack of the member names of the objects being read: n of them,
	// the first in inline (which keeps small documents off the heap), the
	// rest in more.
	n      int
	inline [24]member
	more   []member
}

func (s *scanner) push(m member) {
	if s.n < len(s.inline) {
		s.inline[s.n] = m
	} else {
		s.more = append(s.more[:s.n-len(s.inline)], m)
	}
	s.n++
}

func (s *scanner) at(i int) member {
	if i < len(s.inline) {
		return s.inline[i]
	}
	return s.more[i-len(s.inline)]
}

// member is a name as offsets into data (the quotes excluded). folded is
// set only when the name needed unescaping or is not plain ASCII, and then
// holds strings.ToLower of its value.
type member struct {
	start, end int
	folded     string
	plain      bool
}

func (s *scanner) eof() bool { return s.pos >= len(s.data) }

func (s *scanner) space() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// topLevelScalar answers a document that does not start with '{' as the
// token stream does: a value that starts well (an array's '[', a complete
// string, number or literal; whatever follows is not looked at) is "not an
// object", anything else is "not JSON".
func (s *scanner) topLevelScalar() error {
	if s.data[s.pos] != '[' {
		if _, err := s.scalar(); err != nil {
			return err
		}
	}
	return invalid("The request body must be a JSON object.")
}

// scalar reads the string, number or literal at pos, and reports whether
// it is a string that holds a NUL.
func (s *scanner) scalar() (nul bool, err error) {
	switch c := s.data[s.pos]; {
	case c == '"':
		m, err := s.str()
		return m.nul, err
	case c == '-' || ('0' <= c && c <= '9'):
		if s.number() {
			return false, nil
		}
	case c == 't' || c == 'f' || c == 'n':
		if s.literal() {
			return false, nil
		}
	}
	return false, errNotJSON()
}

// object reads the members of an object whose '{' was just read, and hands
// each member to each when that is not nil (only the top level has one; a
// parameter rather than a field so that escape analysis keeps the caller's
// closure off the heap).
func (s *scanner) object(depth int, each func(name, value []byte) error) error {
	base := s.n
	defer func() { s.n = base }()
	var index map[string]int // folded name → position in names, for big objects
	s.space()
	if !s.eof() && s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	for {
		s.space()
		if s.eof() || s.data[s.pos] != '"' {
			return errNotJSON()
		}
		m, err := s.str()
		if err != nil {
			return err
		}
		if m.nul {
			return invalid("A field name contains a NUL character.")
		}
		name := member{start: m.start, end: m.end, plain: m.plain}
		if !m.plain {
			name.folded = strings.ToLower(s.value(m))
		}
		if err := s.checkDuplicate(base, name, &index); err != nil {
			return err
		}
		s.push(name)
		s.space()
		if s.eof() || s.data[s.pos] != ':' {
			return errNotJSON()
		}
		s.pos++
		s.space()
		start := s.pos
		if err := s.value1(depth); err != nil {
			return err
		}
		if each != nil {
			if err := each(s.nameBytes(name), s.data[start:s.pos]); err != nil {
				return err
			}
		}
		if done, err := s.after('}'); err != nil || done {
			return err
		}
	}
}

// indexFrom is the member count past which an object's names are looked
// up in a map instead of compared one by one (which would be quadratic).
const indexFrom = 16

func (s *scanner) checkDuplicate(base int, name member, index *map[string]int) error {
	count := s.n - base
	if count < indexFrom {
		for i := base; i < s.n; i++ {
			if prev := s.at(i); s.sameFolded(prev, name) {
				return s.duplicate(prev, name)
			}
		}
		return nil
	}
	if *index == nil {
		*index = make(map[string]int, 2*indexFrom)
		for i := base; i < s.n; i++ {
			(*index)[s.foldedOf(s.at(i))] = i
		}
	}
	key := s.foldedOf(name)
	if i, dup := (*index)[key]; dup {
		return s.duplicate(s.at(i), name)
	}
	(*index)[key] = s.n
	return nil
}

func (s *scanner) foldedOf(m member) string {
	if m.plain {
		return strings.ToLower(string(s.data[m.start:m.end]))
	}
	return m.folded
}

// sameFolded reports strings.ToLower(a) == strings.ToLower(b) of the
// names' values, without allocating when both are plain ASCII.
func (s *scanner) sameFolded(a, b member) bool {
	if a.plain && b.plain {
		x, y := s.data[a.start:a.end], s.data[b.start:b.end]
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if lowerASCII(x[i]) != lowerASCII(y[i]) {
				return false
			}
		}
		return true
	}
	return s.foldedOf(a) == s.foldedOf(b)
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func (s *scanner) duplicate(prev, name member) error {
	p, n := s.nameValue(prev), s.nameValue(name)
	if p == n {
		return invalid(fmt.Sprintf("The field %q appears more than once.", n))
	}
	return invalid(fmt.Sprintf("The fields %q and %q differ only in case.", p, n))
}

// nameBytes is a member's decoded name, without allocating for a plain one.
func (s *scanner) nameBytes(m member) []byte {
	if m.plain {
		return s.data[m.start:m.end]
	}
	return []byte(s.nameValue(m))
}

func (s *scanner) nameValue(m member) string {
	return s.value(stringSpan{start: m.start, end: m.end, plain: m.plain})
}

// value1 reads one value of a member or element at depth.
func (s *scanner) value1(depth int) error {
	s.space()
	if s.eof() {
		return errNotJSON()
	}
	if c := s.data[s.pos]; c == '{' || c == '[' {
		if depth+1 > MaxDepth {
			return invalid("The request body is nested too deeply.")
		}
		s.pos++
		if c == '{' {
			return s.object(depth+1, nil)
		}
		return s.array(depth + 1)
	}
	nul, err := s.scalar()
	if err == nil && nul {
		return invalid("A string contains a NUL character.")
	}
	return err
}

// after reads what follows a member or an element: a ',' (more follow) or
// closing, which ends the object or array.
func (s *scanner) after(closing byte) (done bool, err error) {
	s.space()
	if s.eof() {
		return false, errNotJSON()
	}
	switch s.data[s.pos] {
	case ',':
		s.pos++
		return false, nil
	case closing:
		s.pos++
		return true, nil
	}
	return false, errNotJSON()
}

// array reads the elements of an array whose '[' was just read.
func (s *scanner) array(depth int) error {
	s.space()
	if !s.eof() && s.data[s.pos] == ']' {
		s.pos++
		return nil
	}
	for {
		if err := s.value1(depth); err != nil {
			return err
		}
		if done, err := s.after(']'); err != nil || done {
			return err
		}
	}
}

// stringSpan is a string just read: its contents' offsets, whether they
// are their own value (no escapes, ASCII only), and whether the value
// holds a NUL (only \u0000 can put one there: a raw control byte is
// invalid JSON).
type stringSpan struct {
	start, end int
	plain, nul bool
}

// str reads a string whose opening quote is at pos.
func (s *scanner) str() (stringSpan, error) {
	s.pos++
	sp := stringSpan{start: s.pos, plain: true}
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			sp.end = s.pos
			s.pos++
			return sp, nil
		case c < 0x20:
			return sp, errNotJSON()
		case c >= 0x80:
			sp.plain = false
			s.pos++
		case c == '\\':
			sp.plain = false
			if s.pos+1 >= len(s.data) {
				return sp, errNotJSON()
			}
			switch s.data[s.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.pos += 2
			case 'u':
				if s.pos+6 > len(s.data) {
					return sp, errNotJSON()
				}
				hex := s.data[s.pos+2 : s.pos+6]
				for _, h := range hex {
					if !isHex(h) {
						return sp, errNotJSON()
					}
				}
				if string(hex) == "0000" {
					sp.nul = true
				}
				s.pos += 6
			default:
				return sp, errNotJSON()
			}
		default:
			s.pos++
		}
	}
	return sp, errNotJSON()
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// value returns the string's value (allocating; for names that need it
// and for messages).
func (s *scanner) value(sp stringSpan) string {
	raw := s.data[sp.start:sp.end]
	if sp.plain {
		return string(raw)
	}
	quoted := s.data[sp.start-1 : sp.end+1]
	var v string
	if err := json.Unmarshal(quoted, &v); err != nil {
		return string(raw) // cannot happen: str accepted it
	}
	return v
}

// number reads a JSON number at pos: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
// It stops at the first byte that cannot continue the number.
func (s *scanner) number() bool {
	d := s.data
	i := s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	default:
		return false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || !isDigit(d[i]) {
			return false
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || !isDigit(d[i]) {
			return false
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	s.pos = i
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// literal reads true, false or null at pos.
func (s *scanner) literal() bool {
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(s.data)-s.pos >= len(lit) && string(s.data[s.pos:s.pos+len(lit)]) == lit {
			s.pos += len(lit)
			return true
		}
	}
	return false
}
