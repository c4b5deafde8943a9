package ui

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// errBadText: text no store can hold. PostgreSQL refuses NUL bytes and
// invalid UTF-8 in any text parameter; without this check such input would
// reach it as a filter, an id or a form's value and come back as a server
// error instead of the client's mistake.
var errBadText = errors.New("holds a NUL byte or invalid UTF-8")

// checkInput checks the request's path, query and form (once parsed): every
// page's ids, filters and form values come from them.
func checkInput(r *http.Request) error {
	if err := checkText("the path", r.URL.Path); err != nil {
		return err
	}
	for what, values := range map[string]map[string][]string{"query parameter": r.URL.Query(), "form field": r.PostForm} {
		for k, vs := range values {
			if err := checkText("the "+what+" name", k); err != nil {
				return err
			}
			for _, v := range vs {
				if err := checkText("the "+what+" "+k, v); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func checkText(what, s string) error {
	if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
		return fmt.Errorf("%s %q %w", what, s, errBadText)
	}
	return nil
}
