// Package jsonx decodes untrusted JSON strictly.
//
// Go's encoding/json accepts duplicate members (the last wins), binds
// case-variant members ("EMAIL" to a field tagged "email"), and silently
// replaces invalid UTF-8. Two parsers that resolve such a document
// differently are a classic bypass (a gateway sees one user, the server
// another), so latchkey refuses all of these before binding.
package jsonx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
)

// MaxDepth bounds nesting; no latchkey document comes close.
const MaxDepth = 32

// Decode decodes exactly one JSON object from data into v, refusing
// invalid UTF-8, NUL characters in strings, duplicate or case-variant
// members, unknown fields, wrong types, deep nesting and trailing data.
// Every refusal is a latchkey EInvalidRequest error with a message a client
// can act on.
func Decode(data []byte, v any) error {
	if err := Check(data); err != nil {
		return err
	}
	if err := exactNames(data, reflect.TypeOf(v)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return describe(err)
	}
	return nil
}

// Check validates the shape of data without binding it: one JSON object,
// valid UTF-8, no NUL in strings, no duplicate or case-variant member names
// at any level, at most MaxDepth deep, nothing after the object.
func Check(data []byte) error {
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

// describe turns a decoding error into a client-safe message.
func describe(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		if typeErr.Field != "" {
			return invalid(fmt.Sprintf("The field %q must be %s.", typeErr.Field, kind(typeErr.Type.Kind().String())))
		}
		return invalid("The request body has the wrong type.")
	case errors.As(err, &syntaxErr):
		return invalid("The request body is not valid JSON.")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return invalid(fmt.Sprintf("The field %s is not allowed here.", strings.TrimPrefix(err.Error(), "json: unknown field ")))
	}
	return invalid("The request body could not be decoded.")
}

func kind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "bool":
		return "true or false"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "a number"
	}
	return "of another type"
}

func invalid(msg string) error { return latchkey.Errorf(latchkey.EInvalidRequest, "%s", msg) }
