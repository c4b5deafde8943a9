package extract

import (
	"context"
	"testing"
)

// BenchmarkLegacy compares the legacy binary formats with their modern
// counterparts on the same content (testdata/formats/legacy's files are
// LibreOffice's conversions of testdata/office's): documents/s is the
// figure the pipeline sees.
//
//	go test ./extract/ -run '^$' -bench Legacy -benchtime 2s
func BenchmarkLegacy(b *testing.B) {
	pairs := []struct{ name, file string }{
		{"doc", "formats/legacy/udhr.doc"},
		{"docx", "office/udhr.docx"},
		{"xls", "formats/legacy/sotu.xls"},
		{"xlsx", "office/sotu.xlsx"},
		{"ppt", "formats/legacy/udhr.ppt"},
		{"pptx", "office/udhr.pptx"},
	}
	x := New(Config{})
	for _, p := range pairs {
		data := testdataFile(b, p.file)
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := x.Extract(context.Background(), &Input{Name: p.file, Data: data}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
		})
	}
}
