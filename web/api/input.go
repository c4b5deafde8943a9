package api

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"
)

// errBadText: text a store cannot hold. PostgreSQL refuses NUL bytes and
// invalid UTF-8 in any text parameter; without this check such input would
// reach it as a filter or an id and come back as a server error.
var errBadText = errors.New("holds a NUL byte or invalid UTF-8")

// checkText reports text no store can hold.
func checkText(what, s string) error {
	if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
		return fmt.Errorf("%s %q %w", what, s, errBadText)
	}
	return nil
}

// checkURL checks the request's path and query parameters: every route's
// ids and filters come from them.
func checkURL(r *http.Request) error {
	if err := checkText("the path", r.URL.Path); err != nil {
		return err
	}
	for k, vs := range r.URL.Query() {
		if err := checkText("the query parameter name", k); err != nil {
			return err
		}
		for _, v := range vs {
			if err := checkText("the query parameter "+k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkStrings checks every string a decoded JSON body holds (encoding/json
// already replaced invalid UTF-8, but lets "\u0000" through).
func checkStrings(v any) error {
	return walkStrings(reflect.ValueOf(v), func(s string) error { return checkText("a string of the body", s) })
}

func walkStrings(v reflect.Value, check func(string) error) error {
	switch v.Kind() {
	case reflect.String:
		return check(v.String())
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return walkStrings(v.Elem(), check)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				if err := walkStrings(v.Field(i), check); err != nil {
					return err
				}
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := walkStrings(v.Index(i), check); err != nil {
				return err
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if err := walkStrings(it.Key(), check); err != nil {
				return err
			}
			if err := walkStrings(it.Value(), check); err != nil {
				return err
			}
		}
	}
	return nil
}
