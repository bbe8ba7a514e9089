package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

var (
	errNotObject   = errors.New("not a single JSON object")
	errDuplicate   = errors.New("duplicate or case-variant member")
	errCaseVariant = errors.New("case variant of a registered member name")
)

// eachMember calls fn with the decoded name and raw value of every top-level
// member of the JSON object in data. It refuses anything but one valid JSON
// object, and any member name equal to an earlier one up to Unicode case
// folding: parsers disagree about duplicates ("last wins", "first wins") and
// encoding/json matches names case-insensitively, so either would let two
// readers of the same token see different claims.
func eachMember(data []byte, fn func(name, value []byte) error) error {
	if !json.Valid(data) {
		return errNotObject
	}
	return eachValidMember(data, fn)
}

// eachValidMember is eachMember for data already known to be valid JSON.
func eachValidMember(data []byte, fn func(name, value []byte) error) error {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return errNotObject
	}
	var seenBuf [16][]byte
	seen := seenBuf[:0]
	i++
	for {
		i = skipSpace(data, i)
		if data[i] == '}' {
			return nil
		}
		if data[i] == ',' {
			i = skipSpace(data, i+1)
		}
		end := skipString(data, i)
		name := data[i+1 : end-1]
		if bytes.IndexByte(name, '\\') >= 0 || !utf8.Valid(name) {
			// An escaped name ("\u0061lg") is compared in decoded form, and
			// so is invalid UTF-8, which encoding/json reads as U+FFFD.
			var s string
			if err := json.Unmarshal(data[i:end], &s); err != nil {
				return errNotObject
			}
			name = []byte(s)
		}
		for _, prev := range seen {
			if bytes.EqualFold(prev, name) {
				return errDuplicate
			}
		}
		seen = append(seen, name)
		i = skipSpace(data, end)
		i = skipSpace(data, i+1) // the ':'
		vend := skipValue(data, i)
		if err := fn(name, data[i:vend]); err != nil {
			return err
		}
		i = skipSpace(data, vend)
	}
}

// The helpers below assume data has passed json.Valid.

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at data[i].
func skipString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// skipValue returns the index just past the value starting at data[i].
func skipValue(data []byte, i int) int {
	depth := 0
	for i < len(data) {
		switch c := data[i]; c {
		case '"':
			i = skipString(data, i)
			if depth == 0 {
				return i
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i
			}
		}
		i++
	}
	return i
}

// jsonString returns the value of a JSON string, or ok=false when value is
// not a string.
func jsonString(value []byte) (string, bool) {
	if len(value) < 2 || value[0] != '"' {
		return "", false
	}
	inner := value[1 : len(value)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), true
	}
	var s string
	if err := json.Unmarshal(value, &s); err != nil {
		return "", false
	}
	return s, true
}
