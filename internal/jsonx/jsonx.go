// Package jsonx decodes untrusted JSON request bodies strictly: the shape
// checks of jsoncheck (no duplicate or case-variant members, valid UTF-8,
// bounded depth), member names matched exactly, unknown fields refused,
// and every refusal a latchkey invalid_request error.
package jsonx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/jsoncheck"
)

// Decode decodes exactly one JSON object from data into v, refusing
// invalid UTF-8, NUL characters in strings, duplicate or case-variant
// members, unknown fields, wrong types, deep nesting and trailing data.
// Every refusal is a latchkey EInvalidRequest error with a message a client
// can act on.
func Decode(data []byte, v any) error {
	if err := jsoncheck.Check(data); err != nil {
		return invalid(err.Error())
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
