//go:build unix

package extract

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// BenchmarkOCRLanguages is the cost of the languages tesseract reads an
// image in: one run per op, on one thread, as the extractor runs it. Besides
// the time per run it reports tesseract's own CPU time per run (cpu-ms/op),
// which other work on the machine does not inflate.
func BenchmarkOCRLanguages(b *testing.B) {
	requireTesseractGerman(b)
	o := newOCREngine("", "")
	for _, img := range []string{"images/text.png", "ocr/deu.png"} {
		data := testdataFile(b, img)
		for _, langs := range []string{"eng", "deu", "eng+deu"} {
			b.Run(filepath.Base(img)+"/"+langs, func(b *testing.B) {
				b.ReportAllocs()
				before := childCPU(b)
				for b.Loop() {
					if _, err := o.tesseract(context.Background(), data, 0, langs); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64((childCPU(b)-before).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			})
		}
	}
}

// childCPU is the CPU time this process's ended children have used.
func childCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
