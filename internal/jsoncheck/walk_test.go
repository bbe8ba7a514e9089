package jsoncheck

// The token walker Check used before the byte scanner: kept as the
// reference the differential fuzz test compares Check with.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// checkWalk validates the shape of data without binding it: one JSON object,
// valid UTF-8, no NUL in strings, no duplicate or case-variant member names
// at any level, at most MaxDepth deep, nothing after the object.
func checkWalk(data []byte) error {
	if !utf8.Valid(data) {
		return invalid("The request body is not valid UTF-8.")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return invalid("The request body is not valid JSON.")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return invalid("The request body must be a JSON object.")
	}
	if err := walkObject(dec, 1); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("The request body must hold exactly one JSON object.")
	}
	return nil
}

// walkObject reads the members of an object whose '{' was just read.
func walkObject(dec *json.Decoder, depth int) error {
	seen := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return invalid("The request body is not valid JSON.")
		}
		name, _ := tok.(string)
		if strings.ContainsRune(name, 0) {
			return invalid("A field name contains a NUL character.")
		}
		folded := strings.ToLower(name)
		if prev, dup := seen[folded]; dup {
			if prev == name {
				return invalid(fmt.Sprintf("The field %q appears more than once.", name))
			}
			return invalid(fmt.Sprintf("The fields %q and %q differ only in case.", prev, name))
		}
		seen[folded] = name
		if err := walkValue(dec, depth); err != nil {
			return err
		}
	}
	_, err := dec.Token() // the closing '}'
	if err != nil {
		return invalid("The request body is not valid JSON.")
	}
	return nil
}

func walkValue(dec *json.Decoder, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return invalid("The request body is not valid JSON.")
	}
	switch t := tok.(type) {
	case string:
		if strings.ContainsRune(t, 0) {
			return invalid("A string contains a NUL character.")
		}
	case json.Delim:
		if depth+1 > MaxDepth {
			return invalid("The request body is nested too deeply.")
		}
		if t == '{' {
			return walkObject(dec, depth+1)
		}
		for dec.More() {
			if err := walkValue(dec, depth+1); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return invalid("The request body is not valid JSON.")
		}
	}
	return nil
}
