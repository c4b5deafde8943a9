package testdocs

import (
	"archive/zip"
	"bytes"
	"fmt"
)

// Zip builds a ZIP archive of name, content pairs, in order: Zip("a.txt",
// "text", "b.bin", []byte{...}). It panics on anything else, a test's own
// mistake.
func Zip(members ...any) []byte {
	if len(members)%2 != 0 {
		panic("testdocs.Zip: members come in name, content pairs")
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i < len(members); i += 2 {
		name, ok := members[i].(string)
		if !ok {
			panic(fmt.Sprintf("testdocs.Zip: member %d's name is a %T", i/2, members[i]))
		}
		w, err := zw.Create(name)
		if err != nil {
			panic(err)
		}
		switch d := members[i+1].(type) {
		case string:
			_, err = w.Write([]byte(d))
		case []byte:
			_, err = w.Write(d)
		default:
			panic(fmt.Sprintf("testdocs.Zip: %s's content is a %T", name, d))
		}
		if err != nil {
			panic(err)
		}
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}
