// Package quire holds what the binary takes from the repository itself:
// the sample documents `quire up --demo` feeds, so that a demo works from
// any directory. Quire's code lives in the packages below this one.
package quire

import "embed"

// Samples are the demo's sample documents: the committed test documents of
// every kind Quire reads (testdata/README.md gives their sources and
// licences), none of the hostile ones. Read them through fs.Sub(Samples,
// "testdata").
//
//go:embed testdata/text testdata/office testdata/pdf testdata/email testdata/html testdata/images
var Samples embed.FS
